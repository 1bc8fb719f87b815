import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { sideBySide } from "../../src/data/paired.js";
import { crossLayerTranscoder, cltLayout } from "../../src/dictionaries/cross-layer-transcoder.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { dictionary } from "../../src/training/spec.js";
import { relErr } from "./gradcheck.js";
import { forEachEngine } from "../engines.js";

/** The masks the architecture keeps: W_enc block-diagonal, W_dec from layer l to l' ≥ l (l' = l for a PLT). */
function expectedMasks(L: number, n: number, d: number, dOut: number, crossLayer: boolean) {
  const enc = tf.buffer([L * d, L * n]), dec = tf.buffer([L * n, L * dOut]);
  for (let l = 0; l < L; l++) {
    for (let r = 0; r < d; r++) for (let i = 0; i < n; i++) enc.set(1, l * d + r, l * n + i);
    for (let i = 0; i < n; i++) for (let m = l; m < (crossLayer ? L : l + 1); m++) for (let j = 0; j < dOut; j++) dec.set(1, l * n + i, m * dOut + j);
  }
  return { enc: enc.toTensor(), dec: dec.toTensor() };
}

test("clt: hand-written gradients agree with autodiff on the kept blocks and are zero outside them (tanh and step sparsity, pre-activation loss)", async () => {
  await ready();
  for (const [crossLayer, mode, L] of [[true, "tanh", 3], [false, "tanh", 2], [true, "step", 2]] as const) {
    const n = 7, d = 5, dOut = 4, B = 24;
    const arch = crossLayerTranscoder({ nLayers: L, crossLayer, sparsityLossMode: mode, preActLossCoefficient: 0.3, bandwidth: 0.5, d_out: L * dOut });
    const rng = new Rng(L * 10 + (crossLayer ? 1 : 0));
    const p: Params = {};
    for (const [k, t] of Object.entries(arch.init(L * d, L * n, rng))) p[k] = tf.tensor(t.values, t.shape);
    const mask = expectedMasks(L, n, d, dOut, crossLayer);
    // Weights outside the blocks start at exactly zero.
    assert.equal(tf.sum(tf.abs(tf.mul(p.W_enc, tf.sub(1, mask.enc)))).dataSync()[0], 0);
    assert.equal(tf.sum(tf.abs(tf.mul(p.W_dec, tf.sub(1, mask.dec)))).dataSync()[0], 0);
    // Away from the initialisation, so that every term (and the threshold window) is exercised.
    p.W_enc = tf.mul(tf.add(p.W_enc, tf.tensor(rng.normals(L * d * L * n), [L * d, L * n]).mul(0.4)), mask.enc);
    p.b_enc = tf.tensor(rng.normals(L * n), [L * n]).mul(0.1);
    p.b_dec = tf.tensor(rng.normals(L * dOut), [L * dOut]).mul(0.1);
    p.threshold = tf.tensor(Array.from({ length: L * n }, (_, i) => (i % 5 === 0 ? -0.1 : 0.05 + 0.02 * (i % 4))), [L * n]);
    const x = tf.tensor2d(rng.normals(B * L * d), [B, L * d]);
    const y = tf.tensor2d(rng.normals(B * L * dOut), [B, L * dOut]);
    const dead = tf.tensor1d(Array.from({ length: L * n }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    const opts = { l1: 0.7, target: y, dead };
    const res = arch.step(x, p, opts);
    const names = Object.keys(res.grads);
    const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => arch.referenceLoss(x, { ...p, ...Object.fromEntries(names.map((k, i) => [k, ts[i]])) }, opts))(names.map((k) => p[k]));
    assert.ok(relErr(res.loss, value) < 1e-5, `${mode}: loss ${res.loss.dataSync()[0]} vs ${value.dataSync()[0]}`);
    names.forEach((k, i) => {
      const expected = k === "W_enc" ? tf.mul(grads[i], mask.enc) : k === "W_dec" ? tf.mul(grads[i], mask.dec) : grads[i];
      const e = relErr(res.grads[k], expected);
      assert.ok(e < 1e-4, `L ${L}, crossLayer ${crossLayer}, ${mode}: ∂L/∂${k} relative error ${e}`);
    });
    assert.equal(tf.sum(tf.abs(tf.mul(res.grads.W_dec, tf.sub(1, mask.dec)))).dataSync()[0], 0, "no gradient to a decoder block the architecture lacks");
    // The sparsity penalty sees each feature's decoders to all its layers, concatenated.
    if (mode === "tanh") {
      const f = arch.encode(x, p);
      const norms = tf.norm(p.W_dec, "euclidean", 1);
      const penalty = tf.mean(tf.sum(tf.tanh(tf.mul(tf.mul(f, norms), 4)), 1)).dataSync()[0];
      assert.ok(Math.abs(res.terms.l1.dataSync()[0] - penalty) < 1e-5 * Math.max(1, penalty));
    }
  }
});

test("clt: options are checked, and sizes that do not split into layers are named", () => {
  assert.throws(() => crossLayerTranscoder({}), /clt: option 'nLayers'.*whole number ≥ 1/);
  assert.throws(() => crossLayerTranscoder({ nLayers: 2, crossLayer: "yes" }), /crossLayer' must be true/);
  assert.throws(() => crossLayerTranscoder({ nLayers: 2, sparsityLossMode: "l1" }), /clt: option 'sparsityLossMode' must be one of "step", "tanh" \(default "tanh"\)/);
  assert.throws(() => crossLayerTranscoder({ nLayers: 2, tanhScale: -1 }), /clt: option 'tanhScale'/);
  assert.throws(() => crossLayerTranscoder({ nLayers: 2, bandwith: 0.1 }), /bandwith/);
  assert.throws(() => cltLayout(3, true, 12, 10, 12), /width 10 does not split into 3 layers/);
  assert.throws(() => crossLayerTranscoder({ nLayers: 3 }).init(10, 12, new Rng(0)), /input width 10 does not split into 3 layers/);
});

/**
 * Two layers where layer 1's output depends on a sparse code of layer 0's input, and layer 1's own
 * input carries nothing about it: only a feature that reads layer 0 and writes to layer 1 can predict
 * it. A CLT can; per-layer transcoders cannot.
 */
function crossLayerToy(rows: number, seed: number) {
  const rng = new Rng(seed);
  const d = 8, k = 12; // 12 sparse causes in 8 dimensions
  const dirs = Array.from({ length: k }, () => {
    const v = rng.normals(d);
    const s = Math.hypot(...v);
    return v.map((x) => x / s);
  });
  const out0 = Array.from({ length: k }, () => rng.normals(d).map((x) => x * 0.5));
  const out1 = Array.from({ length: k }, () => rng.normals(d).map((x) => x * 0.5));
  const x0 = new Float32Array(rows * d), x1 = new Float32Array(rows * d), y0 = new Float32Array(rows * d), y1 = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) x1[r * d + j] = rng.normal();
    for (let c = 0; c < k; c++) {
      if (rng.uniform() >= 0.15) continue;
      const a = 0.5 + rng.uniform();
      for (let j = 0; j < d; j++) {
        x0[r * d + j] += a * dirs[c][j];
        y0[r * d + j] += a * out0[c][j];
        y1[r * d + j] += a * out1[c][j];
      }
    }
  }
  return { d, input: sideBySide([fromVectors(x0, d), fromVectors(x1, d)]), output: sideBySide([fromVectors(y0, d), fromVectors(y1, d)]), y1: fromVectors(y1, d) };
}

