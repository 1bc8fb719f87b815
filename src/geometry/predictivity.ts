// Linear predictivity (Brain-Score's neural predictivity, Schrimpf et al. 2018; Yamins et al. 2014): how
// well a linear map from one representation (the source, e.g. a model layer) predicts each column (neuron)
// of another (the target, e.g. recordings), scored on held-out rows. Brain-Score's
// CrossRegressedCorrelation: per split, fit on the training rows, Pearson r per neuron between prediction
// and truth on the test rows, the median over neurons; then the mean over splits. Here the splits are k
// folds of a seeded shuffle (sklearn KFold(shuffle=True) fold sizes). Noise correction divides by a
// ceiling: a number, or Brain-Score's InternalConsistency from repetitions (split-half Pearson r per
// neuron, Spearman-Brown corrected 2r/(1+r), median over neurons, mean over random halvings).
//  - ridge: sklearn Ridge (fit_intercept, unscaled) in closed form through the eigendecomposition of the
//    smaller Gram matrix (primal XᵀX or dual XXᵀ), so every α costs one diagonal; several α are chosen
//    by an inner k-fold CV on each training set (least squared error summed over neurons, one α for all).
//  - pls: sklearn PLSRegression (NIPALS power method, mode A, regression deflation, max_iter 500,
//    tol 1e-6, scale=True by default).
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { Rng } from "../engine/random.js";
import { matMul, svd, symEig } from "../engine/linalg.js";
import { ccaRows, type CcaInput } from "./cca.js";

/** Options of `linearPredictivity`. */
export interface LinearPredictivityOptions {
  /** Cross-validation folds (default 10, as Brain-Score's 10 splits); each row is tested once. */
  folds?: number;
  /** "ridge" (default) or "pls". */
  method?: "ridge" | "pls";
  /** Ridge penalty (default 1, as Brain-Score's ridge_regression). */
  alpha?: number;
  /** Ridge penalties to choose from by an inner `folds`-fold CV on each training set, least squared error (instead of `alpha`). */
  alphas?: number[];
  /** PLS components (default 25, as Brain-Score's pls_regression, capped at the source's columns). */
  components?: number;
  /** PLS: standardise the columns of both sides (default true, sklearn's default; Brain-Score's pls_regression sets false). */
  scale?: boolean;
  /** Seed of the fold and halving shuffles (default 0). */
  seed?: number;
  /** A known noise ceiling to divide by. */
  ceiling?: number;
  /** The target's repetitions (each rows × neurons like the target) for a split-half ceiling. */
  repetitions?: CcaInput[];
  /**
   * How the score is noise-corrected: "ratio" (default) raw / ceiling, as Brain-Score's ceil_score;
   * "explainedVariance" raw² / ceiling, as its current NeuralBenchmark (explained_variance).
   */
  normalize?: "ratio" | "explainedVariance";
}

/** What `linearPredictivity` returns. */
export interface PredictivityResult {
  /** The noise-corrected score (raw when no ceiling is given). */
  score: number;
  /** Mean over folds of the median over neurons of the held-out Pearson r. */
  raw: number;
  /** Each neuron's held-out Pearson r, averaged over folds (NaN where it was never defined). */
  perNeuron: Float64Array;
  /** The ceiling divided by, or null. */
  ceiling: number | null;
  /** The ridge α used in each fold (chosen by inner CV when `alphas` is given); empty for PLS. */
  alpha: number[];
}

const PREDICTIVITY_OPTIONS = optionNames<LinearPredictivityOptions>({
  folds: true, method: true, alpha: true, alphas: true, components: true, scale: true, seed: true, ceiling: true, repetitions: true, normalize: true,
});

/** Rows `idx` of a row-major matrix with `cols` columns. */
function takeRows(A: ArrayLike<number>, cols: number, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * cols);
  for (let r = 0; r < idx.length; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = A[idx[r] * cols + j];
  return out;
}

function columnMeans(A: Float64Array, n: number, p: number): Float64Array {
  const m = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) m[j] += A[i * p + j];
  return m.map((v) => v / n);
}

function subtractInPlace(A: Float64Array, n: number, p: number, m: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) A[i * p + j] -= m[j];
  return A;
}

