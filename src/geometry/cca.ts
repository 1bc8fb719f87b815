// Canonical correlation analysis between two representations of the same datapoints, and the two
// summaries built on it, with google/svcca's conventions so numbers carry over:
//  - cca: cca_core.get_cca_similarity. Sample covariances (ddof 1) of the centred columns, Σxx and Σyy
//    divided by their largest |entry| (Σxy by √ of both) for stability, columns whose scaled variance is
//    below ε dropped, ε added to the diagonals, ρ the singular values of Σxx^-½ Σxy Σyy^-½.
//    cca_core takes neurons × datapoints; featurelab takes datapoints × neurons (rows are datapoints).
//  - svcca (Raghu et al. 2017): each side reduced to its top singular directions, then CCA, mean ρ.
//  - pwcca (Morcos et al. 2018): ρ weighted by how much of the activations each canonical direction
//    accounts for, as pwcca.compute_pwcca does it.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { centred, flatRows, type FlatRows, type Rows } from "./rows.js";
import { matMul, svd, symEig } from "../engine/linalg.js";

/** A representation: the geometry inputs (`Rows`), or a flat row-major `{ data, rows, cols }`. */
export type CcaInput = Rows | { data: Float64Array | Float32Array; rows: number; cols: number };

/** Options of `cca` and `pwcca`. */
export interface CcaOptions {
  /** cca_core's epsilon (default 0): columns with scaled variance below it are dropped, and it is added to the scaled covariances' diagonals. */
  epsilon?: number;
}

/** Options of `svcca`. */
export interface SvccaOptions {
  /**
   * Singular directions kept on each side: an integer ≥ 1 is a count; a fraction in (0, 1) keeps the fewest
   * directions whose squared singular values reach that share of the variance. Default 0.99, the paper's
   * "99% of the variance". A pair [forX, forY] sets the sides apart.
   */
  keep?: number | [number, number];
  /** cca_core's epsilon for the CCA of the reduced sides (default 1e-10, as the svcca tutorial). */
  epsilon?: number;
}

/** What `cca` returns. k = min(columns of X, columns of Y) after small columns are dropped. */
export interface CcaResult {
  /** Canonical correlations, descending, length k. */
  rho: Float64Array;
  /** p × k row-major: column i is the i-th canonical direction over X's columns (zero rows for dropped columns). */
  xWeights: Float64Array;
  /** q × k row-major, the same for Y. */
  yWeights: Float64Array;
  /**
   * n × k: the canonical variates (X − mean)·xWeights. They are cca_core's cca_dirns1 (transposed) without
   * the neuron means it adds back; like its directions they are scaled by the covariance rescaling, so
   * each has variance max|Σxx| rather than 1 (when ε = 0).
   */
  xScores: Float64Array;
  /** n × k, the same for Y; corr(xScores[:, i], yScores[:, i]) = rho[i]. */
  yScores: Float64Array;
  /** Number of datapoints (rows). */
  n: number;
  /** Number of canonical pairs. */
  k: number;
}

const CCA_OPTIONS = optionNames<CcaOptions>({ epsilon: true });
const SVCCA_OPTIONS = optionNames<SvccaOptions>({ keep: true, epsilon: true });

/**
 * A representation as flat rows; `{ data, rows, cols }` is checked and viewed without a copy.
 * @example
 * const { values, rows, dim } = ccaRows({ data: new Float64Array(6), rows: 3, cols: 2 }, "cca: X");
 */
export function ccaRows(x: CcaInput, what: string): FlatRows {
  const o = x as { data?: unknown; rows?: unknown; cols?: unknown };
  if (o && typeof o === "object" && "data" in o && "cols" in o) {
    const { data, rows, cols } = o as { data: Float64Array | Float32Array; rows: number; cols: number };
    if (!(data instanceof Float64Array || data instanceof Float32Array) || !Number.isInteger(rows) || !Number.isInteger(cols) || rows * cols !== data.length) {
      throw new InputError(undefined, `${what}: { data, rows, cols } needs a Float64Array or Float32Array of rows × cols values; got ${data?.length} values for ${rows}×${cols}`);
    }
    return flatRows({ values: data, dim: cols }, what);
  }
  return flatRows(x as Rows, what);
}

interface Side {
  n: number;
  p: number;
  /** Centred, float64, n × p. */
  c: Float64Array;
}

function side(x: CcaInput, what: string): Side {
  const r = ccaRows(x, what);
  return { n: r.rows, p: r.dim, c: centred(r) };
}

