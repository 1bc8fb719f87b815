// Comparing RDMs, as rsatoolbox's rdm.compare: cosine (its default), corr, spearman (Pearson r of
// average ranks), kendall (tau-b, as scipy), tau-a, rho-a, cosine_cov and corr_cov (whitened), and
// bures / bures_metric (of the kernel matrices the RDMs imply).
// Pairs where either RDM is NaN are left out (rsatoolbox requires NaNs in the same places and
// leaves those out); bures needs complete RDMs (rsatoolbox's raises too). Ranks of an RDM are
// computed once and kept, so comparing one data RDM with many models ranks it once.
import type { RDM } from "./rdm.js";
import { InputError } from "../io/errors.js";
import { rankInfo, pairCounts, type RankInfo, type PairCounts } from "./ranks.js";
import { covWeightedCosine } from "./cov-weighted.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { matMul, svd, symEig } from "../engine/linalg.js";

/**
 * How two RDMs are compared, with rsatoolbox's names (cosine, Pearson, Spearman, Kendall's τ variants,
 * covariance-weighted, Bures similarity and the squared Bures metric — a distance: 0 for equal RDMs).
 */
export type CompareMethod = "cosine" | "corr" | "spearman" | "kendall" | "tau-b" | "tau-a" | "rho-a" | "cosine_cov" | "corr_cov" | "bures" | "bures_metric";

/** Every `CompareMethod`. */
export const COMPARE_METHODS: readonly CompareMethod[] = ["cosine", "corr", "spearman", "kendall", "tau-b", "tau-a", "rho-a", "cosine_cov", "corr_cov", "bures", "bures_metric"];

/** Options of `compareRdms` (for the covariance-weighted methods). */
export interface CompareOptions {
  /**
   * cosine_cov / corr_cov: covariance of the pattern estimates between conditions (rsatoolbox's
   * sigma_k): a vector of K variances, or a K×K matrix (number[][] or flat). Default: identity.
   */
  sigmaK?: ArrayLike<number> | readonly (readonly number[])[];
}

export const COMPARE_OPTIONS = optionNames<CompareOptions>({ sigmaK: true });

/**
 * Similarity of two RDMs of the same conditions.
 * @example
 * fl.compareRdms(dataRdm, modelRdm, "tau-a");                  // a number
 * fl.show(fl.compareRdms([s1, s2], { animacy, size }, "corr")); // a many-vs-many table
 */
export function compareRdms(a: RDM, b: RDM, method?: CompareMethod, opts?: CompareOptions): number;
/** Every RDM of `a` against every RDM of `b`: a matrix of similarities and a tidy table. */
export function compareRdms(a: RDM | RdmCollection, b: RDM | RdmCollection, method?: CompareMethod, opts?: CompareOptions): RdmComparisons;
export function compareRdms(a: RDM | RdmCollection, b: RDM | RdmCollection, method: CompareMethod = "cosine", opts: CompareOptions = {}): number | RdmComparisons {
  rejectUnknownOptions("compareRdms", opts, COMPARE_OPTIONS);
  checkMethod(method);
  if (!isCollection(a) && !isCollection(b)) {
    checkSameConditions(a, b);
    return compareVectors(a.vector, b.vector, method, opts);
  }
  const rows = named(a), cols = named(b);
  const values = rows.map(([, x]) =>
    cols.map(([, y]) => {
      checkSameConditions(x, y);
      return compareVectors(x.vector, y.vector, method, opts);
    }),
  );
  return new RdmComparisons(method, rows.map(([n]) => n), cols.map(([n]) => n), values);
}

/** RDMs given as an array (named by their `name`, else by position) or as a name → RDM record. */
export type RdmCollection = readonly RDM[] | Readonly<Record<string, RDM>>;

/** A many-vs-many comparison: `values[i][j]` compares rows[i] with columns[j]. */
export class RdmComparisons {
  constructor(
    readonly method: CompareMethod,
    readonly rows: readonly string[],
    readonly columns: readonly string[],
    readonly values: readonly (readonly number[])[],
  ) {}

  /**
   * One record per pair: { a, b, method, value } (tidy, for tables and data frames).
   * @example
   * console.table(fl.compareRdms(subjects, models, "spearman").records());
   */
  records(): { a: string; b: string; method: string; value: number }[] {
    return this.rows.flatMap((a, i) => this.columns.map((b, j) => ({ a, b, method: this.method, value: this.values[i][j] })));
  }

