import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { jumprelu as jumpreluFactory } from "../../src/dictionaries/jumprelu.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { loadSaeLens } from "../../src/dictionaries/saelens-folder.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";
import { checkUnprojectedGradients } from "./gradcheck.js";
import { scratchDir } from "../python.js";

function randomParams(dIn: number, width: number, seed: number): Params {
  const rng = new Rng(seed);
  const init = jumpreluFactory({}).init(dIn, width, rng);
  const p: Params = {};
  for (const [k, t] of Object.entries(init)) p[k] = tf.tensor(t.values, t.shape);
  // Away from the symmetric init so every gradient term is exercised.
  p.W_enc = tf.add(p.W_enc, tf.tensor(rng.normals(dIn * width), [dIn, width]).mul(0.05));
  p.W_dec = tf.add(p.W_dec, tf.tensor(rng.normals(dIn * width), [width, dIn]).mul(0.05));
  p.b_enc = tf.tensor(rng.normals(width), [width]).mul(0.05);
  p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
  return p;
}

/**
 * Thresholds placed ±ε/4 from one positive pre-activation of each feature, so every feature has a
 * row inside the kernel window |π − θ| < ε/2 (firing or not) and ∂L/∂θ is exercised; every fifth
 * threshold is negative (θ⁺ = ReLU(θ) = 0: a plain ReLU, and no gradient to θ).
 */
function thresholdsInWindow(x: tf.Tensor2D, p: Params, eps: number, rng: Rng): tf.Tensor1D {
  const pre = tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc).arraySync() as number[][];
  const width = pre[0].length;
  const theta = new Float32Array(width).fill(0.001);
  for (let i = 0; i < width; i++) {
    const rows = pre.map((r) => r[i]).filter((v) => v > eps);
    if (rows.length) theta[i] = rows[rng.int(rows.length)] + (i % 2 ? 0.25 : -0.25) * eps;
    if (i % 5 === 4) theta[i] = -0.02;
  }
  return tf.tensor1d(theta);
}

test("jumprelu: init and option defaults follow SAELens (θ = 0.01 trained directly, ε = 0.05, step loss)", () => {
  const arch = jumpreluFactory({});
  assert.deepEqual(arch.options, { initThreshold: 0.01, bandwidth: 0.05, sparsityLossMode: "step", tanhScale: 4 });
  assert.equal(arch.saeLensName, "jumprelu");
  const init = jumpreluFactory({ initThreshold: 0.05 }).init(4, 6, new Rng(0));
  assert.deepEqual(Object.keys(init).sort(), ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"]);
  assert.ok(init.threshold.values.every((v) => Math.abs(v - 0.05) < 1e-7));
  for (let i = 0; i < 6; i++) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      n += init.W_dec.values[i * 4 + j] ** 2;
      assert.equal(init.W_enc.values[j * 6 + i], init.W_dec.values[i * 4 + j], "W_enc = W_decᵀ");
    }
    assert.ok(Math.abs(Math.sqrt(n) - 0.1) < 1e-6, "decoder rows of norm 0.1");
  }
});

test("jumprelu: forward pass and pseudo-derivatives match the formulas computed by hand", async () => {
  await ready();
  const eps = 0.1, l1 = 0.3;
  const arch = jumpreluFactory({ bandwidth: eps });
  const W = [[1, 0, 0.5], [0, 1, -1]], be = [0, 0.1, 0.2], bd = [0.1, -0.1], theta = [0.48, 0.38, 0.17];
  const D = [[0.5, 0.1], [-0.2, 0.4], [0.3, 0.3]];
  const xs = [[0.6, 0.2], [0.3, 0.9]];
  const p: Params = { W_enc: tf.tensor2d(W), W_dec: tf.tensor2d(D), b_enc: tf.tensor1d(be), b_dec: tf.tensor1d(bd), threshold: tf.tensor1d(theta) };
  const x = tf.tensor2d(xs);
  const res = arch.step(x, p, { l1 });
  const f = arch.encode(x, p).arraySync();
  const xHat = res.reconstruction.arraySync();
  const g = res.grads.threshold.arraySync() as number[];
  const B = 2;
  let loss = 0;
  const gTheta = [0, 0, 0];
  const fHand: number[][] = [];
  for (let b = 0; b < B; b++) {
    const pre = [0, 1, 2].map((i) => be[i] + (xs[b][0] - bd[0]) * W[0][i] + (xs[b][1] - bd[1]) * W[1][i]);
    fHand.push(pre.map((v, i) => (v > theta[i] ? v : 0)));
    const err = [0, 1].map((j) => bd[j] + fHand[b].reduce((s, v, i) => s + v * D[i][j], 0) - xs[b][j]);
    loss += (err[0] ** 2 + err[1] ** 2 + l1 * fHand[b].filter((v) => v > 0).length) / B;
    for (let i = 0; i < 3; i++) {
      if (Math.abs(pre[i] - theta[i]) >= eps / 2) continue;
      const gF = (2 / B) * (err[0] * D[i][0] + err[1] * D[i][1]);
      gTheta[i] += -(theta[i] / eps) * gF - l1 / (B * eps); // ∂f/∂θ and ∂H/∂θ
    }
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(xHat[b][j] - (err[j] + xs[b][j])) < 1e-6);
  }
  for (let b = 0; b < B; b++) for (let i = 0; i < 3; i++) assert.ok(Math.abs(f[b][i] - fHand[b][i]) < 1e-6, `f[${b}][${i}]`);
  assert.ok(fHand.flat().some((v) => v === 0) && fHand.flat().some((v) => v > 0), "some fire, some do not");
  assert.ok(gTheta.every((v) => v !== 0), "the example puts rows inside the kernel window");
  assert.ok(Math.abs(res.loss.dataSync()[0] - loss) < 1e-5);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(g[i] - gTheta[i]) < 1e-5, `∂L/∂θ_${i}: ${g[i]} vs ${gTheta[i]}`);
  // A negative threshold is ReLU(θ) = 0, as SAELens encodes: the feature is a plain ReLU.
  const relu = arch.encode(x, { ...p, threshold: tf.tensor1d([-0.5, -0.5, -0.5]) }).dataSync();
  const pre = tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc).relu().dataSync();
  assert.ok(pre.every((v, i) => v === relu[i]) && pre.some((v) => v === 0), `${relu} vs ReLU ${pre}`);
});