/** sklearn KFold(n_splits=k, shuffle) sizes over a seeded permutation: the test rows of each fold. */
function kFolds(n: number, k: number, rng: Rng): Int32Array[] {
  const perm = rng.permutation(n);
  const out: Int32Array[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push(perm.slice(start, start + size));
    start += size;
  }
  return out;
}

function complement(n: number, test: Int32Array): Int32Array {
  const inTest = new Uint8Array(n);
  for (const i of test) inTest[i] = 1;
  const out = new Int32Array(n - test.length);
  let o = 0;
  for (let i = 0; i < n; i++) if (!inTest[i]) out[o++] = i;
  return out;
}

/**
 * Ridge predictions for many α from one eigendecomposition: pred(α) = P·diag(1/(λ+α))·R + ȳ, with
 * P = X̃_test·V, R = VᵀX̃ᵀỸ (primal, V the eigenvectors of X̃ᵀX̃) or P = X̃_test·X̃ᵀ·W, R = WᵀỸ (dual, W those
 * of X̃X̃ᵀ); X̃, Ỹ centred by the training means.
 */
class RidgePath {
  private P: Float64Array;
  private R: Float64Array;
  private lam: Float64Array;
  private d: number;
  private ymean: Float64Array;
  private m: number;
  private t: number;

  constructor(X: Float64Array, Y: Float64Array, Xt: Float64Array, n: number, p: number, t: number, m: number) {
    const xm = columnMeans(X, n, p);
    this.ymean = columnMeans(Y, n, t);
    const Xc = subtractInPlace(Float64Array.from(X), n, p, xm);
    const Yc = subtractInPlace(Float64Array.from(Y), n, t, this.ymean);
    const Xtc = subtractInPlace(Float64Array.from(Xt), m, p, xm);
    this.m = m;
    this.t = t;
    if (n >= p) {
      const { values, vectors } = symEig(matMul(Xc, Xc, p, n, p, true), p); // vectors: rows
      this.d = p;
      this.lam = values;
      this.P = matMul(Xtc, vectors, m, p, p, false, true);
      this.R = matMul(vectors, matMul(Xc, Yc, p, n, t, true), p, p, t);
    } else {
      const { values, vectors } = symEig(matMul(Xc, Xc, n, p, n, false, true), n);
      this.d = n;
      this.lam = values;
      this.P = matMul(matMul(Xtc, Xc, m, p, n, false, true), vectors, m, n, n, false, true);
      this.R = matMul(vectors, Yc, n, n, t);
    }
  }

  predict(alpha: number): Float64Array {
    const { d, m, t, lam } = this;
    let top = 0;
    for (const l of lam) top = Math.max(top, Math.abs(l));
    const scaled = Float64Array.from(this.R);
    for (let i = 0; i < d; i++) {
      const l = lam[i] + alpha;
      // α = 0 is least squares: directions of no variance are left out (the minimum-norm solution).
      const f = alpha === 0 && lam[i] <= 1e-12 * top ? 0 : 1 / l;
      for (let j = 0; j < t; j++) scaled[i * t + j] *= f;
    }
    const pred = matMul(this.P, scaled, m, d, t);
    for (let i = 0; i < m; i++) for (let j = 0; j < t; j++) pred[i * t + j] += this.ymean[j];
    return pred;
  }
}

/** Pearson r of each column of A with the same column of B (NaN where either is constant). */
function columnPearson(A: Float64Array, B: Float64Array, n: number, t: number): Float64Array {
  const ma = columnMeans(A, n, t), mb = columnMeans(B, n, t);
  const sab = new Float64Array(t), saa = new Float64Array(t), sbb = new Float64Array(t);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t; j++) {
      const a = A[i * t + j] - ma[j], b = B[i * t + j] - mb[j];
      sab[j] += a * b;
      saa[j] += a * a;
      sbb[j] += b * b;
    }
  }
  return sab.map((s, j) => (saa[j] > 0 && sbb[j] > 0 ? s / Math.sqrt(saa[j] * sbb[j]) : NaN));
}

/** Median of the defined values (xarray's median skips NaN); NaN when none is. */
function nanMedian(v: Float64Array): number {
  const d = Array.from(v).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!d.length) return NaN;
  const h = d.length >> 1;
  return d.length % 2 ? d[h] : (d[h - 1] + d[h]) / 2;
}

