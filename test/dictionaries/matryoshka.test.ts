import { test } from "node:test";
import { randomParams, relErr, checkAuxKGradients, checkGradients } from "./gradcheck.js";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { matryoshka as matryoshkaFactory, prefixLengths } from "../../src/dictionaries/matryoshka.js";
import { batchtopk as batchtopkFactory } from "../../src/dictionaries/batchtopk.js";
import type { Architecture, LossOptions, Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";


test("prefixes: default width/16 … width, explicit prefixes or group sizes, clear errors", () => {
  assert.deepEqual(prefixLengths({}, 96), [6, 12, 24, 48, 96]);
  assert.deepEqual(prefixLengths({}, 8), [1, 2, 4, 8]);
  assert.deepEqual(prefixLengths({ prefixes: [10, 30] }, 30), [10, 30]);
  assert.deepEqual(prefixLengths({ groupSizes: [10, 5, 15] }, 30), [10, 15, 30]);
  assert.throws(() => matryoshkaFactory({ prefixes: [4, 2, 8] }), /matryoshka: option prefixes must be strictly ascending/);
  assert.throws(() => matryoshkaFactory({ k: 1, prefixes: [4, 8] }).init(3, 16, new Rng(0)), /option prefixes must end at the width \(16\), got \[4,8\]/);
  assert.throws(() => matryoshkaFactory({ k: 1, groupSizes: [4, 8] }).init(3, 16, new Rng(0)), /option groupSizes must sum to the width \(16\)/);
  assert.throws(() => matryoshkaFactory({ k: 1, prefixes: [8], groupSizes: [8] }), /either option prefixes or option groupSizes/);
  assert.throws(() => matryoshkaFactory({ prefixes: [8] }), /matryoshka: option k \(active features per row\) is required/);
  assert.throws(() => matryoshkaFactory({ k: 20 }).init(3, 16, new Rng(0)), /option k = 20 must be at most the width \(16 features\)/);
  const arch = matryoshkaFactory({ k: 2, prefixes: [4, 16] });
  assert.equal(arch.saeLensName, "jumprelu", "saved as SAELens saves BatchTopK-family SAEs");
  assert.deepEqual(arch.options, { k: 2, prefixes: [4, 16], auxKCoefficient: 1 / 32 });
});

test("loss = mean over prefixes of the reconstruction MSE using the first m features (by hand)", async () => {
  await ready();
  const [B, dIn, width, prefixes] = [3, 3, 6, [2, 4, 6]];
  const arch = matryoshkaFactory({ k: 2, prefixes });
  const p = randomParams(arch, dIn, width, 1);
  const x = tf.tensor2d(new Rng(2).normals(B * dIn), [B, dIn]);
  const res = arch.step(x, p, { l1: 0 });
  const f = res.features.arraySync(), xs = x.arraySync();
  const D = p.W_dec.arraySync() as number[][], bd = p.b_dec.arraySync() as number[];
  const mse = (m: number) =>
    xs.reduce((s, row, b) => s + row.reduce((t, xj, j) => t + (bd[j] + f[b].slice(0, m).reduce((u, fi, i) => u + fi * D[i][j], 0) - xj) ** 2, 0), 0) / B;
  const expected = prefixes.reduce((s, m) => s + mse(m), 0) / prefixes.length;
  assert.ok(Math.abs(res.loss.dataSync()[0] - expected) < 1e-5, `${res.loss.dataSync()[0]} vs ${expected}`);
  assert.ok(Math.abs(res.terms.mse.dataSync()[0] - mse(width)) < 1e-5, "mse term is the full reconstruction's");
  assert.ok(f.flat().filter((v) => v > 0).length <= B * 2);
});

test("with the single prefix [width] it is BatchTopK: same loss, gradients, features and threshold", async () => {
  await ready();
  const [B, dIn, width, k] = [16, 8, 32, 3];
  const m = matryoshkaFactory({ k, prefixes: [width] }), b = batchtopkFactory({ k });
  const p = randomParams(m, dIn, width, 3);
  const x = tf.tensor2d(new Rng(4).normals(B * dIn), [B, dIn]);
  const dead = tf.tensor1d(Array.from({ length: width }, (_, i) => (i % 4 === 0 ? 1 : 0)));
  const [rm, rb] = [m.step(x, p, { l1: 0, dead }), b.step(x, p, { l1: 0, dead })];
  assert.ok(relErr(rm.loss, rb.loss) < 1e-6);
  for (const n of Object.keys(rb.grads)) assert.ok(relErr(rm.grads[n], rb.grads[n]) < 1e-5, n);
  assert.deepEqual(rm.features.dataSync(), rb.features.dataSync());
  assert.deepEqual(rm.updates!.threshold.dataSync(), rb.updates!.threshold.dataSync());
  const q = { ...p, threshold: tf.tensor1d([0.2]) };
  assert.deepEqual(m.encode(x, q).dataSync(), b.encode(x, q).dataSync(), "inference as batchtopk");
});

test("hand-written backward pass agrees with tfjs autodiff, with and without dead features", async () => {
  await forEachEngine(async () => {
    await ready();
    const cases = [[16, 8, 32, 4, { prefixes: [2, 8, 16, 32] }], [64, 24, 96, 8, {}], [5, 3, 7, 2, { groupSizes: [3, 4] }]] as const;
    for (const [B, dIn, width, k, prefixOpts] of cases) {
      checkAuxKGradients(matryoshkaFactory({ k, ...prefixOpts }), B, dIn, width, 1);
    }
  });
});

test("afterStep leaves unit-norm decoder rows", async () => {
  await ready();
  const W = tf.variable(tf.tensor2d(new Rng(6).normals(10 * 4), [10, 4]).mul(5));
  matryoshkaFactory({ k: 1 }).afterStep!({ W_dec: W });
  assert.ok(tf.norm(W, "euclidean", 1).dataSync().every((n) => Math.abs(n - 1) < 1e-5));
});

test("a Matryoshka SAE recovers known ground-truth features; its inner prefix fires more", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  // Inner prefix of 48 = the number of true features: narrower prefixes must mix several true
  // features into one latent (feature hedging), which lowers MMCS on this independent-feature data.
  const sae = await dictionary("matryoshka", { width: 96, k: 3, prefixes: [48, 96] }).fit(toy.acts, { steps: 3000, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  const m = sae.metrics(toy.acts);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(Math.abs(m.l0 - 3) <= 0.3, `inference L0 ${m.l0} (k = 3)`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  const fired = tf.tidy(() => tf.sum(tf.cast(tf.greater(sae.encodeTensor(toy.acts.sliceTensor(0, 8192)), 0), "float32"), 0).dataSync());
  const [inner, outer] = [fired.slice(0, 48), fired.slice(48)].map((a) => a.reduce((s, v) => s + v, 0));
  assert.ok(inner > 2 * outer, `inner prefix fires ${inner} times, the rest ${outer}`);
  console.log(`matryoshka toy run: MMCS ${score.toFixed(4)}, inference L0 ${m.l0.toFixed(3)}, FVU ${m.fvu.toFixed(4)}, inner/outer firings ${inner}/${outer}`);
});
