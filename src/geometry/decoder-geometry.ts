// The geometry of a dictionary's decoder directions (rows of W_dec): their cosine similarities,
// each feature's nearest features, clusters of features, and how features correspond across
// dictionaries of other seeds or widths (feature splitting: a wider dictionary's features matched
// to the narrower one's; Bricken et al. 2023).
import { tf, ensureEngine } from "../engine/backend.js";
import type { BestMatches } from "../metrics/mmcs.js";
import { flatRows, type Rows } from "./rows.js";
import { averageLinkage, cutTree, sphericalKMeans, unitRows, type Clustering, type Merge } from "./cluster.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** A dictionary (its decoder rows) or feature directions as rows. */
export type Features =
  | {
      /** Feature i's direction as row i of a flat array, with its dim. */
      decoderDirections(): { values: Float32Array; dim: number };
    }
  | Rows;

interface Unit {
  unit: Float32Array;
  n: number;
  dim: number;
}

function unitFeatures(x: Features, what = "features"): Unit {
  const rows = typeof (x as { decoderDirections?: unknown }).decoderDirections === "function"
    ? flatRows((x as { decoderDirections(): { values: Float32Array; dim: number } }).decoderDirections(), what)
    : flatRows(x as Rows, what);
  return { unit: unitRows(rows.values, rows.rows, rows.dim), n: rows.rows, dim: rows.dim };
}

/** What `decoderCosine` returns: the n × n cosine similarities of decoder directions. */
export interface CosineMatrix {
  /** values[i·n + j] = cos(d_i, d_j), row-major. */
  values: Float32Array;
  n: number;
  /** Row i as an array. */
  row(i: number): Float32Array;
}

/**
 * Cosine similarity between every pair of decoder directions, n × n. Refused above `maxFeatures`
 * (default 8192, 256 MB): use decoderNeighbors for the nearest few of each instead.
 * @example
 * const cos = fl.decoderCosine(sae);
 * cos.row(7);                                   // feature 7 against every feature
 */
export function decoderCosine(dict: Features, opts: { maxFeatures?: number } = {}): CosineMatrix {
  rejectUnknownOptions("decoderCosine", opts, optionNames<typeof opts>({ maxFeatures: true }));
  ensureEngine();
  const { unit, n, dim } = unitFeatures(dict);
  const max = opts.maxFeatures ?? 8192;
  if (n > max) {
    throw new Error(`featurelab: decoderCosine: ${n} features make a ${n}×${n} matrix; use decoderNeighbors(dict, n) for the nearest features of each, or raise maxFeatures`);
  }
  const p = tf.tidy(() => {
    const U = tf.tensor2d(unit, [n, dim]);
    return tf.matMul(U, tf.transpose(U));
  });
  const values = p.dataSync() as Float32Array;
  p.dispose();
  return { values, n, row: (i: number) => values.subarray(i * n, (i + 1) * n) };
}

/** What `decoderNeighbors` returns: each feature's k nearest others by decoder cosine. */
export interface FeatureNeighbors {
  /** indices[i·k + t]: feature i's t-th most similar other feature. */
  indices: Int32Array;
  /** …and its cosine similarity. */
  cosine: Float32Array;
  /** Neighbours per feature. */
  k: number;
  /** Features. */
  n: number;
}

/**
 * Each feature's k most similar other features by decoder cosine, in blocks (never n × n at once).
 * @example
 * const nn = fl.decoderNeighbors(sae, 5);
 */
export function decoderNeighbors(dict: Features, k = 10): FeatureNeighbors {
  ensureEngine();
  const { unit, n, dim } = unitFeatures(dict);
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new Error(`featurelab: decoderNeighbors: k=${k} must be between 1 and ${n - 1}`);
  const indices = new Int32Array(n * k);
  const cosine = new Float32Array(n * k);
  const U = tf.tensor2d(unit, [n, dim]);
  const UT = tf.transpose(U);
  const block = Math.max(1, Math.min(n, Math.floor(2 ** 24 / n)));
  try {
    for (let start = 0; start < n; start += block) {
      const rows = Math.min(block, n - start);
      const [v, ix] = tf.tidy(() => {
        const sims = tf.matMul(U.slice([start, 0], [rows, dim]), UT);
        // Push each row's own entry below any cosine so it is never its own neighbour.
        const self = tf.oneHot(tf.range(start, start + rows, 1, "int32"), n).mul(-4);
        const r = tf.topk(tf.add(sims, self), k);
        return [r.values, r.indices];
      });
      cosine.set(v.dataSync() as Float32Array, start * k);
      indices.set(ix.dataSync() as Int32Array, start * k);
      tf.dispose([v, ix]);
    }
  } finally {
    tf.dispose([U, UT]);
  }
  return { indices, cosine, k, n };
}

