import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { jumprelu as jumpreluFactory } from "../../src/dictionaries/jumprelu.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";

function randomParams(dIn: number, width: number, seed: number, bandwidth = 0.001): Params {
  const rng = new Rng(seed);
  const init = jumpreluFactory({ bandwidth }).init(dIn, width, rng);
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
 * row inside the kernel window |π − θ| < ε/2 (firing or not) and ∂L/∂θ is exercised.
 */
function thresholdsInWindow(x: tf.Tensor2D, p: Params, eps: number, rng: Rng): tf.Tensor1D {
  const pre = tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc).arraySync() as number[][];
  const width = pre[0].length;
  const theta = new Float32Array(width).fill(0.001);
  for (let i = 0; i < width; i++) {
    const rows = pre.map((r) => r[i]).filter((v) => v > eps);
    if (rows.length) theta[i] = rows[rng.int(rows.length)] + (i % 2 ? 0.25 : -0.25) * eps;
  }
  return tf.log(tf.tensor1d(theta));
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
}

test("jumprelu: init and option defaults follow SAELens (θ = 0.001, ε = 0.001)", () => {
  const arch = jumpreluFactory({});
  assert.deepEqual(arch.options, { bandwidth: 0.001, thresholdInit: 0.001 });
  assert.equal(arch.saeLensName, "jumprelu");
  const init = jumpreluFactory({ thresholdInit: 0.05 }).init(4, 6, new Rng(0));
  assert.deepEqual(Object.keys(init).sort(), ["W_dec", "W_enc", "b_dec", "b_enc", "log_threshold"]);
  assert.ok(init.log_threshold.values.every((v) => Math.abs(v - Math.log(0.05)) < 1e-6));
  for (let i = 0; i < 6; i++) {
    let n = 0;
    for (let j = 0; j < 4; j++) n += init.W_dec.values[i * 4 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 0.1) < 1e-6);
  }
});

test("jumprelu: forward pass and pseudo-derivatives match the formulas computed by hand", async () => {
  await ready();
  const eps = 0.1, l1 = 0.3;
  const arch = jumpreluFactory({ bandwidth: eps });
  const W = [[1, 0, 0.5], [0, 1, -1]], be = [0, 0.1, 0.2], bd = [0.1, -0.1], theta = [0.48, 0.38, 0.17];
  const D = [[0.5, 0.1], [-0.2, 0.4], [0.3, 0.3]];
  const xs = [[0.6, 0.2], [0.3, 0.9]];
  const p: Params = {
    W_enc: tf.tensor2d(W), W_dec: tf.tensor2d(D), b_enc: tf.tensor1d(be), b_dec: tf.tensor1d(bd),
    log_threshold: tf.log(tf.tensor1d(theta)),
  };
  const x = tf.tensor2d(xs);
  const res = arch.step(x, p, { l1 });
  const f = arch.encode(x, p).arraySync();
  const xHat = res.reconstruction.arraySync();
  const gLog = res.grads.log_threshold.arraySync() as number[];
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
  assert.ok(gTheta.every((g) => g !== 0), "the example puts rows inside the kernel window");
  assert.ok(Math.abs(res.loss.dataSync()[0] - loss) < 1e-5);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(gLog[i] - theta[i] * gTheta[i]) < 1e-5, `∂L/∂logθ_${i}: ${gLog[i]} vs ${theta[i] * gTheta[i]}`);
});

test("jumprelu: hand-written backward pass agrees with autodiff through tf.customGrad (relative error < 1e-4)", async () => {
  await forEachEngine(async () => {
    await ready();
    const cases = [[16, 8, 32, 0.7, 0.001], [64, 24, 96, 3, 0.05], [5, 3, 7, 0, 0.001], [40, 6, 12, 0.02, 0.01]] as const;
    for (const [B, dIn, width, l1, eps] of cases) {
      const arch = jumpreluFactory({ bandwidth: eps });
      const p = randomParams(dIn, width, B, eps);
      const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
      p.log_threshold = thresholdsInWindow(x, p, eps, new Rng(B + 2));
      const res = arch.step(x, p, { l1 });
      const names = Object.keys(p);
      const lossOf = (...ts: tf.Tensor[]) => arch.referenceLoss(x, Object.fromEntries(names.map((n, i) => [n, ts[i]])), { l1 });
      const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
      assert.ok(relErr(res.loss, value) < 1e-5, `loss differs for B=${B}`);
      names.forEach((n, i) => {
        const e = relErr(res.grads[n], grads[i]);
        assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (B=${B}, d=${dIn}, h=${width}, ε=${eps})`);
      });
      const gLog = res.grads.log_threshold.dataSync();
      assert.ok(gLog.filter((g) => g !== 0).length >= width / 2, "the threshold gradient is exercised");
      const active = tf.sum(tf.cast(tf.greater(res.features, 0), "float32")).dataSync()[0];
      assert.ok(active > 0 && active < B * width, "some features active, some not");
    }
  });
});

test("jumprelu: options are validated with the option's name and what is allowed", () => {
  for (const bad of [0, -1, Number.NaN, Infinity, "0.1"]) {
    assert.throws(() => jumpreluFactory({ bandwidth: bad }), /jumprelu: option 'bandwidth' must be a finite number > 0/);
    assert.throws(() => jumpreluFactory({ thresholdInit: bad }), /jumprelu: option 'thresholdInit' must be a finite number > 0/);
  }
  assert.throws(() => dictionary("jumprelu", { width: 8, bandwidth: -0.1 }), /option 'bandwidth'.*got -0\.1/);
  assert.deepEqual(jumpreluFactory({ bandwidth: 0.05, thresholdInit: 0.02 }).options, { bandwidth: 0.05, thresholdInit: 0.02 });
});

test("jumprelu: recovers known ground-truth features", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  // With the SAELens defaults (θ = ε = 0.001) thresholds cannot climb to this data's scale in a few
  // thousand steps (log θ moves ~lr per Adam step): start them nearer, with a matching bandwidth.
  const spec = dictionary("jumprelu", { width: 96, l1: 0.02, thresholdInit: 0.02, bandwidth: 0.02 });
  const sae = await spec.fit(toy.acts, { steps: 2000, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const m = sae.metrics(toy.acts);
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(m.l0 > 1 && m.l0 < 6, `L0 ${m.l0}`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  assert.ok(sae.history[sae.history.length - 1].loss < sae.history[0].loss, "loss went down");
});
