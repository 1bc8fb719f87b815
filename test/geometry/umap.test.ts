import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { umap, nearestNeighbors } from "../../src/geometry/umap.js";

/** n points in `dim` dimensions around `clusters` well-separated centres; label = i % clusters. */
function clustered(n: number, dim: number, clusters: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => 6 * rng.normal()));
  const values = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) values[i * dim + j] = centres[i % clusters][j] + rng.normal();
  return values;
}

/** Fraction of each point's m nearest neighbours in the embedding that share its cluster. */
function neighbourPurity(coords: Float64Array, n: number, clusters: number, m: number): number {
  let same = 0;
  for (let i = 0; i < n; i++) {
    const d = Array.from({ length: n }, (_, j) => ({ j, d: (coords[2 * i] - coords[2 * j]) ** 2 + (coords[2 * i + 1] - coords[2 * j + 1]) ** 2 }));
    d.sort((a, b) => a.d - b.d);
    for (const { j } of d.slice(1, m + 1)) if (j % clusters === i % clusters) same++;
  }
  return same / (n * m);
}

test("UMAP separates clearly clustered data", async () => {
  await ready();
  const n = 300, dim = 20, clusters = 3;
  const e = umap(clustered(n, dim, clusters, 1), dim, { seed: 0, nNeighbors: 10 });
  assert.equal(e.n, n);
  assert.equal(e.k, 2);
  assert.equal(e.coords.length, 2 * n);
  assert.ok(e.coords.every(Number.isFinite));
  const purity = neighbourPurity(e.coords, n, clusters, 10);
  assert.ok(purity > 0.99, `purity ${purity}`);
  // Clusters are apart: every centroid distance exceeds 3× the largest within-cluster spread.
  const centroid = (c: number) => {
    let x = 0, y = 0, k = 0;
    for (let i = c; i < n; i += clusters) (x += e.coords[2 * i]), (y += e.coords[2 * i + 1]), k++;
    return [x / k, y / k];
  };
  const cs = [0, 1, 2].map(centroid);
  const spread = Math.max(...[0, 1, 2].map((c) => {
    let s = 0, k = 0;
    for (let i = c; i < n; i += clusters) (s += (e.coords[2 * i] - cs[c][0]) ** 2 + (e.coords[2 * i + 1] - cs[c][1]) ** 2), k++;
    return Math.sqrt(s / k);
  }));
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) assert.ok(Math.hypot(cs[a][0] - cs[b][0], cs[a][1] - cs[b][1]) > 3 * spread);
});

test("UMAP is deterministic for a seed, and the seed matters; random init and cosine metric work", async () => {
  await ready();
  const values = clustered(200, 8, 4, 2);
  const a = umap(values, 8, { seed: 5, nNeighbors: 8, nEpochs: 100 });
  const b = umap(fromVectors(values, 8), { seed: 5, nNeighbors: 8, nEpochs: 100 });
  assert.deepEqual(a.coords, b.coords);
  const c = umap(values, 8, { seed: 6, nNeighbors: 8, nEpochs: 100 });
  assert.notDeepEqual(a.coords, c.coords);
  const r1 = umap(values, 8, { seed: 5, nNeighbors: 8, nEpochs: 100, init: "random" });
  const r2 = umap(values, 8, { seed: 5, nNeighbors: 8, nEpochs: 100, init: "random" });
  assert.deepEqual(r1.coords, r2.coords);
  const cos = umap(values, 8, { seed: 5, nNeighbors: 8, nEpochs: 100, metric: "cosine", dim: 3 });
  assert.equal(cos.k, 3);
  assert.ok(cos.coords.every(Number.isFinite));
  assert.throws(() => umap(values.subarray(0, 8 * 8), 8, { nNeighbors: 8 }), /more rows/);
  assert.throws(() => umap(values, 8, { metric: "manhattan" as any }), /metric/);
});

test("the neighbour graph is exact: self first, then the k−1 nearest by brute force", async () => {
  await ready();
  const rng = new Rng(3);
  const n = 150, dim = 6, k = 7;
  const v = rng.normals(n * dim);
  for (const metric of ["euclidean", "cosine"] as const) {
    const { indices, distances } = nearestNeighbors(v, n, dim, k, metric);
    for (let i = 0; i < n; i++) {
      const all = Array.from({ length: n }, (_, j) => {
        let s = 0, ni = 0, nj = 0;
        for (let t = 0; t < dim; t++) {
          const a = v[i * dim + t], b = v[j * dim + t];
          s += metric === "euclidean" ? (a - b) ** 2 : a * b;
          ni += a * a;
          nj += b * b;
        }
        return { j, d: metric === "euclidean" ? Math.sqrt(s) : 1 - s / Math.sqrt(ni * nj) };
      }).filter((p) => p.j !== i);
      all.sort((a, b) => a.d - b.d);
      assert.equal(indices[i * k], i);
      assert.equal(distances[i * k], 0);
      for (let t = 1; t < k; t++) {
        assert.equal(indices[i * k + t], all[t - 1].j, `${metric} row ${i} neighbour ${t}`);
        assert.ok(Math.abs(distances[i * k + t] - all[t - 1].d) < 1e-6);
      }
    }
  }
});