/** (S + εI)^-½ by eigendecomposition, eigenvalues at or below numpy pinv's cutoff (1e-15·max) treated as 0. */
function invSqrt(S: Float64Array, k: number, eps: number): Float64Array {
  const A = Float64Array.from(S);
  for (let i = 0; i < k; i++) A[i * k + i] += eps;
  const { values, vectors } = symEig(A, k);
  let top = 0;
  for (const w of values) top = Math.max(top, Math.abs(w));
  const scaled = new Float64Array(k * k);
  for (let r = 0; r < k; r++) {
    const w = values[r];
    const f = w > 1e-15 * top ? 1 / Math.sqrt(w) : 0;
    for (let j = 0; j < k; j++) scaled[r * k + j] = f * vectors[r * k + j];
  }
  return matMul(vectors, scaled, k, k, k, true, false);
}

/** The sub-matrix rows `r`, columns `c` of a row-major matrix with `cols` columns. */
function pick(A: Float64Array, cols: number, r: number[], c: number[]): Float64Array {
  const out = new Float64Array(r.length * c.length);
  r.forEach((i, a) => c.forEach((j, b) => (out[a * c.length + b] = A[i * cols + j])));
  return out;
}

interface CcaCore extends CcaResult {
  xKept: number[];
  yKept: number[];
  /** Whitened-space directions: U (kx × k) and Vt (k × ky) of the SVD. */
  U: Float64Array;
  Vt: Float64Array;
}

function ccaCore(X: Side, Y: Side, eps: number, fn: string): CcaCore {
  const { n } = X;
  if (Y.n !== n) throw new InputError(undefined, `${fn}: X is ${n}×${X.p} and Y is ${Y.n}×${Y.p}; both need the same datapoints (rows)`);
  for (const [s, nm] of [[X, "X"], [Y, "Y"]] as const) {
    if (s.p < 1 || s.p >= n) {
      throw new InputError(undefined, `${fn}: ${nm} is ${n}×${s.p}; CCA needs more rows (datapoints) than columns (neurons) — rows are datapoints here, the transpose of cca_core's neurons × datapoints (reduce the columns first, e.g. with svcca)`);
    }
  }
  if (!(eps >= 0)) throw new InputError(undefined, `${fn}: epsilon must be ≥ 0, got ${eps}`);
  const { p, q } = { p: X.p, q: Y.p };
  const d = n - 1;
  const Sxx = matMul(X.c, X.c, p, n, p, true).map((v) => v / d);
  const Syy = matMul(Y.c, Y.c, q, n, q, true).map((v) => v / d);
  const Sxy = matMul(X.c, Y.c, p, n, q, true).map((v) => v / d);
  let xmax = 0, ymax = 0;
  for (const v of Sxx) xmax = Math.max(xmax, Math.abs(v));
  for (const v of Syy) ymax = Math.max(ymax, Math.abs(v));
  if (!(xmax > 0) || !(ymax > 0)) throw new InputError(undefined, `${fn}: ${xmax > 0 ? "Y" : "X"} (${n}×${xmax > 0 ? q : p}) is constant across rows; CCA is undefined`);
  const sxy = Math.sqrt(xmax * ymax);
  const xKept: number[] = [], yKept: number[] = [];
  for (let i = 0; i < p; i++) if (Math.abs(Sxx[i * p + i] / xmax) >= eps) xKept.push(i);
  for (let i = 0; i < q; i++) if (Math.abs(Syy[i * q + i] / ymax) >= eps) yKept.push(i);
  if (!xKept.length || !yKept.length) throw new InputError(undefined, `${fn}: no column of ${xKept.length ? "Y" : "X"} has scaled variance ≥ epsilon ${eps}`);
  const kx = xKept.length, ky = yKept.length;
  const Ax = invSqrt(pick(Sxx, p, xKept, xKept).map((v) => v / xmax), kx, eps);
  const Ay = invSqrt(pick(Syy, q, yKept, yKept).map((v) => v / ymax), ky, eps);
  const Cxy = pick(Sxy, q, xKept, yKept).map((v) => v / sxy);
  const arr = matMul(matMul(Ax, Cxy, kx, kx, ky), Ay, kx, ky, ky);
  const { U, S, Vt, k } = svd(arr, kx, ky);
  // Directions in the original columns: xWeights = Ax·U (kx × k), spread over all p columns.
  const wx = matMul(Ax, U, kx, kx, k), wy = matMul(Ay, Vt, ky, ky, k, false, true);
  const xWeights = new Float64Array(p * k), yWeights = new Float64Array(q * k);
  xKept.forEach((c, a) => xWeights.set(wx.subarray(a * k, (a + 1) * k), c * k));
  yKept.forEach((c, a) => yWeights.set(wy.subarray(a * k, (a + 1) * k), c * k));
  return {
    rho: S.map(Math.abs),
    xWeights,
    yWeights,
    xScores: matMul(X.c, xWeights, n, p, k),
    yScores: matMul(Y.c, yWeights, n, q, k),
    n,
    k,
    xKept,
    yKept,
    U,
    Vt,
  };
}

