import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { sampleFeatures, toyLoss, toyStep, toySuperposition } from "../../src/models/toy-superposition.js";

const relErr = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];

test("the written-out gradients agree with tfjs autodiff", async () => {
  await ready();
  const rng = new Rng(1);
  const I = 3, B = 16, n = 6, m = 3;
  const x = tf.tensor3d(sampleFeatures(rng, [1, 0.5, 0.2], B, n), [I, B, n]);
  const W = tf.tensor3d(rng.normals(I * m * n), [I, m, n]);
  const b = tf.tensor3d(rng.normals(I * n), [I, 1, n]).mul(0.3) as tf.Tensor3D;
  for (const imp of [tf.tensor1d([1, 0.9, 0.81, 0.73, 0.66, 0.59]), undefined]) {
    const res = toyStep(x, W, b, imp);
    const { value, grads } = tf.valueAndGrads((w: tf.Tensor, bb: tf.Tensor) => toyLoss(x, w as tf.Tensor3D, bb as tf.Tensor3D, imp ?? tf.ones([n])))([W, b]);
    assert.ok(Math.abs(tf.sum(res.perModel!).dataSync()[0] - value.dataSync()[0]) < 1e-5 * value.dataSync()[0]);
    assert.ok(relErr(res.grads.W, grads[0]) < 1e-4, "∂L/∂W");
    assert.ok(relErr(res.grads.b, grads[1]) < 1e-4, "∂L/∂b");
  }
});

test("features are U[0,1) with probability p, else 0", () => {
  const rng = new Rng(2);
  const ps = [1, 0.6, 0.1, 0.01];
  const B = 4000, n = 50;
  const x = sampleFeatures(rng, ps, B, n);
  ps.forEach((p, k) => {
    let active = 0, sum = 0;
    for (let t = k * B * n; t < (k + 1) * B * n; t++) {
      const v = x[t];
      assert.ok(v >= 0 && v < 1);
      if (v > 0) (active++, (sum += v));
    }
    const rate = active / (B * n);
    assert.ok(Math.abs(rate - p) < 4 * Math.sqrt((p * (1 - p)) / (B * n)) + 1e-9, `p=${p}: rate ${rate}`);
    assert.ok(Math.abs(sum / active - 0.5) < 0.02, `p=${p}: mean ${sum / active}`);
  });
});

test("known answers, n=5, m=2, importance 0.9^i: dense → two orthogonal features, sparse → a pentagon", async () => {
  await ready();
  const model = await toySuperposition({ features: 5, hidden: 2, importance: 0.9, featureProbability: [1, 0.02], steps: 2000, lr: 0.01, seed: 0 });
  assert.equal(model.models, 2);
  // Dense: the two most important features get orthogonal unit directions, the rest are dropped.
  const dense = model.W(0);
  const norms = model.norms(0);
  assert.ok(norms[0] > 0.95 && norms[1] > 0.95, `norms ${norms}`);
  for (const v of norms.slice(2)) assert.ok(v < 0.15, `dropped features' norms ${norms}`);
  const cos01 = (dense[0][0] * dense[0][1] + dense[1][0] * dense[1][1]) / (norms[0] * norms[1]);
  assert.ok(Math.abs(cos01) < 0.05, `cos ${cos01}`);
  const Dd = model.dimensionality(0);
  assert.ok(Dd[0] > 0.95 && Dd[1] > 0.95 && Dd[2] < 0.05, `${Dd}`);
  // Sparse: five features of similar norm, 72° apart.
  const sparseNorms = model.norms(1);
  assert.ok(Math.min(...sparseNorms) > 0.9 && Math.max(...sparseNorms) / Math.min(...sparseNorms) < 1.05, `${sparseNorms}`);
  const W = model.W(1);
  const angles = [0, 1, 2, 3, 4].map((i) => Math.atan2(W[1][i], W[0][i])).sort((a, b) => a - b);
  const gaps = angles.map((a, i) => ((i === 4 ? angles[0] + 2 * Math.PI : angles[i + 1]) - a) * (180 / Math.PI));
  for (const g of gaps) assert.ok(Math.abs(g - 72) < 5, `gaps ${gaps.map((g) => g.toFixed(1))}`);
  for (const d of model.dimensionality(1)) assert.ok(Math.abs(d - 0.4) < 0.02, `D ${d}`);
  // The loss is recorded and falls.
  assert.ok(model.history.length > 10);
  assert.ok(model.history[model.history.length - 1].loss[1] < model.history[0].loss[1]);
  const rows = model.summary();
  assert.equal(rows[1].represented, 5);
  assert.equal(rows[0].represented, 2);
});

test("the same seed trains the same model; options are checked", async () => {
  await ready();
  const opts = { features: 4, hidden: 2, sparsity: [0, 0.9], steps: 30, batchSize: 64, seed: 3 };
  const a = await toySuperposition(opts);
  const b = await toySuperposition(opts);
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.featureProbability.map((p) => +p.toFixed(12)), [1, 0.1]);
  const c = await toySuperposition({ ...opts, seed: 4 });
  assert.notDeepEqual(a.weights, c.weights);
  const decayed = await toySuperposition({ ...opts, lrDecay: "linear" });
  assert.notDeepEqual(decayed.weights, a.weights, "a decayed learning rate takes smaller steps");
  const y = a.forward([[1, 0, 0, 0]], 0);
  assert.equal(y[0].length, 4);
  await assert.rejects(toySuperposition({ featureProbability: 0 }), /in \(0, 1\]/);
  await assert.rejects(toySuperposition({ features: 3, importance: [1, 2] }), /2 importances for 3 features/);
  await assert.rejects(toySuperposition({ featureProbability: 0.5, sparsity: 0.5 }), /not both/);
  assert.throws(() => a.W(2), /out of range/);
});