test("jumprelu: hand-written backward passes agree with autodiff for every sparsity loss, with and without the pre-activation loss (relative error < 1e-4)", async () => {
  await forEachEngine(async () => {
    await ready();
    const cases = [
      [16, 8, 32, 0.7, 0.001, "step", undefined],
      [64, 24, 96, 3, 0.05, "step", 0.5],
      [5, 3, 7, 0, 0.001, "step", undefined],
      [40, 6, 12, 0.02, 0.01, "tanh", undefined],
      [32, 12, 40, 0.4, 0.05, "tanh", 0.3],
      [24, 10, 30, 0, 0.02, "tanh", 2],
    ] as const;
    for (const [B, dIn, width, l1, eps, sparsityLossMode, preActLossCoefficient] of cases) {
      const what = `B=${B}, d=${dIn}, h=${width}, λ=${l1}, ε=${eps}, ${sparsityLossMode}, pre-act ${preActLossCoefficient ?? "off"}`;
      const arch = jumpreluFactory({ bandwidth: eps, sparsityLossMode, tanhScale: 2.5, ...(preActLossCoefficient === undefined ? {} : { preActLossCoefficient }) });
      const p = randomParams(dIn, width, B);
      const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
      p.threshold = thresholdsInWindow(x, p, eps, new Rng(B + 2));
      const dead = tf.tensor1d(Array.from({ length: width }, (_, i) => (i % 3 === 0 ? 1 : 0)));
      const opts = { l1, dead };
      const res = checkUnprojectedGradients(arch, p, x, opts, what);
      const gTheta = res.grads.threshold.dataSync();
      const theta = p.threshold.dataSync();
      assert.ok(gTheta.filter((v) => v !== 0).length >= width / 2, `the threshold gradient is exercised (${what})`);
      assert.ok(theta.every((t, i) => t > 0 || gTheta[i] === 0), "a negative threshold gets no gradient");
      if (preActLossCoefficient !== undefined) assert.ok(res.terms.preAct.dataSync()[0] > 0, `the pre-activation loss is exercised (${what})`);
    }
  });
});

test("jumprelu: options are validated with the option's name and what is allowed", () => {
  for (const bad of [0, -1, Number.NaN, Infinity, "0.1"]) {
    assert.throws(() => jumpreluFactory({ bandwidth: bad }), /jumprelu: option 'bandwidth' must be a finite number > 0/);
    assert.throws(() => jumpreluFactory({ initThreshold: bad }), /jumprelu: option 'initThreshold' must be a finite number > 0/);
    assert.throws(() => jumpreluFactory({ tanhScale: bad }), /jumprelu: option 'tanhScale' must be a finite number > 0/);
  }
  assert.throws(() => jumpreluFactory({ preActLossCoefficient: -1 }), /option 'preActLossCoefficient' must be a finite number ≥ 0 \(default off\); got -1/);
  assert.throws(() => jumpreluFactory({ sparsityLossMode: "l1" }), /option 'sparsityLossMode' must be one of "step", "tanh" \(default "step"\); got "l1"/);
  assert.throws(() => dictionary("jumprelu", { width: 8, bandwidth: -0.1 }), /option 'bandwidth'.*got -0\.1/);
  assert.throws(() => dictionary("jumprelu", { width: 8, thresholdInit: 0.1 }), /unknown option 'thresholdInit'/);
  const arch = jumpreluFactory({ bandwidth: 0.02, initThreshold: 0.1, sparsityLossMode: "tanh", tanhScale: 2, preActLossCoefficient: 3e-6 });
  assert.deepEqual(arch.options, { bandwidth: 0.02, initThreshold: 0.1, sparsityLossMode: "tanh", tanhScale: 2, preActLossCoefficient: 3e-6 });
});

