import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { Adam } from "../../src/training/adam.js";
import { resampleDeadFeatures } from "../../src/training/resample.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";

test("dead features are re-pointed at badly reconstructed inputs; alive ones and their moments are untouched", async () => {
  await ready();
  const rng = new Rng(1);
  const d = 6, h = 5, B = 8;
  const params = {
    W_enc: tf.variable(tf.tensor2d(rng.normals(d * h), [d, h])),
    W_dec: tf.variable(tf.tensor2d(rng.normals(h * d), [h, d])),
    b_enc: tf.variable(tf.tensor1d(rng.normals(h))),
  };
  const adam = new Adam();
  adam.apply(params, { W_enc: tf.onesLike(params.W_enc), W_dec: tf.onesLike(params.W_dec), b_enc: tf.onesLike(params.b_enc) }, 0.01);
  const before = { W_enc: params.W_enc.arraySync(), W_dec: params.W_dec.arraySync(), b_enc: params.b_enc.arraySync() };
  const x = tf.tensor2d(rng.normals(B * d), [B, d]);
  // Only row 3 is reconstructed badly: every resampled feature must point at it.
  const recon = tf.tensor2d(Float32Array.from(x.dataSync(), (v, i) => (Math.floor(i / d) === 3 ? 0 : v)), [B, d]);
  const dead = Float32Array.from([0, 1, 0, 1, 0]);
  const { resampled } = resampleDeadFeatures(params, adam, dead, x, recon, new Rng(2));
  assert.deepEqual(resampled, [1, 3]);
  const row3 = x.arraySync()[3];
  const n3 = Math.hypot(...row3);
  const Wd = params.W_dec.arraySync(), We = params.W_enc.arraySync(), be = params.b_enc.arraySync();
  const aliveNorm = [0, 2, 4].reduce((s, j) => s + Math.hypot(...before.W_enc.map((r) => r[j])), 0) / 3;
  for (const i of [1, 3]) {
    Wd[i].forEach((v, j) => assert.ok(Math.abs(v - row3[j] / n3) < 1e-5, "decoder row = unit input"));
    We.forEach((r, j) => assert.ok(Math.abs(r[i] - (0.2 * aliveNorm * row3[j]) / n3) < 1e-5, "encoder column = 0.2·alive norm·unit input"));
    assert.equal(be[i], 0);
  }
  for (const i of [0, 2, 4]) {
    assert.deepEqual(Wd[i], before.W_dec[i]);
    assert.equal(be[i], before.b_enc[i]);
  }
  const m = adam.state().tensors["adam_m.W_dec"].arraySync() as number[][];
  assert.ok(m[1].every((v) => v === 0) && m[3].every((v) => v === 0) && m[0].every((v) => v !== 0));
});

test("resampling during fit revives features that an over-strong penalty killed", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 4096, features: 32, dim: 16, avgActive: 3, seed: 3 });
  const opts = { steps: 400, batchSize: 128, lr: 3e-3, seed: 0, progress: false, deadWindowTokens: 128 * 50, l1WarmupSteps: 0 } as const;
  const spec = dictionary("relu", { width: 64, l1: 1.0 });
  const plain = (await spec.fit(toy.acts, opts)).metrics(toy.acts);
  const revived = (await spec.fit(toy.acts, { ...opts, resample: { every: 100 } })).metrics(toy.acts);
  assert.ok(revived.dead < plain.dead, `dead features: ${plain.dead} without resampling, ${revived.dead} with`);
});
