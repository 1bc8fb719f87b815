// Dissimilarities between K condition patterns (K × C, float64), with rsatoolbox's definitions:
// squared Euclidean / C, 1 − Pearson r, 1 − cosine, squared Mahalanobis / C (patterns whitened by
// the noise precision first), crossnobis: (a_i − a_j)ᵀ Σ⁻¹ (b_i − b_j) / C between the mean
// patterns of one fold (b) and of all the other folds (a), averaged over folds; poisson, the
// symmetrised KL divergence of Poisson rates (λ_i − λ_j)·(log λ_i − log λ_j) / C, and its
// cross-validated form; and the unbalanced cross-validated distances over pairs of measurements.
// Output is the upper triangle, row by row (scipy's squareform order).
import { InputError } from "../io/errors.js";
import { choleskyOf } from "./noise-precision.js";
import { crossGram, gram } from "./gram.js";

export function upperTriangle(K: number, entry: (i: number, j: number) => number): Float64Array {
  const out = new Float64Array((K * (K - 1)) / 2);
  let p = 0;
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) out[p++] = entry(i, j);
  return out;
}

/** Squared Euclidean distance / C. Columns are centred first: distances do not change, rounding does. */
export function squaredEuclidean(M: Float64Array, K: number, C: number): Float64Array {
  const X = centreColumns(M, K, C);
  const G = gram(X, K, C);
  return upperTriangle(K, (i, j) => Math.max(0, G[i * K + i] + G[j * K + j] - 2 * G[i * K + j]) / C);
}

/** 1 − Pearson correlation between patterns (each centred over its channels). */
export function correlationDistance(M: Float64Array, K: number, C: number, labels: readonly string[]): Float64Array {
  const X = new Float64Array(M);
  const before = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let m = 0;
    for (let c = 0; c < C; c++) {
      m += X[i * C + c];
      before[i] += X[i * C + c] ** 2;
    }
    m /= C;
    for (let c = 0; c < C; c++) X[i * C + c] -= m;
  }
  // A constant pattern centres to zero, or to rounding noise far below its own size.
  normaliseRows(X, K, C, labels, "correlation distance: the pattern of condition '%' is constant", before);
  const G = gram(X, K, C);
  return upperTriangle(K, (i, j) => 1 - G[i * K + j]);
}

/** 1 − cosine similarity between patterns. */
export function cosineDistance(M: Float64Array, K: number, C: number, labels: readonly string[]): Float64Array {
  const X = new Float64Array(M);
  normaliseRows(X, K, C, labels, "cosine distance: the pattern of condition '%' is all zeros");
  const G = gram(X, K, C);
  return upperTriangle(K, (i, j) => 1 - G[i * K + j]);
}

/**
 * Crossnobis: per fold f, A = mean patterns of the other folds, B = mean patterns of fold f
 * (already whitened); d_ij = (a_i − a_j)·(b_i − b_j) / C, averaged over folds.
 */
export function crossnobis(train: Float64Array[], test: Float64Array[], K: number, C: number): Float64Array {
  const out = new Float64Array((K * (K - 1)) / 2);
  for (let f = 0; f < train.length; f++) {
    const k = crossGram(train[f], test[f], K, C);
    let p = 0;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) out[p++] += (k[i * K + i] + k[j * K + j] - k[i * K + j] - k[j * K + i]) / C;
    }
  }
  for (let p = 0; p < out.length; p++) out[p] /= train.length;
  return out;
}

/** Poisson rates with rsatoolbox's prior, (x + λ·w) / (1 + w), and their logarithms (the caller checks x + λ·w > 0). */
export function poissonRates(M: Float64Array, lambda: number, weight: number): { rates: Float64Array; logs: Float64Array } {
  const rates = M.map((x) => (x + lambda * weight) / (1 + weight));
  return { rates, logs: rates.map(Math.log) };
}

/**
 * Cross-validated dissimilarities of an unbalanced design (rsatoolbox's calc_rdm_unbalanced with
 * a cv_descriptor). Over every pair of measurements a (condition k) and b (condition m) from
 * different folds, s(a, b) = ½(x_a·y_b + x_b·y_a) + ½(q_a + q_b); S_km is its mean over those pairs
 * divided by C, and d_km = S_kk + S_mm − 2·S_km (crossnobis: x = y the whitened measurements, q = 0;
 * poisson_cv: x the rates, y their logs, q = −x·y). Computed from sums per cell (one condition in
 * one fold: `cellCondition`, `cellFold`, `cellCount`, sums X, Y (cells × C) and Q) rather than
 * pair by pair: Σ over pairs in different folds = Σ over all pairs − Σ within each fold.
 * Every condition needs measurements in two folds (the caller checks).
 */
