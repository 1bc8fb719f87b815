// Flat clusterings of directions by cosine similarity: spherical k-means (k-means++ seeding, seeded;
// scales to tens of thousands of rows through tfjs products) and average-linkage agglomeration
// (UPGMA, nearest-neighbour chain, O(n²) memory — for a few thousand rows), cut at k clusters.
import { tf } from "../engine/backend.js";
import { Rng } from "../engine/random.js";

export interface Clustering {
  /** Cluster of each row, 0..k−1; clusters are numbered by size, largest first. */
  labels: Int32Array;
  k: number;
  /** Rows in each cluster. */
  sizes: number[];
}

/** Rows scaled to unit norm (zero rows stay zero), as float32 for tfjs. */
export function unitRows(values: ArrayLike<number>, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += values[i * dim + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[i * dim + j] = values[i * dim + j] * inv;
  }
  return out;
}

/** Cosine similarity of each row of `a` with each row of `b` (both unit rows), [na, nb]. */
function cosines(a: tf.Tensor2D, bT: tf.Tensor2D): Float32Array {
  const p = tf.matMul(a, bT);
  const out = p.dataSync() as Float32Array;
  p.dispose();
  return out;
}

/**
 * Renumber labels so cluster 0 is the largest (ties: smallest first member), for stable output;
 * `order[r]` is the old label of new cluster r.
 */
function canonical(labels: Int32Array, k: number): Clustering & { order: number[] } {
  const sizes = new Array<number>(k).fill(0);
  const first = new Array<number>(k).fill(Infinity);
  labels.forEach((l, i) => {
    sizes[l]++;
    if (i < first[l]) first[l] = i;
  });
  const order = Array.from({ length: k }, (_, c) => c).filter((c) => sizes[c] > 0).sort((a, b) => sizes[b] - sizes[a] || first[a] - first[b]);
  const rename = new Int32Array(k).fill(-1);
  order.forEach((c, r) => (rename[c] = r));
  return { labels: labels.map((l) => rename[l]), k: order.length, sizes: order.map((c) => sizes[c]), order };
}

export interface KMeansResult extends Clustering {
  /** Unit-norm cluster centres, k × dim, in the renumbered order. */
  centroids: Float32Array;
  /** Mean cosine similarity of rows to their centre. */
  meanCosine: number;
  iterations: number;
}

/** Spherical k-means of unit rows: assign by largest cosine, centres = normalised means. */
export function sphericalKMeans(unit: Float32Array, n: number, dim: number, k: number, opts: { seed?: number; maxIter?: number } = {}): KMeansResult {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`featurelab: k-means: k=${k} must be between 1 and the number of rows (${n})`);
  const rng = new Rng(opts.seed ?? 0);
  const X = tf.tensor2d(unit, [n, dim]);
  try {
    // k-means++ on cosine distance 1 − cos: each next centre drawn ∝ squared distance to the nearest.
    const centres = new Float32Array(k * dim);
    const nearest = new Float64Array(n).fill(Infinity);
    let pick = rng.int(n);
    for (let c = 0; c < k; c++) {
      centres.set(unit.subarray(pick * dim, (pick + 1) * dim), c * dim);
      const cos = tf.tidy(() => tf.matMul(X, tf.tensor2d(unit.subarray(pick * dim, (pick + 1) * dim), [dim, 1])));
      const cv = cos.dataSync();
      cos.dispose();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const d = Math.max(0, 1 - cv[i]) ** 2;
        if (d < nearest[i]) nearest[i] = d;
        total += nearest[i];
      }
      if (total <= 0) {
        pick = rng.int(n);
        continue;
      }
      let r = rng.uniform() * total;
      pick = n - 1;
      for (let i = 0; i < n; i++) {
        r -= nearest[i];
        if (r < 0) {
          pick = i;
          break;
        }
      }
    }
    const labels = new Int32Array(n).fill(-1);
    let iterations = 0;
    let meanCosine = 0;
    for (; iterations < (opts.maxIter ?? 100); iterations++) {
      const cT = tf.tidy(() => tf.transpose(tf.tensor2d(centres, [k, dim])) as tf.Tensor2D);
      const sims = cosines(X, cT);
      cT.dispose();
      let changed = 0;
      meanCosine = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (sims[i * k + c] > sims[i * k + best]) best = c;
        if (labels[i] !== best) changed++;
        labels[i] = best;
        meanCosine += sims[i * k + best] / n;
      }
      if (changed === 0) break;
      const sums = new Float64Array(k * dim);
      for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sums[labels[i] * dim + j] += unit[i * dim + j];
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += sums[c * dim + j] ** 2;
        // An emptied cluster keeps its old centre.
        if (s > 0) for (let j = 0; j < dim; j++) centres[c * dim + j] = sums[c * dim + j] / Math.sqrt(s);
      }
    }
    const { order, ...flat } = canonical(labels, k);
    // Centres in the canonical numbering.
    const out = new Float32Array(flat.k * dim);
    order.forEach((c, r) => out.set(centres.subarray(c * dim, (c + 1) * dim), r * dim));
    return { ...flat, centroids: out, meanCosine, iterations };
  } finally {
    X.dispose();
  }
}

