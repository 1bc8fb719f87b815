import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { reconstructionStats, type Reconstructor } from "../../src/metrics/reconstruction.js";

// A "dictionary" whose features are the inputs' coordinates (zeroing negatives) and whose decoder
// scales them by 0.8: every metric can be written down by hand.
const fake: Reconstructor = {
  width: 2,
  encodeTensor: (x) => tf.relu(x),
  decodeTensor: (f) => tf.mul(f, 0.8),
};

test("metrics follow their definitions", async () => {
  await ready();
  const X = [[1, 2], [3, -1], [0, 0.5], [2, 2]];
  const acts = fromVectors(Float32Array.from(X.flat()), 2);
  const { metrics: m, density } = reconstructionStats(fake, acts, { batchSize: 3 });
  const H = X.map((r) => r.map((v) => Math.max(0, v) * 0.8));
  let err = 0, tot = 0;
  const mean = [0, 1].map((j) => X.reduce((s, r) => s + r[j], 0) / 4);
  let centred = 0;
  X.forEach((r, b) => r.forEach((v, j) => {
    err += (v - H[b][j]) ** 2;
    tot += v * v;
    centred += (v - mean[j]) ** 2;
  }));
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
  close(m.fvu, err / centred, "FVU (about the mean, not zero)");
  close(m.explainedVariance, 1 - err / centred, "explained variance");
  close(m.mse, err / 8, "MSE");
  close(m.normalizedMse, err / tot, "normalised MSE");
  close(m.l0, (2 + 1 + 1 + 2) / 4, "L0");
  assert.deepEqual(Array.from(density), [0.75, 0.75]);
  assert.equal(m.dead, 0);
  const norm = (r: number[]) => Math.hypot(...r);
  close(m.l2Ratio, X.reduce((s, r, b) => s + norm(H[b]) / norm(r), 0) / 4, "L2 ratio");
  const cos = X.reduce((s, r, b) => s + (r[0] * H[b][0] + r[1] * H[b][1]) / (norm(r) * norm(H[b])), 0) / 4;
  close(m.cosine, cos, "cosine");
  const g = X.reduce((s, _r, b) => s + norm(H[b]) ** 2, 0) / X.reduce((s, r, b) => s + r[0] * H[b][0] + r[1] * H[b][1], 0);
  close(m.shrinkage, g, "γ");
});

test("a feature that never fires is dead", async () => {
  await ready();
  const acts = fromVectors(new Float32Array([1, -1, 2, -3]), 2);
  const { metrics } = reconstructionStats(fake, acts);
  assert.equal(metrics.dead, 1);
  assert.equal(metrics.deadFraction, 0.5);
});