  /** A text table of the values. */
  toString(): string {
    return `RdmComparisons(${this.method}, ${this.rows.length}×${this.columns.length})`;
  }
}

function isCollection(x: unknown): x is RdmCollection {
  return Array.isArray(x) || (typeof x === "object" && x !== null && !("vector" in x));
}

/** [name, RDM] pairs of an RDM or a collection (array entries named by `name`, else `#i`). */
export function named(x: RDM | RdmCollection): [string, RDM][] {
  if (!isCollection(x)) return [[x.name ?? "rdm", x]];
  if (Array.isArray(x)) return (x as RDM[]).map((r, i) => [r.name ?? `#${i}`, r]);
  return Object.entries(x as Record<string, RDM>);
}

export function checkMethod(method: string): void {
  if (!COMPARE_METHODS.includes(method as CompareMethod)) {
    throw new InputError(undefined, `compareRdms: unknown method '${method}'; use one of ${COMPARE_METHODS.join(", ")}`);
  }
}

/** Throws unless two RDMs can be compared: same number of conditions, not the same ones reordered. */
export function checkSameConditions(a: RDM, b: RDM): void {
  if (a.nConditions !== b.nConditions) {
    throw new InputError(undefined, `compareRdms: ${describe(a)} has ${a.nConditions} conditions, ${describe(b)} has ${b.nConditions}`);
  }
  // The same conditions in another order is almost certainly a mistake; different names are allowed.
  if (a.labels.some((l, i) => l !== b.labels[i])) {
    const bs = new Set(b.labels);
    if (a.labels.every((l) => bs.has(l))) {
      throw new InputError(undefined, `compareRdms: ${describe(a)} and ${describe(b)} have the same conditions in different orders; use b.reorder(a.labels)`);
    }
  }
}

const describe = (r: RDM) => (r.name ? `RDM '${r.name}'` : "an RDM");

// Per-vector facts worth keeping: whether it has NaN, and its ranks (over its non-NaN entries).
const facts = new WeakMap<Float64Array, { nan: number; ranks?: RankInfo }>();
// Pair counts of the last comparisons (kendall and tau-a of the same pair share them).
const pairs = new WeakMap<Float64Array, WeakMap<Float64Array, PairCounts>>();

function factsOf(v: Float64Array) {
  let f = facts.get(v);
  if (!f) {
    let nan = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) nan++;
    facts.set(v, (f = { nan }));
  }
  return f;
}

function ranksOf(v: Float64Array): RankInfo {
  const f = factsOf(v);
  return (f.ranks ??= rankInfo(v));
}

/**
 * Compare two RDM vectors (upper triangles of the same K). NaN pairs are dropped. Used by
 * compareRdms and by the inference functions on resampled vectors.
 */
export function compareVectors(x0: Float64Array, y0: Float64Array, method: CompareMethod, opts: CompareOptions = {}): number {
  if (x0.length !== y0.length) throw new InputError(undefined, `compareRdms: RDM vectors of different lengths (${x0.length}, ${y0.length})`);
  if (method === "bures" || method === "bures_metric") return bures(x0, y0, method);
  const fx = factsOf(x0), fy = factsOf(y0);
  let x = x0, y = y0, keep: Uint8Array | null = null;
  if (fx.nan > 0 || fy.nan > 0) {
    keep = new Uint8Array(x0.length);
    let n = 0;
    for (let p = 0; p < x0.length; p++) if (x0[p] === x0[p] && y0[p] === y0[p]) (keep[p] = 1), n++;
    x = new Float64Array(n);
    y = new Float64Array(n);
    for (let p = 0, q = 0; p < x0.length; p++) if (keep[p]) (x[q] = x0[p]), (y[q++] = y0[p]);
  }
  const n = x.length;
  if (n < 2) return NaN;
  switch (method) {
    case "cosine":
      return cosine(x, y, 0, 0);
    case "corr":
      return cosine(x, y, mean(x), mean(y));
    case "spearman":
    case "rho-a": {
      const [rx, ry] = ranksFor(x0, y0, x, y, keep);
      const rbar = (n + 1) / 2; // the mean of average ranks
      if (method === "spearman") return cosine(rx.average, ry.average, rbar, rbar);
      let s = 0;
      for (let i = 0; i < n; i++) s += (rx.average[i] - rbar) * (ry.average[i] - rbar);
      return (12 * s) / (n ** 3 - n);
    }
    case "kendall":
    case "tau-b":
    case "tau-a": {
      const c = countsOf(x0, y0, x, y, keep);
      if (method === "tau-a") return clamp(c.concordantMinusDiscordant / c.total);
      if (c.xTies === c.total || c.yTies === c.total) return NaN; // scipy: tau-b undefined for a constant vector
      return clamp(c.concordantMinusDiscordant / Math.sqrt(c.total - c.xTies) / Math.sqrt(c.total - c.yTies));
    }
    case "cosine_cov":
    case "corr_cov": {
      const K = Math.round((1 + Math.sqrt(1 + 8 * x0.length)) / 2);
      const { sigma, matrix } = sigmaOf(opts.sigmaK, K);
      const corr = method === "corr_cov";
      return covWeightedCosine(x, y, keep, K, sigma, matrix, corr ? mean(x) : 0, corr ? mean(y) : 0);
    }
  }
}