/** sklearn PLSRegression(n_components, scale) fitted on X, Y (n rows) and predicting Xt (m rows). */
function plsPredict(X: Float64Array, Y: Float64Array, Xt: Float64Array, n: number, p: number, t: number, m: number, comps: number, scale: boolean): Float64Array {
  const eps = 2.220446049250313e-16;
  const xm = columnMeans(X, n, p), ym = columnMeans(Y, n, t);
  const Xk = subtractInPlace(Float64Array.from(X), n, p, xm);
  const Yk = subtractInPlace(Float64Array.from(Y), n, t, ym);
  const std = (A: Float64Array, c: number) => {
    const s = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) s[j] += A[i * c + j] ** 2;
    return s.map((v) => (scale && v > 0 ? Math.sqrt(v / (n - 1)) : 1));
  };
  const xs = std(Xk, p), ys = std(Yk, t);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) Xk[i * p + j] /= xs[j];
    for (let j = 0; j < t; j++) Yk[i * t + j] /= ys[j];
  }
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  const W: Float64Array[] = [], Pl: Float64Array[] = [], Ql: Float64Array[] = [];
  for (let k = 0; k < comps; k++) {
    for (let j = 0; j < t; j++) {
      let small = true;
      for (let i = 0; i < n && small; i++) small = Math.abs(Yk[i * t + j]) < 10 * eps;
      if (small) for (let i = 0; i < n; i++) Yk[i * t + j] = 0;
    }
    let first = -1;
    for (let j = 0; j < t && first < 0; j++) for (let i = 0; i < n; i++) if (Math.abs(Yk[i * t + j]) > eps) { first = j; break; }
    if (first < 0) break; // the Y residual is constant: sklearn stops adding components
    let yScore = Float64Array.from({ length: n }, (_, i) => Yk[i * t + first]);
    let old: Float64Array | null = null;
    let xw = new Float64Array(p), yw = new Float64Array(t);
    for (let it = 0; it < 500; it++) {
      xw = matMul(Xk, yScore, p, n, 1, true).map((v) => v / dot(yScore, yScore));
      const norm = Math.sqrt(dot(xw, xw)) + eps;
      xw = xw.map((v) => v / norm);
      const xScore = matMul(Xk, xw, n, p, 1);
      const xx = dot(xScore, xScore);
      yw = matMul(Yk, xScore, t, n, 1, true).map((v) => v / xx);
      const yy = dot(yw, yw) + eps;
      yScore = matMul(Yk, yw, n, t, 1).map((v) => v / yy);
      let diff = 0;
      if (old) for (let j = 0; j < p; j++) diff += (xw[j] - old[j]) ** 2;
      if ((old && diff < 1e-6) || t === 1) break;
      old = xw;
    }
    // sklearn's _svd_flip_1d: the largest |weight| positive
    let big = 0;
    for (let j = 1; j < p; j++) if (Math.abs(xw[j]) > Math.abs(xw[big])) big = j;
    const sign = Math.sign(xw[big]);
    xw = xw.map((v) => v * sign);
    const xScore = matMul(Xk, xw, n, p, 1);
    const xx = dot(xScore, xScore);
    const xl = matMul(Xk, xScore, p, n, 1, true).map((v) => v / xx);
    const yl = matMul(Yk, xScore, t, n, 1, true).map((v) => v / xx);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) Xk[i * p + j] -= xScore[i] * xl[j];
      for (let j = 0; j < t; j++) Yk[i * t + j] -= xScore[i] * yl[j];
    }
    W.push(xw);
    Pl.push(xl);
    Ql.push(yl);
  }
  const c = W.length;
  // rotations = W·pinv(PᵀW); coef = rotations·Qᵀ, scaled by y's std.
  const PtW = new Float64Array(c * c);
  for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) PtW[a * c + b] = dot(Pl[a], W[b]);
  const { U, S, Vt } = svd(PtW, c, c);
  const cut = Math.max(...S) * c * eps;
  const inv = new Float64Array(c * c); // V·diag(1/s)·Uᵀ
  for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) {
    let s = 0;
    for (let r = 0; r < c; r++) if (S[r] > cut) s += (Vt[r * c + a] * U[b * c + r]) / S[r];
    inv[a * c + b] = s;
  }
  const Wm = new Float64Array(p * c), Qm = new Float64Array(c * t);
  for (let a = 0; a < c; a++) {
    for (let j = 0; j < p; j++) Wm[j * c + a] = W[a][j];
    for (let j = 0; j < t; j++) Qm[a * t + j] = Ql[a][j] * ys[j];
  }
  const coef = matMul(matMul(Wm, inv, p, c, c), Qm, p, c, t);
  const Xs = Float64Array.from(Xt);
  for (let i = 0; i < m; i++) for (let j = 0; j < p; j++) Xs[i * p + j] = (Xs[i * p + j] - xm[j]) / xs[j];
  const pred = matMul(Xs, coef, m, p, t);
  for (let i = 0; i < m; i++) for (let j = 0; j < t; j++) pred[i * t + j] += ym[j];
  return pred;
}

