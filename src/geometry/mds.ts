// Multidimensional scaling of a dissimilarity matrix (e.g. an RDM): classical (Torgerson) MDS,
// B = −½·J·D⁽²⁾·J with J = I − 11ᵀ/K and coordinates V_k·Λ_k^½, and metric MDS by SMACOF
// (majorisation of raw stress, as sklearn.manifold.MDS, which rsatoolbox's show_MDS calls).
//
// The values are taken as distances, as they are given — as rsatoolbox does. An RDM made with
// rsatoolbox's "euclidean" (or "mahalanobis") holds *squared* distances / C, so its MDS is that of
// the squared distances; pass `{ sqrt: true }` to embed √value instead, which for a euclidean RDM
// recovers the patterns' configuration exactly (scaled by 1/√C).
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { Rng } from "../engine/random.js";
import type { Embedding } from "./embedding.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/**
 * A K × K dissimilarity matrix: number[][], the condensed upper triangle (rsatoolbox's vector form,
 * length K(K−1)/2, row by row), or an object with `.matrix` (property or method) and `.labels` — an RDM.
 */
export type Dissimilarities =
  | ArrayLike<number>[]
  | ArrayLike<number>
  | {
      /** The square matrix (rows, or flat row-major) or the upper triangle, or a method returning one. */
      matrix: ArrayLike<number>[] | ArrayLike<number> | (() => ArrayLike<number>[] | ArrayLike<number>);
      /** Names of the points. */
      labels?: ArrayLike<unknown>;
    };

export interface MdsInputOptions {
  /** Embed √value instead of the value (for RDMs of squared distances, e.g. rsatoolbox's "euclidean"). */
  sqrt?: boolean;
}

/** Options of `classicalMds`. */
export interface ClassicalMdsOptions extends MdsInputOptions {
  /** Dimensions (default 2). */
  k?: number;
}

const CLASSICAL_MDS_OPTIONS = optionNames<ClassicalMdsOptions>({ k: true, sqrt: true });

/** What `classicalMds` returns: the embedding and its eigenvalues. */
export interface ClassicalMds extends Embedding {
  /** Every eigenvalue of B, largest first; negative ones mean the dissimilarities are not Euclidean. */
  eigenvalues: number[];
  /** Each kept dimension's eigenvalue as a share of the sum of the positive eigenvalues. */
  explained: number[];
}

/** Options of `metricMds`. */
export interface MetricMdsOptions extends ClassicalMdsOptions {
  /** Start from the classical solution (default) or from seeded uniform random points. */
  init?: "classical" | "random";
  /** Random starts to try, keeping the lowest stress (init "random"; default 4, as sklearn). */
  nInit?: number;
  seed?: number;
  /** Iterations per start (default 300, as sklearn). */
  maxIter?: number;
  /** Stop when stress falls by less than this fraction in one iteration (default 1e-6). */
  tolerance?: number;
}

const METRIC_MDS_OPTIONS = optionNames<MetricMdsOptions>({ k: true, sqrt: true, init: true, nInit: true, seed: true, maxIter: true, tolerance: true });

/** What `metricMds` returns: the embedding and its stress. */
export interface MetricMds extends Embedding {
  /** Raw stress Σ_{i<j} (d_ij − δ_ij)², d the embedded distances, δ the dissimilarities. */
  stress: number;
  /** Kruskal's stress-1: √(Σ(d_ij − δ_ij)² / Σ δ_ij²) (sklearn's normalized stress). */
  stress1: number;
  /** Raw stress after each iteration of the best start (never increases: SMACOF majorises it). */
  history: number[];
  iterations: number;
}

interface Square {
  d: Float64Array;
  n: number;
  labels?: string[];
}

