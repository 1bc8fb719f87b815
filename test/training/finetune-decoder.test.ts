import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { loadDictionary } from "../../src/dictionaries/load-dictionary.js";
import { FINETUNE_VARIANTS, finetuneDecoder, finetuneReferenceLoss, finetuneStep, trainedParameters } from "../../src/training/finetune-decoder.js";
import type { Dictionary } from "../../src/dictionaries/dictionary.js";

const relErr = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

test("the hand-written gradient matches tfjs autodiff for every variant", async () => {
  await ready();
  const rng = new Rng(3);
  const B = 16, d = 8, h = 12;
  const f = tf.relu(tf.tensor2d(rng.normals(B * h), [B, h])) as tf.Tensor2D;
  const x = tf.tensor2d(rng.normals(B * d), [B, d]);
  const p = {
    scale: tf.add(1, tf.mul(0.2, tf.tensor1d(rng.normals(h)))) as tf.Tensor1D,
    W_dec: tf.tensor2d(rng.normals(h * d), [h, d]),
    b_dec: tf.tensor1d(rng.normals(d)),
  };
  const { value, grads } = tf.valueAndGrads((s: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => finetuneReferenceLoss(f, x, s as tf.Tensor1D, W as tf.Tensor2D, b as tf.Tensor1D))([p.scale, p.W_dec, p.b_dec]);
  const auto: Record<string, tf.Tensor> = { scale: grads[0], W_dec: grads[1], b_dec: grads[2] };
  for (const variant of FINETUNE_VARIANTS) {
    const trained = trainedParameters(variant);
    const res = finetuneStep(f, x, p, trained);
    assert.ok(relErr(res.loss, value) < 1e-5, `loss (${variant})`);
    assert.deepEqual(Object.keys(res.grads).sort(), [...trained].sort());
    for (const n of trained) {
      const e = relErr(res.grads[n], auto[n]);
      assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (${variant})`);
    }
  }
});

// A shrunk SAE: ReLU + L1 on toy data with a strong penalty, so γ < 1.
let shrunk: { sae: Dictionary; acts: ReturnType<typeof sharkeyToyData>["acts"] } | undefined;
async function shrunkSae() {
  await ready();
  if (shrunk) return shrunk;
  const { acts } = sharkeyToyData({ rows: 2048, features: 64, dim: 32, avgActive: 3, seed: 0 });
  const sae = await dictionary("relu", { width: 128, l1: 0.3 }).fit(acts, { steps: 300, batchSize: 512, lr: 3e-3, seed: 0, progress: false });
  shrunk = { sae, acts };
  return shrunk;
}

for (const variant of FINETUNE_VARIANTS) {
  test(`fine-tuning the decoder (${variant}) undoes shrinkage, lowers MSE, keeps the encoder and L0`, async () => {
    const { sae, acts } = await shrunkSae();
    const before = sae.metrics(acts);
    assert.ok(before.shrinkage < 0.85, `the L1 SAE should shrink: γ ${before.shrinkage}`);
    const ft = await finetuneDecoder(sae, acts, { variant, steps: 300, lr: 3e-3, batchSize: 512, seed: 0 });
    const after = ft.metrics(acts);
    assert.ok(Math.abs(after.shrinkage - 1) < 0.03, `γ ${before.shrinkage} → ${after.shrinkage}`);
    assert.ok(after.mse < 0.8 * before.mse, `MSE ${before.mse} → ${after.mse}`);
    assert.equal(after.l0, before.l0);
    assert.equal(after.dead, before.dead);
    // The encoder computes exactly what it did: same W_enc, same features.
    assert.equal(maxDiff(ft.weights.W_enc, sae.weights.W_enc), 0);
    const x = tf.tensor2d(acts.vectors.subarray(0, 256 * acts.dim), [256, acts.dim]);
    assert.ok(maxDiff(ft.encodeTensor(x), sae.encodeTensor(x)) < 1e-5, "features changed");
    if (variant !== "scale-decoder") {
      // Only a per-feature scale reached W_dec: each row is a multiple of the original row.
      const cos = tf.div(tf.sum(tf.mul(ft.weights.W_dec, sae.weights.W_dec), 1), tf.mul(tf.norm(ft.weights.W_dec, 2, 1), tf.norm(sae.weights.W_dec, 2, 1)));
      const alive = Array.from(cos.dataSync()).filter((c) => Number.isFinite(c) && c !== 0);
      assert.ok(alive.every((c) => c > 1 - 1e-5), "rows of W_dec turned");
    }
    if (variant === "scale") {
      assert.equal(maxDiff(ft.weights.b_dec, sae.weights.b_dec), 0);
      assert.equal(maxDiff(ft.weights.b_enc, sae.weights.b_enc), 0);
    } else assert.ok(maxDiff(ft.weights.b_dec, sae.weights.b_dec) > 0, "b_dec did not train");
    assert.match(ft.note ?? "", /folded into W_dec/);
    assert.equal((ft.cfg.finetune as { variant: string }).variant, variant);

    // Saves and loads as any dictionary (SAELens folder), reconstructing the same.
    const dir = mkdtempSync(join(tmpdir(), "fl-finetune-"));
    try {
      await ft.save(dir);
      const back = await loadDictionary(dir);
      const m = back.metrics(acts);
      assert.ok(Math.abs(m.mse - after.mse) < 1e-7 + 1e-4 * after.mse, `loaded MSE ${m.mse} vs ${after.mse}`);
      assert.ok(Math.abs(m.shrinkage - after.shrinkage) < 1e-4);
      back.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The original is untouched and still usable after the new one is disposed.
    ft.dispose();
    assert.ok(Math.abs(sae.metrics(acts).mse - before.mse) < 1e-9);
  });
}

test("finetuneDecoder refuses unknown variants and options", async () => {
  const { sae, acts } = await shrunkSae();
  await assert.rejects(finetuneDecoder(sae, acts, { variant: "decoder" as never }), /unknown variant 'decoder'/);
  await assert.rejects(finetuneDecoder(sae, acts, { step: 3 } as never), /unknown option 'step'/);
});
