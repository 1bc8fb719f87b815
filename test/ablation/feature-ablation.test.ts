import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { ablateFeatures } from "../../src/ablation/feature-ablation.js";

test("zero and mean ablation agree with re-decoding by brute force", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 600, features: 24, dim: 12, avgActive: 3, seed: 1 });
  const sae = await dictionary("relu", { width: 32, l1: 0.05 }).fit(toy.acts, { steps: 150, batchSize: 64, lr: 3e-3, seed: 0, progress: false });
  const features = [0, 5, 17, 31];
  for (const mode of ["zero", "mean"] as const) {
    const res = ablateFeatures(sae, toy.acts, { features, mode, batchSize: 250 });
    const x = toy.acts.toTensor();
    const f = sae.encodeTensor(x);
    const clean = tf.mean(tf.square(tf.sub(x, sae.decodeTensor(f)))).dataSync()[0];
    const means = tf.mean(f, 0).dataSync();
    features.forEach((i, k) => {
          const mask = tf.reshape(tf.oneHot(tf.tensor1d([i], "int32"), sae.width), [1, sae.width]);
      const fill = mode === "zero" ? 0 : means[i];
      const fAbl = tf.add(tf.mul(f, tf.sub(1, mask)), tf.mul(mask, fill));
      const ablated = tf.mean(tf.square(tf.sub(x, sae.decodeTensor(fAbl as tf.Tensor2D)))).dataSync()[0];
      const row = res.rows[k];
      assert.equal(row.feature, i);
      assert.ok(Math.abs(row.mseClean - clean) < 1e-7 + 1e-4 * clean);
      assert.ok(Math.abs(row.mseAblated - ablated) < 1e-7 + 1e-3 * ablated, `${mode} f${i}: ${row.mseAblated} vs ${ablated}`);
    });
  }
});

test("ablation refuses features out of range and unknown modes", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 100, features: 8, dim: 4, seed: 1 });
  const sae = await dictionary("relu", { width: 8, l1: 0.05 }).fit(toy.acts, { steps: 5, batchSize: 32, progress: false });
  assert.throws(() => ablateFeatures(sae, toy.acts, { features: [8] }), /feature 8 out of range 0\.\.7/);
  assert.throws(() => ablateFeatures(sae, toy.acts, { features: [1], mode: "resample" as any }), /mode must be "zero" or "mean"/);
});