/**
 * Canonical correlation analysis of two representations of the same n datapoints (X n × p, Y n × q; rows
 * are datapoints, columns neurons — the transpose of cca_core's input), as google/svcca's
 * cca_core.get_cca_similarity computes it, epsilon regularisation included. Needs p, q < n.
 * @example
 * const { rho } = fl.cca(layer0, layer1);   // canonical correlations, descending
 */
export function cca(X: CcaInput, Y: CcaInput, opts: CcaOptions = {}): CcaResult {
  rejectUnknownOptions("cca", opts, CCA_OPTIONS);
  const r = ccaCore(side(X, "cca: X"), side(Y, "cca: Y"), opts.epsilon ?? 0, "cca");
  return { rho: r.rho, xWeights: r.xWeights, yWeights: r.yWeights, xScores: r.xScores, yScores: r.yScores, n: r.n, k: r.k };
}

/** How many singular directions `keep` asks for, given the singular values. */
function keepCount(keep: number, S: Float64Array, what: string): number {
  if (keep >= 1) {
    if (!Number.isInteger(keep) || keep > S.length) throw new InputError(undefined, `svcca: keep ${keep} for ${what}: a count must be an integer from 1 to ${S.length}`);
    return keep;
  }
  if (!(keep > 0)) throw new InputError(undefined, `svcca: keep must be a count ≥ 1 or a variance fraction in (0, 1), got ${keep}`);
  let total = 0;
  for (const s of S) total += s * s;
  let acc = 0;
  for (let i = 0; i < S.length; i++) {
    acc += S[i] * S[i];
    if (acc / total >= keep - 1e-12) return i + 1;
  }
  return S.length;
}

/** Centred rows projected on their top singular directions: U_k·S_k (n × k), the svcca tutorial's svacts. */
function reduce(s: Side, keep: number, what: string): { values: Float64Array; dim: number } {
  const { U, S, k } = svd(s.c, s.n, s.p);
  const m = keepCount(keep, S, `${what} (${s.n}×${s.p})`);
  const out = new Float64Array(s.n * m);
  for (let i = 0; i < s.n; i++) for (let j = 0; j < m; j++) out[i * m + j] = U[i * k + j] * S[j];
  return { values: out, dim: m };
}

/**
 * SVCCA (Raghu et al. 2017): each representation reduced to its top singular directions (by default the
 * fewest that keep 99% of the variance), then CCA, summarised as the mean canonical correlation — as the
 * google/svcca tutorial computes it (SVD of the centred activations, cca_core with ε 1e-10, np.mean of
 * cca_coef1). Symmetric in X and Y.
 * @example
 * fl.svcca(layer0, layer1, { keep: 20 });   // top 20 directions each side
 */
export function svcca(X: CcaInput, Y: CcaInput, opts: SvccaOptions = {}): number {
  rejectUnknownOptions("svcca", opts, SVCCA_OPTIONS);
  const keep = opts.keep ?? 0.99;
  const [kx, ky] = Array.isArray(keep) ? keep : [keep, keep];
  const a = side(X, "svcca: X"), b = side(Y, "svcca: Y");
  if (a.n !== b.n) throw new InputError(undefined, `svcca: X is ${a.n}×${a.p} and Y is ${b.n}×${b.p}; both need the same datapoints (rows)`);
  const r = ccaCore(side(reduce(a, kx, "X"), "svcca: X"), side(reduce(b, ky, "Y"), "svcca: Y"), opts.epsilon ?? 1e-10, "svcca");
  let s = 0;
  for (const v of r.rho) s += v;
  return s / r.rho.length;
}

/**
 * Q of a thin QR of the n × k matrix whose columns are the rows of `D` (k × n): Gram-Schmidt in order, run
 * twice (CGS2), by blocks of rows so the bulk is two BLAS products per block.
 */