/**
 * Ranks of the kept pairs. With NaN in the same places in both (or none), each vector's ranks over
 * its own entries are the ranks over the kept pairs, so the cached ones serve; otherwise rank afresh.
 */
function ranksFor(x0: Float64Array, y0: Float64Array, x: Float64Array, y: Float64Array, keep: Uint8Array | null): [RankInfo, RankInfo] {
  if (!keep || sameNanPositions(x0, y0)) return [compactRanks(ranksOf(x0), keep), compactRanks(ranksOf(y0), keep)];
  return [rankInfo(x), rankInfo(y)];
}

function countsOf(x0: Float64Array, y0: Float64Array, x: Float64Array, y: Float64Array, keep: Uint8Array | null): PairCounts {
  let byY = pairs.get(x0);
  if (!byY) pairs.set(x0, (byY = new WeakMap()));
  let counts = byY.get(y0);
  if (!counts) {
    const [rx, ry] = ranksFor(x0, y0, x, y, keep);
    byY.set(y0, (counts = pairCounts(rx, ry)));
  }
  return counts;
}

function compactRanks(r: RankInfo, keep: Uint8Array | null): RankInfo {
  if (!keep) return r;
  let n = 0;
  for (let p = 0; p < keep.length; p++) n += keep[p];
  const dense = new Int32Array(n), average = new Float64Array(n);
  for (let p = 0, q = 0; p < keep.length; p++) {
    if (keep[p]) {
      dense[q] = r.dense[p];
      average[q++] = r.average[p];
    }
  }
  return { ...r, dense, average };
}

function sameNanPositions(x: Float64Array, y: Float64Array): boolean {
  for (let p = 0; p < x.length; p++) if ((x[p] !== x[p]) !== (y[p] !== y[p])) return false;
  return true;
}

function sigmaOf(s: CompareOptions["sigmaK"], K: number): { sigma: Float64Array | null; matrix: boolean } {
  if (s === undefined) return { sigma: null, matrix: false };
  const nested = Array.isArray(s) && s.length > 0 && Array.isArray(s[0]);
  const flat = nested ? Float64Array.from((s as number[][]).flat()) : Float64Array.from(s as ArrayLike<number>);
  if (flat.length === K) return { sigma: flat, matrix: false };
  if (flat.length === K * K) return { sigma: flat, matrix: true };
  throw new InputError(undefined, `compareRdms: sigmaK must be ${K} variances or a ${K}×${K} matrix, got ${flat.length} values`);
}

// The kernel of an RDM vector and its factor, kept like its ranks: one data RDM against many models factors it once.
const kernels = new WeakMap<Float64Array, Kernel>();

interface Kernel {
  K: number;
  /** G = −½·J·D·J, K × K. */
  G: Float64Array;
  /** K × rank: G₊ = LLᵀ over the eigenvalues above rounding. */
  L: Float64Array;
  rank: number;
  trace: number;
  /** No eigenvalue below −(rounding): the RDM is squared-Euclidean. */
  psd: boolean;
}

