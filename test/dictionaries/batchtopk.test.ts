import { test } from "node:test";
import { randomParams, checkAuxKGradients, checkGradients } from "./gradcheck.js";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { batchtopk as batchtopkFactory, THRESHOLD_BETA } from "../../src/dictionaries/batchtopk.js";
import type { Architecture, LossOptions, Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";

const reluPre = (x: tf.Tensor2D, p: Params) => tf.relu(tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc)).arraySync() as number[][];

test("options and parameters: k required, a threshold [1] initialised to 0", () => {
  assert.throws(() => batchtopkFactory({}), /batchtopk: option k \(active features per row\) is required/);
  assert.throws(() => batchtopkFactory({ k: -1 }), /batchtopk: option k must be a positive integer/);
  assert.throws(() => batchtopkFactory({ k: 9 }).init(4, 8, new Rng(0)), /batchtopk: option k = 9 must be at most the width \(8 features\)/);
  const arch = batchtopkFactory({ k: 2 });
  assert.equal(arch.saeLensName, "jumprelu", "saved as SAELens saves BatchTopK SAEs");
  assert.deepEqual(arch.options, { k: 2, auxKCoefficient: 1 / 32 });
  const init = arch.init(4, 8, new Rng(0));
  assert.deepEqual(init.threshold.shape, [1]);
  assert.equal(init.threshold.values[0], 0);
});

test("training keeps exactly the B·k largest activations of the batch", async () => {
  await ready();
  const [B, dIn, width, k] = [12, 6, 20, 3];
  const arch = batchtopkFactory({ k });
  const p = randomParams(arch, dIn, width, 1);
  p.b_enc = tf.fill([width], 2); // every activation positive, so exactly B·k survive
  const x = tf.tensor2d(new Rng(2).normals(B * dIn), [B, dIn]);
  const a = reluPre(x, p);
  const kth = a.flat().sort((u, v) => v - u)[B * k - 1];
  const f = arch.step(x, p, { l1: 0 }).features.arraySync();
  let nonzero = 0;
  a.forEach((row, b) => row.forEach((v, i) => {
    assert.ok(Math.abs(f[b][i] - (v >= kth ? v : 0)) < 1e-6, `row ${b} feature ${i}`);
    if (f[b][i] > 0) nonzero++;
  }));
  assert.equal(nonzero, B * k);
  const perRow = f.map((row) => row.filter((v) => v > 0).length);
  assert.ok(new Set(perRow).size > 1, `rows share the budget unevenly: ${perRow}`);
});

test("threshold: set by the first batch, then an EMA (β = 0.99, SAELens' topk_threshold_lr 0.01) of the smallest kept activation", async () => {
  await ready();
  const [B, dIn, width, k] = [8, 5, 16, 2];
  const arch = batchtopkFactory({ k });
  const p = randomParams(arch, dIn, width, 3);
  const x = tf.tensor2d(new Rng(4).normals(B * dIn), [B, dIn]);
  const minKept = reluPre(x, p).flat().sort((u, v) => v - u).slice(0, B * k).filter((v) => v > 0).pop()!;
  const first = arch.step(x, p, { l1: 0 }).updates!.threshold.dataSync()[0];
  assert.ok(Math.abs(first - minKept) < 1e-6, `${first} vs ${minKept}`);
  const later = arch.step(x, { ...p, threshold: tf.tensor1d([0.5]) }, { l1: 0 }).updates!.threshold.dataSync()[0];
  assert.ok(Math.abs(later - (THRESHOLD_BETA * 0.5 + (1 - THRESHOLD_BETA) * minKept)) < 1e-6);
  // A batch where nothing fires leaves the threshold as it was.
  const silent = arch.step(x, { ...p, b_enc: tf.fill([width], -100), threshold: tf.tensor1d([0.5]) }, { l1: 0 });
  assert.equal(silent.updates!.threshold.dataSync()[0], 0.5);
});

test("inference: f = a·1[a > θ] with a = ReLU(pre), decode = f·W_dec + b_dec", async () => {
  await ready();
  const arch = batchtopkFactory({ k: 2 });
  const p = { ...randomParams(arch, 3, 5, 5), threshold: tf.tensor1d([0.15]) };
  const x = tf.tensor2d([[0.3, -0.2, 0.5], [1, 0.1, -0.4], [-2, -1, 0.2]]);
  const f = arch.encode(x, p).arraySync();
  reluPre(x, p).forEach((row, b) => row.forEach((v, i) => assert.ok(Math.abs(f[b][i] - (v > 0.15 ? v : 0)) < 1e-6)));
  assert.ok(f.flat().some((v) => v > 0) && f.flat().some((v, i) => v === 0 && reluPre(x, p).flat()[i] > 0), "the threshold removes some positive activations");
  const D = p.W_dec.arraySync() as number[][], bd = p.b_dec.arraySync() as number[];
  const xHat = arch.decode(tf.tensor2d(f), p).arraySync();
  xHat.forEach((row, b) => row.forEach((v, j) => assert.ok(Math.abs(v - (bd[j] + f[b].reduce((s, fi, i) => s + fi * D[i][j], 0))) < 1e-6)));
  assert.throws(() => arch.encode(x, { ...p, threshold: undefined as unknown as tf.Tensor }), /batchtopk: this dictionary has no 'threshold' parameter/);
});

test("hand-written backward pass agrees with tfjs autodiff, with and without dead features", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const [B, dIn, width, k] of [[16, 8, 32, 4], [64, 24, 96, 8], [5, 3, 7, 2]] as const) {
      checkAuxKGradients(batchtopkFactory({ k }), B, dIn, width, 1);
    }
  });
});

test("afterStep leaves unit-norm decoder rows", async () => {
  await ready();
  const W = tf.variable(tf.tensor2d(new Rng(6).normals(10 * 4), [10, 4]).mul(0.2));
  batchtopkFactory({ k: 1 }).afterStep!({ W_dec: W });
  assert.ok(tf.norm(W, "euclidean", 1).dataSync().every((n) => Math.abs(n - 1) < 1e-5));
});

test("a BatchTopK SAE recovers known ground-truth features through the trainer", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  const sae = await dictionary("batchtopk", { width: 96, k: 3 }).fit(toy.acts, { steps: 1500, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  const m = sae.metrics(toy.acts);
  const theta = sae.params.threshold.dataSync()[0];
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.equal(sae.history[sae.history.length - 1].l0, 3, "training L0 is k");
  // θ (an EMA over ~100 steps) keeps up with the smallest kept activation: inference fires ≈ k per row.
  assert.ok(theta > 0 && Math.abs(m.l0 - 3) <= 0.3, `threshold ${theta}, inference L0 ${m.l0}`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  console.log(`batchtopk toy run: MMCS ${score.toFixed(4)}, inference L0 ${m.l0.toFixed(3)}, FVU ${m.fvu.toFixed(4)}, θ ${theta.toFixed(4)}`);
});
