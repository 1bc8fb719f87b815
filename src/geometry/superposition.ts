// How much of a dimension each feature gets (Elhage et al. 2022, "Toy Models of Superposition"):
// D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)², W_i the feature's direction, Ŵ_i its unit vector, j over all
// features (i included). D_i = 1 for a feature with a dimension of its own, ½ for an antipodal pair,
// ⅖ for a pentagon, 0 for a feature not represented; Σ_i D_i ≤ the number of dimensions.
import { tf } from "../engine/backend.js";

/**
 * Feature directions: the toy model's W [m, n] (hidden × features: feature i is column i) as a
 * tensor or number[][]; or `{ values, dim }` with one feature per row (e.g. dict.decoderDirections()).
 * `features: "rows" | "columns"` overrides.
 */
export type FeatureDirections = tf.Tensor2D | ArrayLike<number>[] | { values: ArrayLike<number>; dim: number };

/** Features as rows: a flat [n, m] array. */
function featureRows(W: FeatureDirections, layout?: "rows" | "columns"): { v: Float64Array; n: number; m: number } {
  let rows: number, cols: number, flat: ArrayLike<number>;
  let defaultLayout: "rows" | "columns";
  if (W instanceof tf.Tensor) {
    if (W.rank !== 2) throw new Error(`featurelab: featureDimensionality needs a 2-D W, got shape [${W.shape}]`);
    [rows, cols] = W.shape;
    flat = W.dataSync();
    defaultLayout = "columns";
  } else if (Array.isArray(W)) {
    rows = W.length;
    cols = W[0]?.length ?? 0;
    const f = new Float64Array(rows * cols);
    W.forEach((r, i) => {
      if (r.length !== cols) throw new Error(`featurelab: featureDimensionality: W's rows have different lengths`);
      for (let j = 0; j < cols; j++) f[i * cols + j] = r[j];
    });
    flat = f;
    defaultLayout = "columns";
  } else {
    const o = W as { values: ArrayLike<number>; dim: number };
    cols = o.dim;
    rows = o.values.length / o.dim;
    if (!Number.isInteger(rows)) throw new Error(`featurelab: featureDimensionality: ${o.values.length} values do not split into rows of dim ${o.dim}`);
    flat = o.values;
    defaultLayout = "rows";
  }
  if ((layout ?? defaultLayout) === "rows") return { v: Float64Array.from(flat), n: rows, m: cols };
  const v = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[c * rows + r] = flat[r * cols + c];
  return { v, n: cols, m: rows };
}

/** D_i for every feature i. Features with (near) zero norm get 0. */
export function featureDimensionality(W: FeatureDirections, opts: { features?: "rows" | "columns" } = {}): Float64Array {
  const { v, n, m } = featureRows(W, opts.features);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += v[i * m + k] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Elhage et al.'s clamp: a feature with no norm has no dimension, rather than 0/0.
    const ni = Math.max(norms[i], 1e-6);
    let interference = 0;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < m; k++) dot += v[i * m + k] * v[j * m + k];
      interference += (dot / ni) ** 2;
    }
    out[i] = interference > 0 ? norms[i] ** 2 / interference : 0;
  }
  return out;
}

/** Dimensions per feature, m / ‖W‖²_F (Elhage et al.'s "dimensions per feature" curve). */
export function dimensionsPerFeature(W: FeatureDirections, opts: { features?: "rows" | "columns" } = {}): number {
  const { v, m } = featureRows(W, opts.features);
  let f = 0;
  for (const x of v) f += x * x;
  return m / f;
}