/** The α of `alphas` with the least inner-CV squared error on (X, Y); the first on ties. */
function chooseAlpha(X: Float64Array, Y: Float64Array, n: number, p: number, t: number, alphas: number[], folds: number, rng: Rng): number {
  const err = new Float64Array(alphas.length);
  for (const test of kFolds(n, Math.min(folds, n), rng)) {
    const train = complement(n, test);
    const path = new RidgePath(takeRows(X, p, train), takeRows(Y, t, train), takeRows(X, p, test), train.length, p, t, test.length);
    const truth = takeRows(Y, t, test);
    alphas.forEach((a, i) => {
      const pred = path.predict(a);
      for (let e = 0; e < pred.length; e++) err[i] += (pred[e] - truth[e]) ** 2;
    });
  }
  let best = 0;
  for (let i = 1; i < alphas.length; i++) if (err[i] < err[best]) best = i;
  return alphas[best];
}

/** Brain-Score's InternalConsistency from repetitions (see the file comment). */
function splitHalfCeiling(reps: CcaInput[], n: number, t: number, rng: Rng, splits = 10): number {
  const R = reps.length;
  if (R < 2) throw new InputError(undefined, `linearPredictivity: repetitions has ${R} entries; a split-half ceiling needs at least 2`);
  const flat = reps.map((r, i) => {
    const f = ccaRows(r, `linearPredictivity: repetitions[${i}]`);
    if (f.rows !== n || f.dim !== t) throw new InputError(undefined, `linearPredictivity: repetitions[${i}] is ${f.rows}×${f.dim}; the target is ${n}×${t}`);
    return f.values;
  });
  const half = Math.floor(R / 2); // ShuffleSplit(train_size=0.5): ⌊R/2⌋ in one half, the rest in the other
  const mean = (idx: ArrayLike<number>) => {
    const out = new Float64Array(n * t);
    for (const r of Array.from(idx)) for (let e = 0; e < n * t; e++) out[e] += flat[r][e] / idx.length;
    return out;
  };
  let total = 0;
  for (let s = 0; s < splits; s++) {
    const perm = rng.permutation(R);
    const r = columnPearson(mean(perm.slice(0, half)), mean(perm.slice(half)), n, t).map((v) => (2 * v) / (1 + v));
    total += nanMedian(r);
  }
  return total / splits;
}

/**
 * Brain-Score's neural predictivity: k-fold cross-validated linear regression (ridge or PLS) from `source`
 * (n × p) to every column of `target` (n × t, the same rows), the held-out Pearson r per neuron, its median
 * over neurons averaged over folds (`raw`), divided by a noise ceiling when one is given (`ceiling`, or
 * `repetitions` of the target for Brain-Score's split-half Spearman-Brown ceiling).
 * @example
 * const r = fl.linearPredictivity(layer4, neurons, { alphas: [0.1, 1, 10, 100], repetitions: trials });
 * r.score;   // raw / ceiling
 */
