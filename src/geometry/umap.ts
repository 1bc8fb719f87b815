// UMAP (McInnes et al. 2018) through umap-js, with three things umap-js does slowly or not at all
// done here: the exact k-nearest-neighbour graph, from blocked matrix products on tfjs (umap-js's
// RP-forest + NN-descent in plain JavaScript costs ~15 s at 16k × 512 and is approximate); a PCA
// initialisation scaled as umap-learn's init="pca" (umap-js starts from uniform noise, which loses
// global structure; Kobak & Linderman 2021); and its optimiser's sampling schedule moved into typed
// arrays (below). Randomness comes from the project's seeded Rng.
import { UMAP } from "umap-js";
import { Matrix, QrDecomposition, EigenvalueDecomposition } from "ml-matrix";
import { tf, ensureEngine } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { centred, flatRows, type Rows } from "./rows.js";
import { unitRows } from "./cluster.js";
import type { Embedding } from "./embedding.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `umap`. */
export interface UmapOptions {
  /** Output dimensions (default 2). */
  dim?: number;
  /** Size of the local neighbourhood, the point itself included (default 15, as umap-learn). */
  nNeighbors?: number;
  /** How tightly points may pack in the embedding (default 0.1). */
  minDist?: number;
  /** Scale of embedded points (default 1). */
  spread?: number;
  /** "euclidean" (default) or "cosine" (1 − cosine similarity; natural for decoder directions). */
  metric?: "euclidean" | "cosine";
  /** Optimisation epochs (default umap-js's: 500 up to 2 500 points … 200 above 7 500). */
  nEpochs?: number;
  /** Start from the top principal components (default) or from uniform noise, as umap-js does. */
  init?: "pca" | "random";
  seed?: number;
}

const UMAP_OPTIONS = optionNames<UmapOptions>({ dim: true, nNeighbors: true, minDist: true, spread: true, metric: true, nEpochs: true, init: true, seed: true });

/** What `umap` returns: the embedding and the neighbour graph it was built from. */
export interface UmapEmbedding extends Embedding {
  /** Each point's neighbours (self first), n × nNeighbors, and their distances in the metric. */
  knn: { indices: Int32Array; distances: Float64Array; k: number };
}

/**
 * Embed row vectors with UMAP: `umap(values, dim, opts)` for a flat row-major array, or
 * `umap(rows, opts)` for an ActivationSet, `dict.decoderDirections()`, number[][] or a tensor.
 * @example
 * fl.show(fl.plot.embedding(fl.umap(acts, { nNeighbors: 15, seed: 0 }), { acts, color: "label" }));
 */
export function umap(values: ArrayLike<number>, dim: number, opts?: UmapOptions): UmapEmbedding;
export function umap(rows: Rows, opts?: UmapOptions): UmapEmbedding;
export function umap(a: ArrayLike<number> | Rows, b?: number | UmapOptions, c?: UmapOptions): UmapEmbedding {
  const opts = (typeof b === "number" ? c : b) ?? {};
  rejectUnknownOptions("umap", opts, UMAP_OPTIONS);
  const input = typeof b === "number" ? flatRows({ values: a as ArrayLike<number>, dim: b }) : flatRows(a as Rows, "umap input");
  const k = opts.nNeighbors ?? 15;
  const outDim = opts.dim ?? 2;
  const metric = opts.metric ?? "euclidean";
  const { rows: n } = input;
  if (metric !== "euclidean" && metric !== "cosine") throw new Error(`featurelab: umap metric must be "euclidean" or "cosine", got ${JSON.stringify(metric)}`);
  if (!Number.isInteger(k) || k < 2) throw new Error(`featurelab: umap nNeighbors must be an integer ≥ 2, got ${k}`);
  if (n <= k) throw new Error(`featurelab: umap needs more rows (${n}) than nNeighbors (${k})`);
  ensureEngine();
  const rng = new Rng(opts.seed ?? 0);
  const knn = nearestNeighbors(input.values, n, input.dim, k, metric);

  const model = new UMAP({
    nComponents: outDim,
    nNeighbors: k,
    minDist: opts.minDist ?? 0.1,
    spread: opts.spread ?? 1,
    nEpochs: opts.nEpochs,
    random: () => rng.uniform(),
  });
  model.setPrecomputedKNN(
    Array.from({ length: n }, (_, i) => Array.from(knn.indices.subarray(i * k, (i + 1) * k))),
    Array.from({ length: n }, (_, i) => Array.from(knn.distances.subarray(i * k, (i + 1) * k))),
  );
  // With the neighbours given, umap-js only reads the rows' count: views, not copies.
  const views = Array.from({ length: n }, (_, i) => input.values.subarray(i * input.dim, (i + 1) * input.dim)) as unknown as number[][];
  model.initializeFit(views);
  if ((opts.init ?? "pca") === "pca") {
    // getEmbedding() is the array the optimiser moves: overwrite its starting values in place.
    const start = pcaStart(input.values, n, input.dim, outDim, rng);
    const emb = model.getEmbedding();
    for (let i = 0; i < n; i++) for (let d = 0; d < outDim; d++) emb[i][d] = start[i * outDim + d];
  } else if (opts.init !== "random") {
    throw new Error(`featurelab: umap init must be "pca" or "random", got ${JSON.stringify(opts.init)}`);
  }
  packOptimizerState(model);
  const out = model.fit(views);
  const coords = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) for (let d = 0; d < outDim; d++) coords[i * outDim + d] = out[i][d];
  return { coords, n, k: outDim, method: "UMAP", knn: { ...knn, k } };
}