/** The dissimilarities as a full symmetric K × K matrix, checked. */
export function squareDissimilarities(input: Dissimilarities, opts: MdsInputOptions = {}): Square {
  let labels: string[] | undefined;
  let m: ArrayLike<number>[] | ArrayLike<number> = input as ArrayLike<number>;
  if (!Array.isArray(input) && typeof input === "object" && "matrix" in input) {
    m = typeof input.matrix === "function" ? input.matrix() : input.matrix;
    if (input.labels) labels = Array.from(input.labels, String);
  }
  let n: number;
  let d: Float64Array;
  if (Array.isArray(m) && m.length > 0 && typeof m[0] === "object") {
    const rows = m as ArrayLike<number>[];
    n = rows.length;
    d = new Float64Array(n * n);
    rows.forEach((r, i) => {
      if (r.length !== n) throw new Error(`featurelab: MDS needs a square matrix; row ${i} has ${r.length} values, there are ${n} rows`);
      for (let j = 0; j < n; j++) d[i * n + j] = r[j];
    });
  } else {
    const v = m as ArrayLike<number>;
    n = (1 + Math.sqrt(1 + 8 * v.length)) / 2;
    if (!Number.isInteger(n)) throw new Error(`featurelab: MDS: ${v.length} values are not the upper triangle of a square matrix (K(K−1)/2)`);
    d = new Float64Array(n * n);
    let p = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) d[i * n + j] = d[j * n + i] = v[p++];
  }
  if (n < 2) throw new Error("featurelab: MDS needs at least 2 items");
  if (labels && labels.length !== n) throw new Error(`featurelab: MDS: ${labels.length} labels for ${n} items`);
  let scale = 0;
  for (const a of d) if (Math.abs(a) > scale) scale = Math.abs(a);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = d[i * n + j];
      if (!Number.isFinite(a)) throw new Error(`featurelab: MDS: dissimilarity [${i}, ${j}] is ${a}; MDS needs every pair`);
      if (i === j && Math.abs(a) > 1e-9 * scale) throw new Error(`featurelab: MDS: the diagonal must be 0, [${i}, ${i}] is ${a}`);
      if (Math.abs(a - d[j * n + i]) > 1e-9 * Math.max(1, Math.abs(a))) {
        throw new Error(`featurelab: MDS needs a symmetric matrix: [${i}, ${j}] = ${a}, [${j}, ${i}] = ${d[j * n + i]}`);
      }
      if (opts.sqrt && a < 0) throw new Error(`featurelab: MDS { sqrt: true }: dissimilarity [${i}, ${j}] is negative (${a})`);
    }
  }
  for (let i = 0; i < n; i++) d[i * n + i] = 0;
  if (opts.sqrt) for (let p = 0; p < d.length; p++) d[p] = Math.sqrt(d[p]);
  return { d, n, labels };
}

function kOf(arg: number | ClassicalMdsOptions | undefined): ClassicalMdsOptions {
  return typeof arg === "number" ? { k: arg } : (arg ?? {});
}

/**
 * Classical (Torgerson) MDS: the top-k eigenvectors of the double-centred squared dissimilarities.
 * @example
 * fl.show(fl.plot.embedding(fl.classicalMds(rdm)));
 */
export function classicalMds(dissimilarities: Dissimilarities, k: number | ClassicalMdsOptions = 2): ClassicalMds {
  const opts = kOf(k);
  rejectUnknownOptions("classicalMds", opts, CLASSICAL_MDS_OPTIONS);
  const sq = squareDissimilarities(dissimilarities, opts);
  return classicalFromSquare(sq, opts.k ?? 2);
}

function classicalFromSquare({ d, n, labels }: Square, k: number): ClassicalMds {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`featurelab: MDS: k=${k} must be between 1 and the number of items (${n})`);
  // B = −½ J D² J, written as double centring of D².
  const d2 = Float64Array.from(d, (v) => v * v);
  const rowMean = new Float64Array(n);
  let grand = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) rowMean[i] += d2[i * n + j];
    grand += rowMean[i];
    rowMean[i] /= n;
  }
  grand /= n * n;
  const B = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) B.set(i, j, -0.5 * (d2[i * n + j] - rowMean[i] - rowMean[j] + grand));
  const evd = new EigenvalueDecomposition(B, { assumeSymmetric: true });
  const eig = evd.realEigenvalues;
  const order = Array.from(eig.keys()).sort((a, b) => eig[b] - eig[a]);
  const positive = eig.reduce((s, v) => s + Math.max(v, 0), 0);
  const coords = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    const col = evd.eigenvectorMatrix.getColumn(order[c]);
    // A negative eigenvalue has no real coordinate: that axis collapses to 0.
    const scale = Math.sqrt(Math.max(eig[order[c]], 0));
    let big = 0;
    for (const v of col) if (Math.abs(v) > Math.abs(big)) big = v;
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) coords[i * k + c] = sign * col[i] * scale;
  }
  return {
    coords,
    n,
    k,
    method: "classical MDS",
    labels,
    eigenvalues: order.map((i) => eig[i]),
    explained: order.slice(0, k).map((i) => (positive > 0 ? Math.max(eig[i], 0) / positive : 0)),
  };
}