/**
 * The n features whose decoder directions are most similar to `feature`'s, most similar first.
 * @example
 * console.table(fl.nearestFeatures(sae, 7, 10));
 */
export function nearestFeatures(dict: Features, feature: number, n = 10): { feature: number; cosine: number }[] {
  ensureEngine();
  const u = unitFeatures(dict);
  if (!Number.isInteger(feature) || feature < 0 || feature >= u.n) throw new RangeError(`featurelab: nearestFeatures: feature ${feature} out of range 0..${u.n - 1}`);
  const sims = tf.tidy(() => tf.matMul(tf.tensor2d(u.unit, [u.n, u.dim]), tf.tensor2d(u.unit.subarray(feature * u.dim, (feature + 1) * u.dim), [u.dim, 1])));
  const s = sims.dataSync() as Float32Array;
  sims.dispose();
  const order = Array.from({ length: u.n }, (_, i) => i).filter((i) => i !== feature);
  order.sort((a, b) => s[b] - s[a] || a - b);
  return order.slice(0, n).map((i) => ({ feature: i, cosine: s[i] }));
}

/** What `clusterFeatures` returns: a cluster per feature, and the centres or tree of the method used. */
export interface FeatureClusters extends Clustering {
  method: "kmeans" | "agglomerative";
  /** Unit-norm centre of each cluster (k-means), k × dim. */
  centroids?: Float32Array;
  /** Mean cosine of features to their cluster centre (k-means). */
  meanCosine?: number;
  /** The whole average-linkage tree, scipy's numbering (agglomerative). */
  merges?: Merge[];
  /** Features in cluster c. */
  members(c: number): number[];
}

/** Options of `clusterFeatures`. */
export interface ClusterOptions {
  /** Number of clusters. */
  k: number;
  /** "kmeans" (spherical k-means, default) or "agglomerative" (average linkage on 1 − cosine). */
  method?: "kmeans" | "agglomerative";
  seed?: number;
  maxIter?: number;
}

const CLUSTER_OPTIONS = optionNames<ClusterOptions>({ k: true, method: true, seed: true, maxIter: true });

/**
 * Clusters of features by the cosine similarity of their decoder directions.
 * @example
 * const clusters = fl.clusterFeatures(sae, { k: 20, seed: 0 });
 * clusters.members(0);                        // features of the largest cluster
 */
export function clusterFeatures(dict: Features, opts: ClusterOptions): FeatureClusters {
  rejectUnknownOptions("clusterFeatures", opts, CLUSTER_OPTIONS);
  ensureEngine();
  const { unit, n, dim } = unitFeatures(dict);
  const method = opts.method ?? "kmeans";
  let result: Omit<FeatureClusters, "members">;
  if (method === "kmeans") {
    result = { ...sphericalKMeans(unit, n, dim, opts.k, { seed: opts.seed, maxIter: opts.maxIter }), method };
  } else if (method === "agglomerative") {
    if (n > 8192) throw new Error(`featurelab: agglomerative clustering keeps an n×n matrix; ${n} features is too many — use method "kmeans"`);
    // The cosine matrix becomes the distance matrix in place (one n×n array, not two).
    const dist = decoderCosine({ values: unit, dim }).values;
    for (let p = 0; p < dist.length; p++) dist[p] = Math.max(0, 1 - dist[p]);
    const merges = averageLinkage(dist, n);
    result = { ...cutTree(merges, n, opts.k), method, merges };
  } else {
    throw new Error(`featurelab: clusterFeatures method must be "kmeans" or "agglomerative", got ${JSON.stringify(method)}`);
  }
  const labels = result.labels;
  return { ...result, members: (c: number) => Array.from(labels.keys()).filter((i) => labels[i] === c) };
}