/**
 * umap-js's per-edge "next epoch to sample" arrays come out of its ES5 spread helper in V8's
 * dictionary (hash-table) mode, so each of the optimiser's ~10⁸ reads and writes is a hash lookup
 * and a boxed number: the same schedule in typed arrays makes the layout ~3× faster (16 384 rows:
 * 52 s → 16 s). Field names are umap-js 1.4's; anything missing is left alone.
 */
function packOptimizerState(model: UMAP): void {
  const state = (model as unknown as { optimizationState?: Record<string, unknown> }).optimizationState;
  if (!state) return;
  for (const key of ["head", "tail"]) if (Array.isArray(state[key])) state[key] = Int32Array.from(state[key] as number[]);
  for (const key of ["epochsPerSample", "epochOfNextSample", "epochOfNextNegativeSample", "epochsPerNegativeSample"]) {
    if (Array.isArray(state[key])) state[key] = Float64Array.from(state[key] as number[]);
  }
}

/**
 * Exact k nearest neighbours of every row (itself first, at distance 0), from blocks of
 * X·Xᵀ on tfjs; the chosen neighbours' distances are then recomputed in float64.
 */
export function nearestNeighbors(values: Float32Array | Float64Array, n: number, dim: number, k: number, metric: "euclidean" | "cosine") {
  const x = metric === "cosine" ? unitRows(values, n, dim) : Float32Array.from(values);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const X = tf.tensor2d(x, [n, dim]);
  const XT = tf.transpose(X); // explicit: matMul with transposeB is slow on tfjs-wasm
  const sq = metric === "euclidean" ? tf.sum(tf.square(X), 1) : undefined;
  const block = Math.max(1, Math.min(n, Math.floor(2 ** 24 / n)));
  const distance = (i: number, j: number) => {
    let s = 0;
    if (metric === "euclidean") {
      for (let t = 0; t < dim; t++) {
        const e = values[i * dim + t] - values[j * dim + t];
        s += e * e;
      }
      return Math.sqrt(s);
    }
    for (let t = 0; t < dim; t++) s += x[i * dim + t] * x[j * dim + t];
    return Math.max(0, 1 - s);
  };
  try {
    for (let start = 0; start < n; start += block) {
      const rows = Math.min(block, n - start);
      const top = tf.tidy(() => {
        const dots = tf.matMul(X.slice([start, 0], [rows, dim]), XT);
        // Larger is closer: 2q·x − ‖x‖² (euclidean, up to the row's own ‖q‖²) or q̂·x̂ (cosine).
        const score = sq ? tf.sub(tf.mul(dots, 2), sq) : dots;
        const r = tf.topk(score, k);
        return r.indices;
      });
      const idx = top.dataSync() as Int32Array;
      top.dispose();
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const found = Array.from(idx.subarray(r * k, (r + 1) * k)).filter((j) => j !== i);
        const pairs = found.slice(0, k - 1).map((j) => ({ j, d: distance(i, j) }));
        pairs.sort((p, q) => p.d - q.d || p.j - q.j);
        indices[i * k] = i;
        distances[i * k] = 0;
        pairs.forEach((p, t) => {
          indices[i * k + 1 + t] = p.j;
          distances[i * k + 1 + t] = p.d;
        });
      }
    }
  } finally {
    tf.dispose([X, XT, ...(sq ? [sq] : [])]);
  }
  return { indices, distances };
}

/** umap-learn's init="pca": top principal components, scaled to a largest |coordinate| of 10, plus tiny noise. */
function pcaStart(values: Float32Array | Float64Array, n: number, dim: number, k: number, rng: Rng): Float64Array {
  const xc = Float32Array.from(centred({ values, rows: n, dim }));
  const covT = tf.tidy(() => {
    const X = tf.tensor2d(xc, [n, dim]);
    return tf.matMul(tf.transpose(X), X);
  });
  const cov = new Matrix(dim, dim);
  const cv = covT.dataSync();
  covT.dispose();
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov.set(i, j, cv[i * dim + j]);
  const axes = topEigenvectors(cov, k, rng);
  const coords = new Float64Array(n * k);
  let big = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += xc[i * dim + j] * axes.get(j, c);
      coords[i * k + c] = s;
      big = Math.max(big, Math.abs(s));
    }
  }
  const scale = big > 0 ? 10 / big : 1;
  for (let p = 0; p < coords.length; p++) coords[p] = coords[p] * scale + 1e-4 * rng.normal();
  return coords;
}

/** Top-k eigenvectors of a symmetric PSD matrix by subspace iteration (an init needs no more). */
function topEigenvectors(c: Matrix, k: number, rng: Rng): Matrix {
  const d = c.rows;
  if (d <= 64) {
    const evd = new EigenvalueDecomposition(c, { assumeSymmetric: true });
    const order = Array.from(evd.realEigenvalues.keys()).sort((a, b) => evd.realEigenvalues[b] - evd.realEigenvalues[a]);
    return evd.eigenvectorMatrix.subMatrixColumn(order.slice(0, k));
  }
  const p = Math.min(d, k + 8);
  let q = new Matrix(d, p);
  for (let i = 0; i < d; i++) for (let j = 0; j < p; j++) q.set(i, j, rng.normal());
  for (let it = 0; it < 12; it++) q = new QrDecomposition(c.mmul(q)).orthogonalMatrix;
  const small = q.transpose().mmul(c).mmul(q);
  const evd = new EigenvalueDecomposition(small, { assumeSymmetric: true });
  const order = Array.from(evd.realEigenvalues.keys()).sort((a, b) => evd.realEigenvalues[b] - evd.realEigenvalues[a]);
  return q.mmul(evd.eigenvectorMatrix.subMatrixColumn(order.slice(0, k)));
}
