// Dense float64 linear algebra for the geometry methods: symmetric eigendecomposition, thin SVD,
// general eigenvalues and products, row-major. LAPACK and BLAS through the native addon when it is built
// (the routines numpy calls: dsyevd, dgesdd, dgeev, dgemm); ml-matrix's JavaScript otherwise, with the
// same conventions, so results agree to rounding either way.
import { Matrix, EigenvalueDecomposition, SingularValueDecomposition } from "ml-matrix";
import { loadNative } from "./native.js";

interface Lapack {
  symEig(n: number, A: Float64Array, w: Float64Array): void;
  svd(m: number, n: number, A: Float64Array, s: Float64Array, U: Float64Array, Vt: Float64Array): void;
  eigenvalues(n: number, A: Float64Array, re: Float64Array, im: Float64Array): void;
  dgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float64Array, lda: number, B: Float64Array, ldb: number, beta: number, C: Float64Array, ldc: number): void;
}

/** The addon's LAPACK, when the addon is built and has it (an addon built before lapack.cc lacks it). */
function lapack(): Lapack | undefined {
  const addon = loadNative().addon as unknown as Partial<Lapack> | undefined;
  return addon?.symEig && addon.svd && addon.eigenvalues ? (addon as Lapack) : undefined;
}

const toMatrix = (A: ArrayLike<number>, m: number, n: number) => {
  const M = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) M.set(i, j, A[i * n + j]);
  return M;
};
const fromMatrix = (M: Matrix) => Float64Array.from(M.to1DArray());

/** Eigenvalues of a symmetric n × n matrix, ascending, with unit eigenvectors as the rows of `vectors` (n × n). */
export function symEig(A: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const native = lapack();
  if (native) {
    const a = Float64Array.from(A as ArrayLike<number>);
    const values = new Float64Array(n);
    native.symEig(n, a, values);
    return { values, vectors: a };
  }
  const e = new EigenvalueDecomposition(toMatrix(A, n, n), { assumeSymmetric: true });
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => e.realEigenvalues[i] - e.realEigenvalues[j]);
  const V = e.eigenvectorMatrix;
  const vectors = new Float64Array(n * n);
  order.forEach((c, r) => {
    for (let i = 0; i < n; i++) vectors[r * n + i] = V.get(i, c);
  });
  return { values: Float64Array.from(order, (c) => e.realEigenvalues[c]), vectors };
}

/** Thin SVD of an m × n matrix: A = U diag(S) Vt with k = min(m, n); S descending, U m × k, Vt k × n. */
export function svd(A: ArrayLike<number>, m: number, n: number): { U: Float64Array; S: Float64Array; Vt: Float64Array; k: number } {
  const k = Math.min(m, n);
  const native = lapack();
  if (native) {
    const U = new Float64Array(m * k), S = new Float64Array(k), Vt = new Float64Array(k * n);
    native.svd(m, n, Float64Array.from(A as ArrayLike<number>), S, U, Vt);
    return { U, S, Vt, k };
  }
  // ml-matrix wants m ≥ n for a thin U; factor the transpose otherwise
  const wide = m < n;
  const M = wide ? toMatrix(A, m, n).transpose() : toMatrix(A, m, n);
  const d = new SingularValueDecomposition(M, { autoTranspose: true });
  const left = d.leftSingularVectors.subMatrix(0, M.rows - 1, 0, k - 1);
  const right = d.rightSingularVectors.subMatrix(0, M.columns - 1, 0, k - 1);
  const S = Float64Array.from(d.diagonal.slice(0, k));
  return wide ? { U: fromMatrix(right), S, Vt: fromMatrix(left.transpose()), k } : { U: fromMatrix(left), S, Vt: fromMatrix(right.transpose()), k };
}

/** Eigenvalues of a general n × n matrix: real and imaginary parts (complex pairs adjacent). */
export function eigenvalues(A: ArrayLike<number>, n: number): { re: Float64Array; im: Float64Array } {
  const native = lapack();
  if (native) {
    const re = new Float64Array(n), im = new Float64Array(n);
    native.eigenvalues(n, Float64Array.from(A as ArrayLike<number>), re, im);
    return { re, im };
  }
  const e = new EigenvalueDecomposition(toMatrix(A, n, n));
  return { re: Float64Array.from(e.realEigenvalues), im: Float64Array.from(e.imaginaryEigenvalues) };
}

/**
 * op(A) op(B) for row-major A and B, op a transpose when asked: op(A) is m × k, op(B) k × n; the result m × n.
 * (matMul(X, X, n, d, n, false, true) is X Xᵀ for X of n rows.)
 */
export function matMul(A: Float64Array, B: Float64Array, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const C = new Float64Array(m * n);
  const native = lapack();
  if (native) {
    native.dgemm(transA, transB, m, n, k, 1, A, transA ? m : k, B, transB ? k : n, 0, C, n);
    return C;
  }
  const a = (i: number, p: number) => (transA ? A[p * m + i] : A[i * k + p]);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const x = a(i, p);
      if (x === 0) continue;
      if (transB) for (let j = 0; j < n; j++) row[j] += x * B[j * k + p];
      else for (let j = 0, o = p * n; j < n; j++) row[j] += x * B[o + j];
    }
    C.set(row, i * n);
  }
  return C;
}