/** bestMatches over blocks of A's rows, so A·Bᵀ is never held whole (16k × 32k would be 2 GB). */
function blockedBestMatches(a: Unit, b: Unit): BestMatches {
  if (a.dim !== b.dim) throw new Error(`featurelab: directions of dim ${a.dim} and ${b.dim} cannot be compared`);
  const index = new Int32Array(a.n);
  const cosine = new Float32Array(a.n);
  const block = Math.max(1, Math.floor(2 ** 24 / b.n));
  // Both sides are unit rows already: Bᵀ goes up once, each block of A is one product and a max.
  const BT = tf.tidy(() => tf.transpose(tf.tensor2d(b.unit, [b.n, b.dim])));
  try {
    for (let start = 0; start < a.n; start += block) {
      const end = Math.min(a.n, start + block);
      const [best, at] = tf.tidy(() => {
        const sims = tf.matMul(tf.tensor2d(a.unit.subarray(start * a.dim, end * a.dim), [end - start, a.dim]), BT);
        return [tf.max(sims, 1), tf.argMax(sims, 1)];
      });
      cosine.set(best.dataSync() as Float32Array, start);
      index.set(at.dataSync() as Int32Array, start);
      tf.dispose([best, at]);
    }
  } finally {
    BT.dispose();
  }
  return { index, cosine };
}

/** What `featureSplitting` returns: how a wider dictionary's features map onto a narrower one's. */
export interface FeatureSplitting {
  /** For each feature of the larger dictionary, its best match in the smaller one… */
  parent: Int32Array;
  /** …and that cosine similarity. */
  cosine: Float32Array;
  /** For each feature of the smaller dictionary, the larger one's features that matched it (its "children"). */
  children: number[][];
  /** MMCS from the larger to the smaller dictionary (mean of `cosine`). */
  mmcs: number;
  /** Widths: [smaller, larger]. */
  widths: [number, number];
}

/**
 * Feature splitting between two dictionaries of different widths: each feature of the larger one
 * matched to its most similar decoder direction in the smaller one (either argument order works).
 * @example
 * const split = fl.featureSplitting(sae512, sae4096);
 * split.children[7];                           // the wide features that matched feature 7
 */
export function featureSplitting(a: Features, b: Features): FeatureSplitting {
  ensureEngine();
  let small = unitFeatures(a, "first dictionary");
  let large = unitFeatures(b, "second dictionary");
  if (small.n > large.n) [small, large] = [large, small];
  if (small.dim !== large.dim) throw new Error(`featurelab: featureSplitting: directions of dim ${small.dim} and ${large.dim}`);
  const m = blockedBestMatches(large, small);
  const children: number[][] = Array.from({ length: small.n }, () => []);
  m.index.forEach((p, i) => children[p].push(i));
  let s = 0;
  for (const c of m.cosine) s += c;
  return { parent: m.index, cosine: m.cosine, children, mmcs: s / large.n, widths: [small.n, large.n] };
}

/** What `mmcsMatrix` returns: MMCS between every ordered pair of dictionaries. */
export interface MmcsMatrix {
  labels: string[];
  /** values[i][j] = MMCS(i → j): mean over i's features of the best cosine with j's (not symmetric). */
  values: number[][];
}

/**
 * MMCS between every pair of dictionaries, e.g. runs with different seeds or widths.
 * MMCS between every ordered pair of dictionaries (across seeds or widths).
 * @example
 * fl.show(fl.plot.cka(fl.mmcsMatrix({ seed0: a, seed1: b, seed2: c })));
 */
export function mmcsMatrix(dicts: Record<string, Features> | Features[]): MmcsMatrix {
  ensureEngine();
  const entries: [string, Features][] = Array.isArray(dicts) ? dicts.map((d, i) => [String(i), d]) : Object.entries(dicts);
  const units = entries.map(([name, d]) => unitFeatures(d, name));
  const values = units.map((a) =>
    units.map((b) => {
      if (a === b) return 1;
      const { cosine } = blockedBestMatches(a, b);
      let s = 0;
      for (const c of cosine) s += c;
      return s / cosine.length;
    }),
  );
  return { labels: entries.map(([name]) => name), values };
}