test("clt: features that read layer 0 predict layer 1's output, which per-layer transcoders cannot; the missing blocks stay exactly zero", async () => {
  await ready();
  const toy = crossLayerToy(4096, 3);
  const fitOpts = { steps: 700, batchSize: 256, lr: 3e-3, seed: 0, progress: false } as const;
  const fvu1 = (dict: Awaited<ReturnType<ReturnType<typeof dictionary>["fit"]>>) => {
    // FVU of layer 1's prediction alone.
    const yHat = tf.tidy(() => dict.decodeTensor(dict.encodeTensor(tf.tensor2d(toy.input.vectors, [toy.input.numRows, toy.input.dim]))));
    const pred = tf.slice(yHat, [0, toy.d], [-1, toy.d]);
    const y = tf.tensor2d(toy.y1.vectors, [toy.y1.numRows, toy.d]);
    const res = tf.sum(tf.square(tf.sub(pred, y))).dataSync()[0];
    const tot = tf.sum(tf.square(tf.sub(y, tf.mean(y, 0)))).dataSync()[0];
    return res / tot;
  };
  const clt = await dictionary("clt", { width: 48, l1: 0.02, nLayers: 2 }).fit({ input: toy.input, output: toy.output }, fitOpts);
  const plt = await dictionary("clt", { width: 48, l1: 0.02, nLayers: 2, crossLayer: false }).fit({ input: toy.input, output: toy.output }, fitOpts);
  const [cltFvu, pltFvu] = [fvu1(clt), fvu1(plt)];
  if (process.env.FL_PRINT) console.log({ cltFvu, pltFvu, l0: clt.metrics({ input: toy.input, output: toy.output }).l0 });
  assert.ok(cltFvu < 0.3, `CLT: FVU of layer 1's output ${cltFvu}`);
  assert.ok(pltFvu > 0.9, `PLT: FVU of layer 1's output ${pltFvu} (its layer-1 features see only noise)`);
  const m = clt.metrics({ input: toy.input, output: toy.output });
  assert.ok(m.l0 > 0.5 && m.l0 < 16, `CLT L0 ${m.l0}`);
  const mask = expectedMasks(2, 24, toy.d, toy.d, true);
  for (const [dict, cross] of [[clt, true], [plt, false]] as const) {
    const mk = cross ? mask : expectedMasks(2, 24, toy.d, toy.d, false);
    assert.equal(tf.sum(tf.abs(tf.mul(dict.weights.W_enc, tf.sub(1, mk.enc)))).dataSync()[0], 0, "encoder blocks across layers stay 0");
    assert.equal(tf.sum(tf.abs(tf.mul(dict.weights.W_dec, tf.sub(1, mk.dec)))).dataSync()[0], 0, "decoder blocks to earlier layers stay 0");
  }
  await assert.rejects(dictionary("clt", { width: 48, nLayers: 3 }).fit({ input: toy.input, output: toy.output }, fitOpts), /input width 16 does not split into 3 layers/);
});