export interface Merge {
  /** The two clusters merged: ids < n are rows, id n + m is the cluster made by merge m. */
  a: number;
  b: number;
  /** Average-linkage distance at which they merged. */
  height: number;
  size: number;
}

/**
 * The nearest-neighbour chain for average linkage (UPGMA) on an n×n distance matrix (row-major),
 * O(n²) time. Average linkage is "reducible", so the chain finds the same merges as the naive
 * closest-pair search, in chain order: each merges slot b into slot a at distance `height`. `d` is
 * updated in place (Lance–Williams); callers pass a scratch copy.
 */
export function nearestNeighbourChain(d: Float32Array | Float64Array, n: number): { a: number; b: number; height: number }[] {
  const size = new Float64Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  const merges: { a: number; b: number; height: number }[] = [];
  const chain: number[] = [];
  for (let remaining = n; remaining > 1; ) {
    if (chain.length === 0) chain.push(active.indexOf(1));
    const a = chain[chain.length - 1];
    const prev = chain.length > 1 ? chain[chain.length - 2] : -1;
    let b = prev, best = prev >= 0 ? d[a * n + prev] : Infinity;
    for (let c = 0; c < n; c++) {
      if (c === a || !active[c]) continue;
      if (d[a * n + c] < best) {
        best = d[a * n + c];
        b = c;
      }
    }
    if (b !== prev) {
      chain.push(b);
      continue;
    }
    // a and prev are reciprocal nearest neighbours: merge prev into slot a.
    chain.pop();
    chain.pop();
    merges.push({ a, b: prev, height: best });
    const sa = size[a], sb = size[prev];
    for (let c = 0; c < n; c++) {
      if (!active[c] || c === a || c === prev) continue;
      const v = (sa * d[a * n + c] + sb * d[prev * n + c]) / (sa + sb);
      d[a * n + c] = d[c * n + a] = v;
    }
    active[prev] = 0;
    size[a] = sa + sb;
    remaining--;
  }
  return merges;
}

/**
 * Average-linkage merges of an n×n distance matrix (row-major, float32 to halve the memory), in
 * increasing height, as scipy.cluster.hierarchy.linkage(method="average") numbers them.
 */
export function averageLinkage(dist: Float32Array, n: number): Merge[] {
  const raw = nearestNeighbourChain(dist, n); // updates dist in place: callers pass a scratch copy
  // Slots → cluster ids in height order (stable), as scipy labels them.
  const order = raw.map((_, i) => i).sort((x, y) => raw[x].height - raw[y].height || x - y);
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  const id = Int32Array.from({ length: n }, (_, i) => i); // cluster id of each union-find root
  const count = new Float64Array(n).fill(1);
  const merges: Merge[] = [];
  order.forEach((r, m) => {
    const ra = find(raw[r].a), rb = find(raw[r].b);
    const [x, y] = [id[ra], id[rb]].sort((p, q) => p - q);
    parent[rb] = ra;
    count[ra] += count[rb];
    id[ra] = n + m;
    merges.push({ a: x, b: y, height: raw[r].height, size: count[ra] });
  });
  return merges;
}

/** Flat clusters from the first n − k merges. */
export function cutTree(merges: Merge[], n: number, k: number): Clustering {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`featurelab: cut: k=${k} must be between 1 and the number of rows (${n})`);
  const parent = Int32Array.from({ length: 2 * n - 1 }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  for (let m = 0; m < n - k; m++) {
    parent[find(merges[m].a)] = n + m;
    parent[find(merges[m].b)] = n + m;
  }
  const roots = new Map<number, number>();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!roots.has(r)) roots.set(r, roots.size);
    labels[i] = roots.get(r)!;
  }
  const { order: _order, ...flat } = canonical(labels, roots.size);
  return flat;
}