export function linearPredictivity(source: CcaInput, target: CcaInput, opts: LinearPredictivityOptions = {}): PredictivityResult {
  rejectUnknownOptions("linearPredictivity", opts, PREDICTIVITY_OPTIONS);
  const S = ccaRows(source, "linearPredictivity: source"), T = ccaRows(target, "linearPredictivity: target");
  const n = S.rows, p = S.dim, t = T.dim;
  if (T.rows !== n) throw new InputError(undefined, `linearPredictivity: source is ${n}×${p} and target is ${T.rows}×${t}; both need the same rows (stimuli)`);
  const folds = opts.folds ?? 10;
  const method = opts.method ?? "ridge";
  if (method !== "ridge" && method !== "pls") throw new InputError(undefined, `linearPredictivity: method must be "ridge" or "pls", got ${JSON.stringify(method)}`);
  if (!Number.isInteger(folds) || folds < 2 || folds > n) throw new InputError(undefined, `linearPredictivity: folds must be an integer from 2 to the ${n} rows of the ${n}×${p} source, got ${folds}`);
  if (opts.alpha !== undefined && opts.alphas !== undefined) throw new InputError(undefined, "linearPredictivity: give alpha or alphas, not both");
  const alphas = opts.alphas ?? [opts.alpha ?? 1];
  if (!alphas.length || alphas.some((a) => !(a >= 0))) throw new InputError(undefined, `linearPredictivity: ridge penalties must be ≥ 0, got [${alphas.join(", ")}]`);
  if (method === "pls" && (opts.alpha !== undefined || opts.alphas !== undefined)) throw new InputError(undefined, "linearPredictivity: alpha/alphas are ridge options; method is \"pls\"");
  if (method === "ridge" && (opts.components !== undefined || opts.scale !== undefined)) throw new InputError(undefined, "linearPredictivity: components/scale are PLS options; method is \"ridge\"");
  const comps = opts.components ?? Math.min(25, p);
  if (method === "pls" && (!Number.isInteger(comps) || comps < 1 || comps > p)) throw new InputError(undefined, `linearPredictivity: components must be an integer from 1 to the source's ${p} columns (source ${n}×${p}), got ${comps}`);
  if (opts.ceiling !== undefined && opts.repetitions !== undefined) throw new InputError(undefined, "linearPredictivity: give ceiling or repetitions, not both");
  if (opts.ceiling !== undefined && !(opts.ceiling > 0 && opts.ceiling <= 1)) throw new InputError(undefined, `linearPredictivity: ceiling must be in (0, 1], got ${opts.ceiling}`);
  const normalize = opts.normalize ?? "ratio";
  if (normalize !== "ratio" && normalize !== "explainedVariance") throw new InputError(undefined, `linearPredictivity: normalize must be "ratio" or "explainedVariance", got ${JSON.stringify(normalize)}`);

  const rng = new Rng(opts.seed ?? 0);
  const X = S.values, Y = T.values;
  const rSum = new Float64Array(t), rCount = new Float64Array(t);
  const used: number[] = [];
  let raw = 0;
  for (const test of kFolds(n, folds, rng)) {
    const train = complement(n, test);
    const Xtr = takeRows(X, p, train), Ytr = takeRows(Y, t, train), Xte = takeRows(X, p, test);
    let pred: Float64Array;
    if (method === "pls") {
      pred = plsPredict(Xtr, Ytr, Xte, train.length, p, t, test.length, comps, opts.scale ?? true);
    } else {
      const alpha = alphas.length === 1 ? alphas[0] : chooseAlpha(Xtr, Ytr, train.length, p, t, alphas, folds, rng);
      used.push(alpha);
      pred = new RidgePath(Xtr, Ytr, Xte, train.length, p, t, test.length).predict(alpha);
    }
    const r = columnPearson(pred, takeRows(Y, t, test), test.length, t);
    r.forEach((v, j) => {
      if (!Number.isNaN(v)) {
        rSum[j] += v;
        rCount[j]++;
      }
    });
    raw += nanMedian(r) / folds;
  }
  const ceiling = opts.ceiling ?? (opts.repetitions ? splitHalfCeiling(opts.repetitions, n, t, rng) : null);
  const score = ceiling === null ? raw : normalize === "ratio" ? raw / ceiling : (raw * raw) / ceiling;
  return { score, raw, perNeuron: rSum.map((s, j) => (rCount[j] ? s / rCount[j] : NaN)), ceiling, alpha: used };
}