test("clt: the native engine's fused step and the tfjs step train the same CLT from the same seed (FVU, L0, θ within 1e-3)", async () => {
  await ready();
  const toy = crossLayerToy(2048, 5);
  const results: Record<string, { fvu: number; l0: number; theta: number; trainer: string }> = {};
  await forEachEngine(async (e) => {
    const d = await dictionary("clt", { width: 48, l1: 0.02, nLayers: 2 }).fit({ input: toy.input, output: toy.output }, { steps: 150, batchSize: 256, lr: 3e-3, seed: 1, progress: false });
    const m = d.metrics({ input: toy.input, output: toy.output });
    results[e] = { fvu: m.fvu, l0: m.l0, theta: tf.mean(d.weights.threshold).dataSync()[0], trainer: (d.cfg.training as { engine: string }).engine };
    d.dispose();
  });
  if (!results.native) return; // the addon is not built: nothing to compare
  const [a, b] = [results.native, results.wasm];
  const what = JSON.stringify(results);
  assert.equal(a.trainer, "native", what);
  assert.equal(b.trainer, "tfjs", what);
  assert.ok(Math.abs(a.fvu - b.fvu) < 1e-3 && Math.abs(a.l0 - b.l0) / b.l0 < 1e-3 && Math.abs(a.theta - b.theta) / b.theta < 1e-3, what);
});
