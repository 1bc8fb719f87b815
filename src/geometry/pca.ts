// Principal-component projection of row vectors (e.g. decoder rows): the top-k eigenvectors of the
// covariance matrix, computed with ml-matrix's symmetric eigendecomposition.
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/** What `pca` returns: coordinates, explained variance and the axes. */
export interface Projection {
  /** Coordinates, rows × k, row-major. */
  coords: Float64Array;
  k: number;
  /** Fraction of total variance along each component. */
  explained: number[];
  /** Principal axes, k × dim, row-major (sign fixed: largest-magnitude entry positive). */
  axes: Float64Array;
}

/**
 * Project `rows` vectors of length `dim` onto their top-k principal components.
 * @example
 * const p = fl.pca(acts.vectors, acts.dim, 2);
 * p.explained;                                 // fraction of variance per component
 */
export function pca(values: ArrayLike<number>, dim: number, k = 2): Projection {
  const n = values.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new Error(`featurelab: pca needs at least 2 rows of dim ${dim}, got ${values.length} values`);
  if (k > dim) throw new Error(`featurelab: pca: k=${k} exceeds the dimension ${dim}`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) mean[j] += values[r * dim + j] / n;
  const centred = new Matrix(n, dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) centred.set(r, j, values[r * dim + j] - mean[j]);
  const cov = centred.transpose().mmul(centred).div(n - 1);
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const eig = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const order = Array.from(eig.keys()).sort((a, b) => eig[b] - eig[a]);
  const total = eig.reduce((s, v) => s + Math.max(v, 0), 0);
  const axes = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) {
    const col = vecs.getColumn(order[c]);
    let big = 0;
    for (const v of col) if (Math.abs(v) > Math.abs(big)) big = v;
    const sign = big < 0 ? -1 : 1;
    for (let j = 0; j < dim; j++) axes[c * dim + j] = sign * col[j];
  }
  const coords = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (values[r * dim + j] - mean[j]) * axes[c * dim + j];
      coords[r * k + c] = s;
    }
  }
  return { coords, k, explained: order.slice(0, k).map((i) => (total > 0 ? Math.max(eig[i], 0) / total : 0)), axes };
}
