import { test } from "node:test";
import { randomParams, checkAuxKGradients, checkGradients } from "./gradcheck.js";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { topk as topkFactory } from "../../src/dictionaries/topk.js";
import type { Architecture, LossOptions, Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";


const topk = topkFactory({ k: 3 });

test("options: k required and checked against the width, defaults recorded", () => {
  assert.throws(() => topkFactory({}), /topk: option k \(active features per row\) is required/);
  assert.throws(() => topkFactory({ k: 2.5 }), /option k must be a positive integer, got 2.5/);
  assert.throws(() => topkFactory({ k: 2, auxK: 0 }), /option auxK must be a positive integer/);
  assert.throws(() => topkFactory({ k: 2, auxKCoefficient: -1 }), /option auxKCoefficient must be a finite number ≥ 0/);
  assert.throws(() => topkFactory({ k: 10 }).init(4, 8, new Rng(0)), /topk: option k = 10 must be at most the width \(8 features\)/);
  assert.throws(() => dictionary("topk", { width: 8 }), /option k .* is required/);
  assert.deepEqual(topkFactory({ k: 4 }).options, { k: 4, auxKCoefficient: 1 / 32 });
  assert.deepEqual(topkFactory({ k: 4, auxK: 7 }).options, { k: 4, auxK: 7, auxKCoefficient: 1 / 32 });
  assert.equal(topk.saeLensName, "topk");
});

test("init: unit-norm decoder rows, W_enc = W_decᵀ, zero biases", () => {
  const init = topk.init(4, 6, new Rng(0));
  for (let i = 0; i < 6; i++) {
    let n = 0;
    for (let j = 0; j < 4; j++) n += init.W_dec.values[i * 4 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 1) < 1e-6);
    for (let j = 0; j < 4; j++) assert.equal(init.W_enc.values[j * 6 + i], init.W_dec.values[i * 4 + j]);
  }
  assert.ok(init.b_enc.values.every((v) => v === 0) && init.b_dec.values.every((v) => v === 0));
});

test("forward pass matches ReLU(TopK_k(pre)) computed by hand", async () => {
  await ready();
  const arch = topkFactory({ k: 2 });
  const p = randomParams(arch, 3, 5, 1);
  const x = tf.tensor2d([[0.3, -0.2, 0.5], [1, 0.1, -0.4], [-2, -1, 0.2]]);
  const f = arch.encode(x, p).arraySync();
  const W = p.W_enc.arraySync() as number[][], be = p.b_enc.arraySync() as number[], bd = p.b_dec.arraySync() as number[];
  const D = p.W_dec.arraySync() as number[][];
  x.arraySync().forEach((row, b) => {
    const pre = be.map((v, i) => v + row.reduce((s, xj, j) => s + (xj - bd[j]) * W[j][i], 0));
    const kth = [...pre].sort((u, v) => v - u)[1];
    pre.forEach((v, i) => assert.ok(Math.abs(f[b][i] - (v >= kth ? Math.max(0, v) : 0)) < 1e-6, `row ${b} feature ${i}`));
  });
  const xHat = arch.decode(tf.tensor2d(f), p).arraySync();
  for (let b = 0; b < 3; b++) {
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(xHat[b][j] - (bd[j] + f[b].reduce((s, fi, i) => s + fi * D[i][j], 0))) < 1e-6);
  }
});

test("exactly k nonzero features per row, in encode and in training", async () => {
  await ready();
  const arch = topkFactory({ k: 5 });
  const p = randomParams(arch, 8, 40, 2);
  p.b_enc = tf.fill([40], 2); // every pre-activation positive: ReLU removes none of the k
  const x = tf.tensor2d(new Rng(3).normals(32 * 8), [32, 8]);
  for (const f of [arch.encode(x, p), arch.step(x, p, { l1: 0 }).features]) {
    const perRow = tf.sum(tf.cast(tf.greater(f, 0), "float32"), 1).dataSync();
    assert.ok(perRow.every((n) => n === 5), `nonzeros per row: ${[...perRow]}`);
  }
});

test("hand-written backward pass agrees with tfjs autodiff, with and without dead features", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const [B, dIn, width, k] of [[16, 8, 32, 4], [64, 24, 96, 8], [5, 3, 7, 2]] as const) {
      const arch = topkFactory({ k });
      const { plain, p, x } = checkAuxKGradients(arch, B, dIn, width, 5);
      assert.equal(plain.terms.auxk, undefined, "no AuxK term without a dead mask");
      const none = checkGradients(arch, p, x, { l1: 0, dead: tf.zeros([width]) as tf.Tensor1D }, `B=${B} none dead`);
      assert.equal(none.terms.auxk, undefined, "no AuxK term when nothing is dead");
    }
  });
});

test("AuxK equals α·min(n_dead/k_aux, 1)·‖e − ê‖²/Var(e) computed by hand", async () => {
  await ready();
  const arch = topkFactory({ k: 1, auxK: 4, auxKCoefficient: 0.5 });
  const p = randomParams(arch, 3, 6, 4);
  const x = tf.tensor2d(new Rng(5).normals(4 * 3), [4, 3]);
  const deadList = [1, 0, 1, 0, 0, 0]; // 2 dead < k_aux: both used, scale 2/4
  const res = arch.step(x, p, { l1: 0, dead: tf.tensor1d(deadList) });
  const pre = tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc).arraySync() as number[][];
  const e = tf.sub(x, res.reconstruction).arraySync() as number[][];
  const D = p.W_dec.arraySync() as number[][];
  const mean = [0, 1, 2].map((j) => e.reduce((s, r) => s + r[j], 0) / 4);
  let num = 0, variance = 0;
  e.forEach((row, b) => {
    row.forEach((ej, j) => {
      const eHat = deadList.reduce((s, d, i) => s + d * Math.max(0, pre[b][i]) * D[i][j], 0);
      num += (ej - eHat) ** 2 / 4;
      variance += (ej - mean[j]) ** 2 / 4;
    });
  });
  const expected = 0.5 * (2 / 4) * (num / variance);
  assert.ok(Math.abs(res.terms.auxk.dataSync()[0] - expected) < 1e-5 * Math.max(1, expected), `${res.terms.auxk.dataSync()[0]} vs ${expected}`);
});

test("afterStep leaves unit-norm decoder rows", async () => {
  await ready();
  const W = tf.variable(tf.tensor2d(new Rng(6).normals(10 * 4), [10, 4]).mul(3));
  topk.afterStep!({ W_dec: W });
  const norms = tf.norm(W, "euclidean", 1).dataSync();
  assert.ok(norms.every((n) => Math.abs(n - 1) < 1e-5), `${[...norms]}`);
});

test("a TopK SAE recovers known ground-truth features through the trainer", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  const sae = await dictionary("topk", { width: 96, k: 4 }).fit(toy.acts, { steps: 800, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  const m = sae.metrics(toy.acts);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(m.l0 <= 4 && m.l0 > 3, `L0 ${m.l0}`);
  assert.ok(m.fvu < 0.15, `FVU ${m.fvu}`);
  const norms = tf.norm(sae.weights.W_dec, "euclidean", 1).dataSync();
  assert.ok(norms.every((n) => Math.abs(n - 1) < 1e-4), "decoder rows unit norm after training");
  console.log(`topk toy run: MMCS ${score.toFixed(4)}, L0 ${m.l0.toFixed(3)}, FVU ${m.fvu.toFixed(4)}`);
});