export function crossFoldDistances(
  cells: { condition: Int32Array; fold: Int32Array; count: Int32Array },
  X: Float64Array,
  Y: Float64Array,
  Q: Float64Array | null,
  K: number,
  C: number,
): Float64Array {
  const n = cells.condition.length;
  const XT = new Float64Array(K * C), YT = new Float64Array(K * C), QT = new Float64Array(K), NT = new Float64Array(K);
  for (let c = 0; c < n; c++) {
    const k = cells.condition[c];
    NT[k] += cells.count[c];
    if (Q) QT[k] += Q[c];
    for (let j = 0; j < C; j++) {
      XT[k * C + j] += X[c * C + j];
      YT[k * C + j] += Y[c * C + j];
    }
  }
  const XY = crossGram(XT, YT, K, C);
  const NN = new Float64Array(K * K), QN = new Float64Array(K * K);
  for (let k = 0; k < K; k++) {
    for (let m = 0; m < K; m++) {
      NN[k * K + m] = NT[k] * NT[m];
      QN[k * K + m] = QT[k] * NT[m];
    }
  }
  // Take away the pairs within a fold: cells grouped by fold, every pair of cells in one fold.
  const byFold = Array.from({ length: n }, (_, c) => c).sort((a, b) => cells.fold[a] - cells.fold[b]);
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && cells.fold[byFold[e]] === cells.fold[byFold[s]]) e++;
    for (let a = s; a < e; a++) {
      const c1 = byFold[a], k1 = cells.condition[c1];
      for (let b = s; b < e; b++) {
        const c2 = byFold[b], k2 = cells.condition[c2], g = k1 * K + k2;
        let xy = 0;
        for (let j = 0; j < C; j++) xy += X[c1 * C + j] * Y[c2 * C + j];
        XY[g] -= xy;
        NN[g] -= cells.count[c1] * cells.count[c2];
        if (Q) QN[g] -= Q[c1] * cells.count[c2];
      }
    }
    s = e;
  }
  const S = (k: number, m: number) => (XY[k * K + m] + XY[m * K + k] + QN[k * K + m] + QN[m * K + k]) / (2 * NN[k * K + m] * C);
  return upperTriangle(K, (i, j) => S(i, i) + S(j, j) - 2 * S(i, j));
}

/** Rows y with yᵀy = xᵀ P x for a noise precision P (given, or as the inverse of a covariance). */
export type Whitener = (rows: Float64Array, n: number) => Float64Array;

/** Whitening by a precision matrix P = L Lᵀ: y = Lᵀ x. */
export function precisionWhitener(P: Float64Array, C: number): Whitener {
  const L = choleskyOf(P, C, "the precision matrix").lowerTriangularMatrix.to1DArray();
  return (rows, n) => {
    const out = new Float64Array(n * C);
    for (let r = 0; r < n; r++) {
      const x = r * C;
      for (let a = 0; a < C; a++) {
        let s = 0;
        for (let b = a; b < C; b++) s += L[b * C + a] * rows[x + b];
        out[x + a] = s;
      }
    }
    return out;
  };
}

/** Whitening by a covariance Σ = R Rᵀ: y = R⁻¹ x (forward substitution, no explicit inverse). */
export function covarianceWhitener(S: Float64Array, C: number): Whitener {
  const R = choleskyOf(S, C, "the noise covariance").lowerTriangularMatrix.to1DArray();
  return (rows, n) => {
    const out = new Float64Array(n * C);
    for (let r = 0; r < n; r++) {
      const x = r * C;
      for (let a = 0; a < C; a++) {
        let s = rows[x + a];
        for (let b = 0; b < a; b++) s -= R[a * C + b] * out[x + b];
        out[x + a] = s / R[a * C + a];
      }
    }
    return out;
  };
}

function centreColumns(M: Float64Array, K: number, C: number): Float64Array {
  const X = new Float64Array(M);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let i = 0; i < K; i++) m += X[i * C + c];
    m /= K;
    for (let i = 0; i < K; i++) X[i * C + c] -= m;
  }
  return X;
}

function normaliseRows(X: Float64Array, K: number, C: number, labels: readonly string[], problem: string, before?: Float64Array): void {
  for (let i = 0; i < K; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += X[i * C + c] ** 2;
    if (!(s > (before ? 1e-24 * before[i] : 0))) throw new InputError(undefined, `rdm: ${problem.replace("%", labels[i])}`);
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < C; c++) X[i * C + c] *= inv;
  }
}