function orthonormalRows(D: Float64Array, k: number, n: number): Float64Array {
  const Q = Float64Array.from(D);
  const BLOCK = 64;
  for (let b0 = 0; b0 < k; b0 += BLOCK) {
    const b1 = Math.min(k, b0 + BLOCK), bs = b1 - b0;
    if (b0 > 0) {
      const prev = Q.slice(0, b0 * n);
      for (let pass = 0; pass < 2; pass++) {
        const blk = Q.slice(b0 * n, b1 * n);
        const upd = matMul(matMul(blk, prev, bs, n, b0, false, true), prev, bs, b0, n);
        for (let e = 0; e < blk.length; e++) blk[e] -= upd[e];
        Q.set(blk, b0 * n);
      }
    }
    for (let i = b0; i < b1; i++) {
      const qi = Q.subarray(i * n, (i + 1) * n);
      for (let pass = 0; pass < 2; pass++) {
        for (let j = b0; j < i; j++) {
          const qj = Q.subarray(j * n, (j + 1) * n);
          let dot = 0;
          for (let t = 0; t < n; t++) dot += qi[t] * qj[t];
          for (let t = 0; t < n; t++) qi[t] -= dot * qj[t];
        }
      }
      let norm = 0;
      for (let t = 0; t < n; t++) norm += qi[t] * qi[t];
      norm = Math.sqrt(norm);
      for (let t = 0; t < n; t++) qi[t] = norm > 0 ? qi[t] / norm : 0;
    }
  }
  return Q;
}

/**
 * Projection-weighted CCA (Morcos et al. 2018), as google/svcca's pwcca.compute_pwcca computes it: the
 * canonical correlations averaged with weights α_i = Σ_j |⟨q_i, a_j⟩| (normalised to sum 1), a_j the
 * activations of neuron j over the datapoints and q_i the orthonormalised (QR, in order of ρ) directions
 * Uᵀ(A − μ) of the side with FEWER kept columns — X's when the counts tie. So pwcca(X, Y) ≠ pwcca(Y, X)
 * when X and Y have the same width, and pwcca(X, Y) = pwcca(Y, X) otherwise. As compute_pwcca does, the
 * directions apply the whitened-space singular vectors U to the centred activations without Σ^-½.
 * Two departures, both where the reference is ill-defined: compute_pwcca adds neuron i's mean back to
 * direction i, which makes its value depend on the sign LAPACK happens to give each singular vector —
 * featurelab leaves it out, so the two agree exactly on column-centred inputs; and its branch for a
 * narrower Y indexes acts1 with Y's columns and fails — featurelab takes Y's activations there, the
 * evident intent, so pwcca(X, Y) = compute_pwcca(Yᵀ, Xᵀ). Where canonical correlations tie (e.g. several
 * at 1), the weights — here as in the reference — depend on the basis the SVD picks within the tie.
 * @example
 * fl.pwcca(layer0, layer1, { epsilon: 1e-10 });
 */
export function pwcca(X: CcaInput, Y: CcaInput, opts: CcaOptions = {}): number {
  rejectUnknownOptions("pwcca", opts, CCA_OPTIONS);
  const a = side(X, "pwcca: X"), b = side(Y, "pwcca: Y");
  const r = ccaCore(a, b, opts.epsilon ?? 0, "pwcca");
  const useX = r.xKept.length <= r.yKept.length;
  const s = useX ? a : b;
  const kept = useX ? r.xKept : r.yKept;
  const m = kept.length;
  const { n } = r;
  // coef (m × m, rows = directions): Uᵀ for X (U is m × m here), Vt for Y.
  const coef = useX ? transpose(r.U, m, m) : r.Vt;
  const cT = new Float64Array(m * n); // kept columns of the centred activations, m × n
  kept.forEach((c, a2) => {
    for (let i = 0; i < n; i++) cT[a2 * n + i] = s.c[i * s.p + c];
  });
  const Q = orthonormalRows(matMul(coef, cT, m, m, n), m, n);
  // ⟨q_i, a_j⟩ with the centred activations: the same as with the raw ones, since every q_i sums to 0.
  const proj = matMul(Q, cT, m, n, m, false, true); // ⟨q_i, a_j⟩
  const w = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) w[i] += Math.abs(proj[i * m + j]);
    total += w[i];
  }
  let score = 0;
  for (let i = 0; i < m; i++) score += (w[i] / total) * r.rho[i];
  return score;
}

function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = A[i * c + j];
  return out;
}