/**
 * Metric MDS by SMACOF: minimises raw stress Σ_{i<j} (d_ij − δ_ij)² with Guttman transforms.
 * @example
 * const e = fl.metricMds(rdm, { k: 2, seed: 0 });
 * e.stress;
 */
export function metricMds(dissimilarities: Dissimilarities, k: number | MetricMdsOptions = 2): MetricMds {
  const opts: MetricMdsOptions = kOf(k);
  rejectUnknownOptions("metricMds", opts, METRIC_MDS_OPTIONS);
  const sq = squareDissimilarities(dissimilarities, opts);
  const dims = opts.k ?? 2;
  const { d: delta, n } = sq;
  const init = opts.init ?? "classical";
  const starts: Float64Array[] = [];
  if (init === "classical") {
    starts.push(classicalFromSquare(sq, dims).coords);
  } else if (init === "random") {
    const rng = new Rng(opts.seed ?? 0);
    for (let s = 0; s < (opts.nInit ?? 4); s++) starts.push(Float64Array.from({ length: n * dims }, () => rng.uniform()));
  } else {
    throw new Error(`featurelab: metricMds: init must be "classical" or "random", got ${JSON.stringify(init)}`);
  }
  let best: { x: Float64Array; history: number[] } | undefined;
  for (const x0 of starts) {
    const run = smacof(delta, n, dims, x0, opts.maxIter ?? 300, opts.tolerance ?? 1e-6);
    if (!best || run.history[run.history.length - 1] < best.history[best.history.length - 1]) best = run;
  }
  const { x, history } = best!;
  let sumDelta2 = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sumDelta2 += delta[i * n + j] ** 2;
  const stress = history[history.length - 1];
  return {
    coords: x,
    n,
    k: dims,
    method: "metric MDS",
    labels: sq.labels,
    stress,
    stress1: sumDelta2 > 0 ? Math.sqrt(stress / sumDelta2) : 0,
    history,
    iterations: history.length - 1,
  };
}

function stressOf(delta: Float64Array, n: number, k: number, x: Float64Array, dist: Float64Array): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let q = 0;
      for (let c = 0; c < k; c++) q += (x[i * k + c] - x[j * k + c]) ** 2;
      const e = Math.sqrt(q);
      dist[i * n + j] = dist[j * n + i] = e;
      s += (e - delta[i * n + j]) ** 2;
    }
  }
  return s;
}

function smacof(delta: Float64Array, n: number, k: number, x0: Float64Array, maxIter: number, tol: number) {
  let x = Float64Array.from(x0);
  const dist = new Float64Array(n * n);
  const history = [stressOf(delta, n, k, x, dist)];
  for (let it = 0; it < maxIter; it++) {
    // Guttman transform X ← B(X)·X / n, b_ij = −δ_ij/d_ij (0 where d_ij = 0), b_ii = −Σ_j b_ij.
    const next = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      let diag = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const e = dist[i * n + j];
        const b = e > 0 ? -delta[i * n + j] / e : 0;
        diag -= b;
        for (let c = 0; c < k; c++) next[i * k + c] += b * x[j * k + c];
      }
      for (let c = 0; c < k; c++) next[i * k + c] = (next[i * k + c] + diag * x[i * k + c]) / n;
    }
    x = next;
    const s = stressOf(delta, n, k, x, dist);
    const prev = history[history.length - 1];
    history.push(s);
    if (prev - s <= tol * prev) break;
  }
  return { x, history };
}
