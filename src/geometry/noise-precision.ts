// Noise covariance and precision over channels from residuals, as rsatoolbox's cov_from_residuals /
// prec_from_residuals: columns demeaned, then "full" (sample covariance), "diag" (variances only),
// "shrinkage_eye" (Ledoit & Wolf 2004, towards a multiple of I) or "shrinkage_diag" (Schäfer &
// Strimmer 2005, towards the diagonal; rsatoolbox's default). Shrinkage keeps the estimate
// invertible when channels outnumber residuals, which is the usual case.
import { CholeskyDecomposition, Matrix } from "ml-matrix";
import { InputError } from "../io/errors.js";
import { gram } from "./gram.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** How a noise covariance is estimated from residuals: rsatoolbox's shrinkage toward a diagonal or the identity, diagonal only, or full. */
export type CovarianceMethod = "shrinkage_diag" | "shrinkage_eye" | "diag" | "full";

/** Options of `covFromResiduals` and `precFromResiduals`. */
export interface ResidualOptions {
  /** Estimator (default "shrinkage_diag", as rsatoolbox). */
  method?: CovarianceMethod;
  /** Degrees of freedom (default rows − 1; rows − conditions for residuals around condition means). */
  dof?: number;
  /** Channels per row, for a flat typed array. */
  channels?: number;
}

const RESIDUAL_OPTIONS = optionNames<ResidualOptions>({ method: true, dof: true, channels: true });

/** Residuals as rows × channels: number[][] or a flat typed array with `channels`. */
export type Residuals = number[][] | Float32Array | Float64Array;

/**
 * The channels × channels noise covariance (row-major Float64Array).
 * @example
 * const cov = fl.covFromResiduals(residuals, { method: "shrinkage_diag" });   // C × C, row-major
 */
export function covFromResiduals(residuals: Residuals, opts: ResidualOptions = {}): Float64Array {
  rejectUnknownOptions("covFromResiduals", opts, RESIDUAL_OPTIONS);
  const { data, rows: n, channels: C } = flatten(residuals, opts.channels);
  const method = opts.method ?? "shrinkage_diag";
  if (!["shrinkage_diag", "shrinkage_eye", "diag", "full"].includes(method)) {
    throw new InputError(undefined, `covariance method '${method}' is not one of shrinkage_diag, shrinkage_eye, diag, full`);
  }
  if (n < 2) throw new InputError(undefined, `a noise covariance needs at least 2 residual rows, got ${n}`);
  const dof = opts.dof ?? n - 1;
  if (!(dof > 0)) throw new InputError(undefined, `a noise covariance needs positive degrees of freedom, got ${dof}`);
  // Demean the columns, transposed to C × n so X'X is a Gram matrix of channels.
  const xt = new Float64Array(C * n);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let r = 0; r < n; r++) m += data[r * C + c];
    m /= n;
    for (let r = 0; r < n; r++) xt[c * n + r] = data[r * C + c] - m;
  }
  const sSum = gram(xt, C, n);
  const out = new Float64Array(C * C);
  if (method === "full") {
    for (let i = 0; i < C * C; i++) out[i] = sSum[i] / dof;
    return out;
  }
  if (method === "diag") {
    for (let c = 0; c < C; c++) out[c * C + c] = sSum[c * C + c] / dof;
    return out;
  }
  const sq = xt.map((v) => v * v);
  const s2Sum = gram(sq, C, n); // Σ over rows of (x xᵀ)∘(x xᵀ)
  if (method === "shrinkage_eye") {
    let b2 = 0, trace = 0;
    for (let i = 0; i < C * C; i++) {
      const s = sSum[i] / n;
      b2 += s2Sum[i] / n - s * s;
    }
    b2 /= n;
    for (let c = 0; c < C; c++) trace += sSum[c * C + c] / n;
    const m = trace / C;
    let d2 = 0;
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < C; j++) {
        const d = sSum[i * C + j] / n - (i === j ? m : 0);
        d2 += d * d;
      }
    }
    b2 = d2 > 0 ? Math.min(d2, b2) : 0; // d2 = 0: already a multiple of I, nothing to shrink
    const scale = n / dof;
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < C; j++) {
        out[i * C + j] = (d2 > 0 ? ((d2 - b2) / d2) * (sSum[i * C + j] / n) + (i === j ? (b2 / d2) * m : 0) : sSum[i * C + j] / n) * scale;
      }
    }
    return out;
  }
  // shrinkage_diag: the off-diagonal covariances shrink by one factor λ, the variances stay.
  const std = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const v = sSum[c * C + c] / dof;
    if (!(v > 0)) throw new InputError(undefined, `channel ${c} has zero residual variance; drop it or use method "shrinkage_eye"`);
    std[c] = Math.sqrt(v);
  }
  let num = 0, den = 0;
  for (let i = 0; i < C; i++) {
    for (let j = 0; j < C; j++) {
      if (i === j) continue;
      const sMean = sSum[i * C + j] / (std[i] * std[j]) / (n - 1);
      const s2Mean = s2Sum[i * C + j] / (std[i] ** 2 * std[j] ** 2) / (n - 1);
      num += (n / dof ** 2) * (s2Mean - sMean * sMean);
      den += sMean * sMean;
    }
  }
  const lambda = den > 0 ? Math.max(0, Math.min(1, num / den)) : 1;
  for (let i = 0; i < C; i++) {
    for (let j = 0; j < C; j++) out[i * C + j] = (sSum[i * C + j] / dof) * (i === j ? 1 : 1 - lambda);
  }
  return out;
}

/**
 * The channels × channels noise precision (inverse covariance), row-major Float64Array.
 * @example
 * const precision = fl.precFromResiduals(residuals);
 * const d = fl.rdm(acts, { by: "stimulus", distance: "crossnobis", folds: "run", precision });
 */
export function precFromResiduals(residuals: Residuals, opts: ResidualOptions = {}): Float64Array {
  rejectUnknownOptions("precFromResiduals", opts, RESIDUAL_OPTIONS);
  const cov = covFromResiduals(residuals, opts);
  const C = Math.round(Math.sqrt(cov.length));
  const chol = choleskyOf(cov, C, "the noise covariance");
  const inv = chol.solve(Matrix.eye(C));
  return Float64Array.from(inv.to1DArray());
}

/** Cholesky factor of a symmetric positive-definite C×C matrix, or an error naming it. */
export function choleskyOf(m: Float64Array, C: number, what: string): CholeskyDecomposition {
  const chol = new CholeskyDecomposition(new Matrix(Array.from({ length: C }, (_, i) => Array.from(m.subarray(i * C, (i + 1) * C)))));
  if (!chol.isPositiveDefinite()) {
    throw new InputError(undefined, `${what} (${C}×${C}) is not positive definite; use a shrinkage estimate ("shrinkage_diag" or "shrinkage_eye")`);
  }
  return chol;
}

function flatten(residuals: Residuals, channels?: number): { data: ArrayLike<number>; rows: number; channels: number } {
  if (Array.isArray(residuals)) {
    const C = residuals[0]?.length ?? 0;
    const data = new Float64Array(residuals.length * C);
    residuals.forEach((row, i) => {
      if (row.length !== C) throw new InputError(undefined, `residual row ${i} has ${row.length} values, row 0 has ${C}`);
      data.set(row, i * C);
    });
    return { data, rows: residuals.length, channels: C };
  }
  if (!channels || residuals.length % channels !== 0) {
    throw new InputError(undefined, `flat residuals need { channels } dividing their length ${residuals.length}`);
  }
  return { data: residuals, rows: residuals.length / channels, channels };
}