/**
 * rsatoolbox's compare_bures_similarity / compare_bures_metric. Each RDM becomes the kernel
 * G = −½·J·D·J (J = I − 11ᵀ/K: the Gram matrix of centred patterns when D holds squared distances);
 * F = tr((A₊^½ B A₊^½)₊^½) is the fidelity, bures = F / √(tr A · tr B), bures_metric = tr A + tr B − 2F.
 * As in rsatoolbox, negative eigenvalues (an RDM that is not squared-Euclidean) are dropped from
 * A's square root and from the product, while B and the traces keep them (so for such RDMs the
 * comparison is not symmetric). Eigenvalues below rounding (K·ε·max) count as 0: rsatoolbox takes
 * square roots of them, so the zero eigenvalue every centred kernel has comes out as √ε ≈ 1e-8 noise
 * in its results. With A₊ = LLᵀ, F is the sum of the singular values of LᵀM when B = MMᵀ (no rounding
 * error is square-rooted), else the sum of the square roots of the positive eigenvalues of LᵀBL.
 */
function bures(x: Float64Array, y: Float64Array, method: "bures" | "bures_metric"): number {
  const a = kernelOf(x), b = kernelOf(y);
  const { K, L, rank: r } = a;
  let F = 0;
  if (r > 0 && b.psd) {
    if (b.rank > 0) for (const s of svd(matMul(L, b.L, r, K, b.rank, true), r, b.rank).S) F += s;
  } else if (r > 0) {
    const M = matMul(L, matMul(b.G, L, K, K, r), r, K, r, true); // Lᵀ B L
    for (let c = 0; c < r; c++) for (let d = 0; d < c; d++) M[c * r + d] = M[d * r + c] = (M[c * r + d] + M[d * r + c]) / 2;
    for (const mu of positiveEigen(M, r).values) F += Math.sqrt(mu);
  }
  if (method === "bures_metric") return a.trace + b.trace - 2 * F;
  const denom = Math.sqrt(a.trace * b.trace);
  return denom > 0 ? F / denom : NaN; // rsatoolbox: 0/0 for an all-zero RDM
}

/**
 * Eigenvalues of a symmetric n × n matrix above rounding (n·ε·max|λ|); `index` says which of
 * symEig's (rows of `vectors`) they are; `psd` that none is below −(rounding).
 */
function positiveEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array; index: number[]; psd: boolean } {
  const { values, vectors } = symEig(A, n);
  let max = 0;
  for (const l of values) max = Math.max(max, Math.abs(l));
  const tol = n * Number.EPSILON * max;
  const index: number[] = [];
  values.forEach((l, i) => l > tol && index.push(i));
  return { values: Float64Array.from(index, (i) => values[i]), vectors, index, psd: values.every((l) => l >= -tol) };
}

/** G = −½·J·D·J of an RDM vector and its factor L (K × rank, G ≈ LLᵀ over the positive eigenvalues). */
function kernelOf(v: Float64Array): Kernel {
  let k = kernels.get(v);
  if (k) return k;
  const K = Math.round((1 + Math.sqrt(1 + 8 * v.length)) / 2);
  if ((K * (K - 1)) / 2 !== v.length) {
    throw new InputError(undefined, `compareRdms: bures needs whole RDMs; a vector of ${v.length} dissimilarities is not K(K−1)/2 (conditions drawn twice in a bootstrap leave pairs out)`);
  }
  const G = new Float64Array(K * K);
  for (let i = 0, p = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++, p++) {
      if (v[p] !== v[p]) throw new InputError(undefined, `compareRdms: bures needs complete RDMs; the dissimilarity of conditions ${i} and ${j} is NaN`);
      G[i * K + j] = G[j * K + i] = -v[p] / 2;
    }
  }
  const row = new Float64Array(K);
  let all = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) row[i] += G[i * K + j];
    row[i] /= K;
    all += row[i];
  }
  all /= K;
  let trace = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) G[i * K + j] += all - row[i] - row[j];
    trace += G[i * K + i];
  }
  const { values, vectors, index, psd } = positiveEigen(G, K);
  const rank = index.length;
  const L = new Float64Array(K * rank);
  index.forEach((e, c) => {
    const s = Math.sqrt(values[c]);
    for (let i = 0; i < K; i++) L[i * rank + c] = vectors[e * K + i] * s;
  });
  kernels.set(v, (k = { K, G, L, rank, trace, psd }));
  return k;
}

function cosine(x: Float64Array, y: Float64Array, mx: number, my: number): number {
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i] - mx, b = y[i] - my;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx) / Math.sqrt(yy) : 0; // rsatoolbox: 0 for a zero vector
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

function clamp(t: number): number {
  return Math.min(1, Math.max(-1, t));
}
