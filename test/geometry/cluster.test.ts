import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { sphericalKMeans, unitRows } from "../../src/geometry/cluster.js";

test("spherical k-means: clusters numbered largest first, each centre the normalised mean of its own rows", async () => {
  await ready();
  // Three well-separated directions in 6-D with 12, 8 and 4 noisy rows.
  const rng = new Rng(3), dim = 6, counts = [4, 12, 8];
  const values: number[] = [];
  counts.forEach((c, d) => {
    for (let i = 0; i < c; i++) for (let j = 0; j < dim; j++) values.push((j === 2 * d ? 1 : 0) + 0.05 * rng.normal());
  });
  const n = values.length / dim;
  const unit = unitRows(values, n, dim);
  const km = sphericalKMeans(unit, n, dim, 3, { seed: 1 });
  assert.deepEqual(km.sizes, [12, 8, 4]);
  for (let c = 0; c < km.k; c++) {
    const mean = new Float64Array(dim);
    for (let i = 0; i < n; i++) if (km.labels[i] === c) for (let j = 0; j < dim; j++) mean[j] += unit[i * dim + j];
    const norm = Math.hypot(...mean);
    for (let j = 0; j < dim; j++) assert.ok(Math.abs(km.centroids[c * dim + j] - mean[j] / norm) < 1e-5, `centre ${c}`);
  }
});
