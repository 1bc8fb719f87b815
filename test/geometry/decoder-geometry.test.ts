import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { clusterFeatures, decoderCosine, decoderNeighbors, featureSplitting, mmcsMatrix, nearestFeatures } from "../../src/geometry/decoder-geometry.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

/** Same partition up to the numbering of clusters. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>) {
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a.length; j++) assert.equal(a[i] === a[j], b[i] === b[j], `rows ${i}, ${j}`);
}

/** `groups` families of `per` directions in `dim` dimensions, each a centre plus small noise. */
function families(groups: number, per: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: groups }, () => Array.from({ length: dim }, () => rng.normal()));
  const rows = Array.from({ length: groups * per }, (_, i) => centres[i % groups].map((c) => c + 0.15 * rng.normal()));
  return { rows, truth: Int32Array.from({ length: groups * per }, (_, i) => i % groups) };
}

test("decoder cosine matrix, neighbours and nearest features of known directions", async () => {
  await ready();
  const D = [[1, 0, 0], [0, 2, 0], [1, 1, 0], [3, 0, 0.1], [-1, 0, 0]];
  const c = decoderCosine(D);
  assert.equal(c.n, 5);
  close(c.values[0 * 5 + 1], 0, 1e-7);
  close(c.values[0 * 5 + 2], Math.SQRT1_2, 1e-6);
  close(c.values[1 * 5 + 2], Math.SQRT1_2, 1e-6);
  close(c.values[0 * 5 + 4], -1, 1e-6);
  close(c.row(3)[3], 1, 1e-6);
  const near = nearestFeatures(D, 0, 3);
  assert.deepEqual(near.map((x) => x.feature), [3, 2, 1]);
  close(near[0].cosine, 3 / Math.sqrt(9.01), 1e-6);
  const nb = decoderNeighbors(D, 2);
  assert.deepEqual(Array.from(nb.indices.subarray(0, 2)), [3, 2]);
  assert.deepEqual(Array.from(nb.indices.subarray(4 * 2, 5 * 2)), [1, 2]); // [-1,0,0]: cos 0, then −0.71
  // Against the full matrix on random directions: every feature's top-k, self excluded.
  const rng = new Rng(4);
  const R = Array.from({ length: 300 }, () => Array.from({ length: 16 }, () => rng.normal()));
  const full = decoderCosine(R);
  const top = decoderNeighbors(R, 5);
  for (let i = 0; i < 300; i++) {
    const order = Array.from({ length: 300 }, (_, j) => j).filter((j) => j !== i).sort((a, b) => full.values[i * 300 + b] - full.values[i * 300 + a]);
    assert.deepEqual(Array.from(top.indices.subarray(i * 5, i * 5 + 5)), order.slice(0, 5), `feature ${i}`);
  }
  assert.throws(() => decoderCosine(R, { maxFeatures: 100 }), /decoderNeighbors/);
  assert.throws(() => nearestFeatures(D, 5), /out of range/);
});

test("k-means and agglomerative clustering recover families of directions; k-means is seeded", async () => {
  await ready();
  const { rows, truth } = families(4, 25, 12, 1);
  const km = clusterFeatures(rows, { k: 4, seed: 0 });
  samePartition(km.labels, truth);
  assert.deepEqual(km.sizes, [25, 25, 25, 25]);
  assert.equal(km.members(0).length, 25);
  assert.ok(km.meanCosine! > 0.9);
  assert.deepEqual(clusterFeatures(rows, { k: 4, seed: 0 }).labels, km.labels);
  const ag = clusterFeatures(rows, { k: 4, method: "agglomerative" });
  samePartition(ag.labels, truth);
  assert.equal(ag.merges!.length, 99);
});

test("average-linkage merges and cuts agree with scipy (linkage average, cosine; fcluster maxclust)", async () => {
  await ready();
  const X = Array.from({ length: 12 }, (_, i) => Array.from({ length: 5 }, (_, j) => Math.sin(0.7 + i * i * 0.37 + j * 1.9) + 0.3 * Math.cos(i * j)));
  const Z = [
    [7, 10, 0.037050950193, 2], [6, 11, 0.054478359845, 2], [0, 4, 0.06765903019, 2], [8, 9, 0.093275836392, 2],
    [3, 5, 0.114120893531, 2], [1, 14, 0.11708221159, 3], [13, 17, 0.2135413045, 5], [12, 15, 0.253487898618, 4],
    [2, 18, 0.557310970616, 6], [19, 20, 0.922404655731, 10], [16, 21, 1.588032875741, 12],
  ];
  const merges = clusterFeatures(X, { k: 3, method: "agglomerative" }).merges!;
  merges.forEach((m, i) => {
    assert.deepEqual([m.a, m.b, m.size], [Z[i][0], Z[i][1], Z[i][3]], `merge ${i}`);
    close(m.height, Z[i][2], 1e-5, `height ${i}`);
  });
  const fcluster: Record<number, number[]> = {
    2: [2, 2, 2, 1, 2, 1, 2, 2, 2, 2, 2, 2],
    3: [3, 3, 3, 1, 3, 1, 3, 2, 2, 2, 2, 3],
    4: [3, 3, 4, 1, 3, 1, 3, 2, 2, 2, 2, 3],
  };
  for (const k of [2, 3, 4]) samePartition(clusterFeatures(X, { k, method: "agglomerative" }).labels, fcluster[k]);
});

test("feature splitting: each feature of the wider dictionary finds the one it split from", async () => {
  await ready();
  const small = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  // Each small feature splits in two, tilted ±0.3 towards the fourth axis.
  const large = [[1, 0, 0, 0.3], [1, 0, 0, -0.3], [0, 0, 1, 0.3], [0, 1, 0, 0.3], [0, 1, 0, -0.3], [0, 0, 1, -0.3]];
  const s = featureSplitting(large, small); // order does not matter
  assert.deepEqual(s.widths, [3, 6]);
  assert.deepEqual(Array.from(s.parent), [0, 0, 2, 1, 1, 2]);
  assert.deepEqual(s.children, [[0, 1], [3, 4], [2, 5]]);
  for (const c of s.cosine) close(c, 1 / Math.sqrt(1.09), 1e-6);
  close(s.mmcs, 1 / Math.sqrt(1.09), 1e-6);
});

test("MMCS across dictionaries (trained SAEs of two seeds and two widths)", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 800, features: 16, dim: 8, avgActive: 2, seed: 1 });
  const fit = (width: number, seed: number) => dictionary("relu", { width, l1: 0.05 }).fit(toy.acts, { steps: 60, batchSize: 64, lr: 3e-3, seed, progress: false });
  const a = await fit(16, 0), b = await fit(16, 1), c = await fit(32, 0);
  const m = mmcsMatrix({ a, b, wide: c });
  assert.deepEqual(m.labels, ["a", "b", "wide"]);
  for (let i = 0; i < 3; i++) assert.equal(m.values[i][i], 1);
  close(m.values[0][1], mmcs(a.weights.W_dec, b.weights.W_dec), 1e-6);
  close(m.values[2][0], mmcs(c.weights.W_dec, a.weights.W_dec), 1e-6);
  const split = featureSplitting(a, c);
  assert.equal(split.parent.length, 32);
  close(split.mmcs, m.values[2][0], 1e-6);
  assert.equal(split.children.flat().length, 32);
  const nb = decoderNeighbors(c, 3);
  assert.equal(nb.indices.length, 96);
});
