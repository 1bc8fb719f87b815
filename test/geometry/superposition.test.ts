import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { featureDimensionality, dimensionsPerFeature } from "../../src/geometry/superposition.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);
/** W [m, n] from feature vectors (columns). */
const fromColumns = (cols: number[][]) => cols[0].map((_, r) => cols.map((c) => c[r]));
const polygon = (k: number, r = 1) => Array.from({ length: k }, (_, i) => [r * Math.cos((2 * Math.PI * i) / k), r * Math.sin((2 * Math.PI * i) / k)]);

test("feature dimensionality: orthogonal 1, antipodal pair ½, triangle ⅔, pentagon ⅖, tetrahedron ¾, unrepresented 0", async () => {
  await ready();
  // Orthogonal features of any norm, plus a zero column.
  const D1 = featureDimensionality(fromColumns([[2, 0, 0], [0, 0.5, 0], [0, 0, 1], [0, 0, 0]]));
  assert.deepEqual(Array.from(D1), [1, 1, 1, 0]);
  // An antipodal pair sharing one dimension, next to a feature with its own.
  const D2 = featureDimensionality(fromColumns([[1, 0], [-1, 0], [0, 3]]));
  Array.from(D2).forEach((d, i) => close(d, [0.5, 0.5, 1][i], 1e-12));
  for (const [k, expected] of [[3, 2 / 3], [5, 2 / 5]] as const) {
    for (const d of featureDimensionality(fromColumns(polygon(k, 1.3)))) close(d, expected, 1e-12, `${k}-gon`);
  }
  const s = 1 / Math.sqrt(3);
  const tetra = [[s, s, s], [s, -s, -s], [-s, s, -s], [-s, -s, s]];
  for (const d of featureDimensionality(fromColumns(tetra))) close(d, 3 / 4, 1e-12, "tetrahedron");
  // Σ D_i ≤ m: 2 for any set of features in 2-D.
  const sum = Array.from(featureDimensionality(fromColumns(polygon(7)))).reduce((a, b) => a + b, 0);
  close(sum, 2, 1e-12);
});

test("feature dimensionality reads tensors [m, n] and { values, dim } rows; dimensions per feature", async () => {
  await ready();
  const W = fromColumns(polygon(5));
  const a = featureDimensionality(tf.tensor2d(W));
  const b = featureDimensionality({ values: polygon(5).flat(), dim: 2 });
  const c = featureDimensionality(polygon(5), { features: "rows" });
  for (let i = 0; i < 5; i++) {
    close(a[i], 0.4, 1e-6);
    close(b[i], 0.4, 1e-12);
    close(c[i], 0.4, 1e-12);
  }
  close(dimensionsPerFeature(W), 2 / 5, 1e-12);
  close(dimensionsPerFeature(fromColumns([[1, 0], [0, 1]])), 1, 0);
});
