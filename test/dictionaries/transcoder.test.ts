import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { transcoder, skipTranscoder } from "../../src/dictionaries/transcoder.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { dictionary } from "../../src/training/spec.js";
import { forEachEngine } from "../engines.js";

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
}

test("transcoder and skip transcoder: hand-written gradients agree with autodiff (< 1e-4)", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const make of [transcoder, skipTranscoder]) {
      for (const [B, dIn, dOut, width] of [[16, 6, 4, 20], [40, 12, 9, 33]]) {
        const arch = make({ d_out: dOut });
        const rng = new Rng(B + dOut);
        const p: Params = {};
        for (const [k, t] of Object.entries(arch.init(dIn, width, rng))) p[k] = tf.tensor(t.values, t.shape);
        p.b_enc = tf.tensor(rng.normals(width), [width]).mul(0.05);
        p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
        p.b_dec_out = tf.tensor(rng.normals(dOut), [dOut]).mul(0.1);
        if (p.W_skip) p.W_skip = tf.tensor(rng.normals(dIn * dOut), [dIn, dOut]).mul(0.1);
        const x = tf.tensor2d(rng.normals(B * dIn), [B, dIn]);
        const y = tf.tensor2d(rng.normals(B * dOut), [B, dOut]);
        const opts = { l1: 0.6, target: y };
        const res = arch.step(x, p, opts);
        const names = Object.keys(p);
        const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => arch.referenceLoss(x, Object.fromEntries(names.map((n, i) => [n, ts[i]])), opts))(names.map((n) => p[n]));
        assert.ok(relErr(res.loss, value) < 1e-5);
        names.forEach((n, i) => assert.ok(relErr(res.grads[n], grads[i]) < 1e-4, `${arch.name} ∂L/∂${n}`));
      }
    }
  });
});

test("a transcoder learns a sparse map from input to output; metrics compare ŷ with y", async () => {
  await ready();
  // y = A·(sparse code of x): a transcoder with enough features can predict it.
  const toy = sharkeyToyData({ rows: 4096, features: 32, dim: 16, avgActive: 2, seed: 4 });
  const rng = new Rng(9);
  const A = rng.normals(16 * 8).map((v) => v * 0.5);
  const out = new Float32Array(toy.acts.numRows * 8);
  for (let r = 0; r < toy.acts.numRows; r++) {
    const x = toy.acts.row(r);
    for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let k = 0; k < 16; k++) s += x[k] * A[k * 8 + j];
      out[r * 8 + j] = Math.max(0, s); // a ReLU layer: not linear, so the dictionary has work to do
    }
  }
  const output = fromVectors(out, 8);
  for (const arch of ["transcoder", "skip-transcoder"]) {
    const tc = await dictionary(arch, { width: 64, l1: 0.01 }).fit({ input: toy.acts, output }, { steps: 600, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
    assert.deepEqual(tc.weights.W_dec.shape, [64, 8]);
    assert.deepEqual(tc.weights.W_enc.shape, [16, 64]);
    const m = tc.metrics({ input: toy.acts, output });
    assert.ok(m.fvu < 0.25, `${arch}: FVU of ŷ against y ${m.fvu}`);
    assert.ok(m.l0 > 0.5 && m.l0 < 40, `${arch}: L0 ${m.l0}`);
  }
  await assert.rejects(dictionary("transcoder", { width: 8 }).fit({ input: toy.acts, output: output.head(10) }), /input has 4096 rows but output has 10/);
});

test("the native engine's fused transcoder step and the tfjs step train the same transcoders from the same seed (FVU, L0 within 1e-3)", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 2048, features: 32, dim: 16, avgActive: 2, seed: 6 });
  const output = fromVectors(toy.acts.vectors.map((v, i) => Math.max(0, v) * (1 + (i % 3))).slice(0, 2048 * 12), 12);
  for (const arch of ["transcoder", "skip-transcoder"]) {
    const results: Record<string, { fvu: number; l0: number; trainer: string }> = {};
    await forEachEngine(async (e) => {
      const tc = await dictionary(arch, { width: 48, l1: 0.01 }).fit({ input: toy.acts, output }, { steps: 150, batchSize: 128, lr: 3e-3, seed: 2, progress: false });
      const m = tc.metrics({ input: toy.acts, output });
      results[e] = { fvu: m.fvu, l0: m.l0, trainer: (tc.cfg.training as { engine: string }).engine };
      tc.dispose();
    });
    if (!results.native) return; // the addon is not built: nothing to compare
    const [a, b] = [results.native, results.wasm];
    const what = `${arch}: ${JSON.stringify(results)}`;
    assert.equal(a.trainer, "native", what);
    assert.equal(b.trainer, "tfjs", what);
    assert.ok(Math.abs(a.fvu - b.fvu) < 1e-3 && Math.abs(a.l0 - b.l0) / b.l0 < 1e-3, what);
  }
});
