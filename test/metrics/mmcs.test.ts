import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { mmcs, bestMatches } from "../../src/metrics/mmcs.js";

test("MMCS is the mean over A's rows of the best cosine with B's rows", async () => {
  await ready();
  const A = [[1, 0], [0, 1]];
  const B = [[2, 0], [1, 1], [0, -1]];
  const m = bestMatches(A, B);
  assert.deepEqual([...m.index], [0, 1]);
  assert.ok(Math.abs(m.cosine[0] - 1) < 1e-6);
  assert.ok(Math.abs(m.cosine[1] - Math.SQRT1_2) < 1e-6);
  assert.ok(Math.abs(mmcs(A, B) - (1 + Math.SQRT1_2) / 2) < 1e-6);
  // Not symmetric: from B's side, [0,-1] matches nothing well.
  assert.ok(Math.abs(mmcs(B, A) - (1 + Math.SQRT1_2 + 0) / 3) < 1e-6);
  assert.ok(Math.abs(mmcs(tf.tensor2d(A), { values: new Float32Array([3, 0, 0, 5]), dim: 2 }) - 1) < 1e-6);
});

test("MMCS refuses directions of different dimension", async () => {
  await ready();
  assert.throws(() => mmcs([[1, 0]], [[1, 0, 0]]), /same dimension/);
});
