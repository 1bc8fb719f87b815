import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Adam, clipByGlobalNorm } from "../../src/training/adam.js";

test("Adam follows PyTorch's update rule", async () => {
  await ready();
  const p = { w: tf.variable(tf.tensor1d([1, -2])) };
  const adam = new Adam({ betas: [0.9, 0.99], eps: 1e-8 });
  const gs = [[0.5, -1], [0.1, 0.3], [-0.2, 2]];
  // Reference, written out: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; w -= lr m̂ / (√v̂ + eps)
  let w = [1, -2], m = [0, 0], v = [0, 0];
  gs.forEach((g, t) => {
    adam.apply(p, { w: tf.tensor1d(g) }, 0.01);
    w = w.map((wi, i) => {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.99 * v[i] + 0.01 * g[i] ** 2;
      const mh = m[i] / (1 - 0.9 ** (t + 1)), vh = v[i] / (1 - 0.99 ** (t + 1));
      return wi - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
    });
  });
  const got = p.w.dataSync();
  w.forEach((wi, i) => assert.ok(Math.abs(got[i] - wi) < 1e-6, `${got[i]} vs ${wi}`));
});

test("clipByGlobalNorm scales all gradients together", async () => {
  await ready();
  const out = clipByGlobalNorm({ a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }, 1);
  assert.ok(Math.abs(out.a.dataSync()[0] - 0.6) < 1e-5);
  assert.ok(Math.abs(out.b.dataSync()[1] - 0.8) < 1e-5);
  const same = clipByGlobalNorm({ a: tf.tensor1d([0.3]) }, 1);
  assert.ok(Math.abs(same.a.dataSync()[0] - 0.3) < 1e-6);
});

test("Adam leaves no tensors behind once disposed", async () => {
  await ready();
  const p = { w: tf.variable(tf.ones([3, 3])), b: tf.variable(tf.zeros([3])) };
  const before = tf.memory().numTensors;
  const adam = new Adam();
  for (let i = 0; i < 3; i++) {
    const g = { w: tf.onesLike(p.w), b: tf.onesLike(p.b) };
    adam.apply(p, g, 0.1);
    tf.dispose(Object.values(g));
  }
  adam.dispose();
  assert.equal(tf.memory().numTensors - before, 0);
  tf.dispose(Object.values(p));
});