test("jumprelu: recovers known ground-truth features", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  const spec = dictionary("jumprelu", { width: 96, l1: 0.01 });
  const sae = await spec.fit(toy.acts, { steps: 2000, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const m = sae.metrics(toy.acts);
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(m.l0 > 1 && m.l0 < 6, `L0 ${m.l0}`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  assert.ok(sae.history[sae.history.length - 1].loss < sae.history[0].loss, "loss went down");
  sae.dispose();
});

const dir = scratchDir("featurelab-jumprelu-");

test("jumprelu saves as SAELens does (threshold [d_sae], its training options in cfg.json metadata) and loads back", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 512, features: 16, dim: 8, avgActive: 2, seed: 1 });
  const sae = await dictionary("jumprelu", { width: 16, l1: 0.02, sparsityLossMode: "tanh" }).fit(toy.acts, { steps: 20, batchSize: 64, seed: 0, progress: false });
  const folder = join(dir, "jumprelu");
  await sae.save(folder, { metadata: { hook_name: "blocks.0.hook_resid_post" } });
  const cfg = JSON.parse(readFileSync(join(folder, "cfg.json"), "utf8"));
  assert.equal(cfg.architecture, "jumprelu");
  assert.deepEqual(cfg.metadata, {
    training_architecture: "jumprelu",
    training_architecture_details: {
      jumprelu_init_threshold: 0.01,
      jumprelu_bandwidth: 0.05,
      jumprelu_sparsity_loss_mode: "tanh",
      l0_coefficient: 0.02,
      pre_act_loss_coefficient: null,
      jumprelu_tanh_scale: 4,
      decoder_init_norm: 0.1,
    },
    hook_name: "blocks.0.hook_resid_post",
  });
  const saved = readSafetensors(readFileSync(join(folder, "sae_weights.safetensors"))).tensors;
  assert.deepEqual(Object.keys(saved).sort(), ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"]);
  assert.deepEqual(Array.from(saved.threshold.data as Float32Array), Array.from(sae.params.threshold.dataSync()));
  const back = await loadSaeLens(folder);
  assert.equal(back.arch.name, "jumprelu");
  assert.equal(back.arch.options.sparsityLossMode, "tanh");
  assert.deepEqual(back.encode(toy.acts).toDense(), sae.encode(toy.acts).toDense());
  sae.dispose();
});

test("jumprelu: folders of older versions load — featurelab's recorded thresholdInit, SAELens' log_threshold", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 256, features: 16, dim: 8, avgActive: 2, seed: 2 });
  const sae = await dictionary("jumprelu", { width: 12, l1: 0.01 }).fit(toy.acts, { steps: 10, batchSize: 64, seed: 0, progress: false });
  const folder = join(dir, "old");
  await sae.save(folder);
  const cfg = JSON.parse(readFileSync(join(folder, "cfg.json"), "utf8"));
  // As featurelab wrote it before the threshold was trained directly.
  delete cfg.metadata;
  const { initThreshold: _i, sparsityLossMode: _s, tanhScale: _t, ...older } = cfg.featurelab;
  cfg.featurelab = { ...older, bandwidth: 0.001, thresholdInit: 0.001 };
  writeFileSync(join(folder, "cfg.json"), JSON.stringify(cfg));
  const theta = sae.params.threshold.dataSync() as Float32Array;
  const fromFeaturelab = await loadSaeLens(folder);
  assert.deepEqual(fromFeaturelab.params.threshold.dataSync(), theta);
  assert.equal(fromFeaturelab.arch.options.bandwidth, 0.001);
  // A state dict holding log θ (SAELens before 6.48 trained it; its loader converts it, as featurelab's).
  const t = readSafetensors(readFileSync(join(folder, "sae_weights.safetensors"))).tensors;
  const { threshold, ...rest } = t;
  const logTheta = Float32Array.from(threshold.data as Float32Array, Math.log);
  writeFileSync(join(folder, "sae_weights.safetensors"), writeSafetensors({ ...rest, log_threshold: { dtype: "float32", shape: threshold.shape, data: logTheta } }));
  const fromLog = await loadSaeLens(folder);
  const back = fromLog.params.threshold.dataSync();
  for (let i = 0; i < theta.length; i++) assert.ok(Math.abs(back[i] - theta[i]) < 1e-6 * (1 + theta[i]), `θ_${i}: ${back[i]} vs ${theta[i]}`);
  sae.dispose();
});
