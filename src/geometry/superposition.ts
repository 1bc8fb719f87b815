// How much of a dimension each feature gets (Elhage et al. 2022, "Toy Models of Superposition"):
// D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)², W_i the feature's direction, Ŵ_i its unit vector, j over all
// features (i included). D_i = 1 for a feature with a dimension of its own, ½ for an antipodal pair,
// ⅖ for a pentagon, 0 for a feature not represented; Σ_i D_i ≤ the number of dimensions.
import { tf } from "../engine/backend.js";
import { flatRows } from "./rows.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/**
 * Feature directions: the toy model's W [m, n] (hidden × features: feature i is column i) as a
 * tensor or number[][]; or `{ values, dim }` with one feature per row (e.g. dict.decoderDirections()).
 * `features: "rows" | "columns"` overrides.
 */
export type FeatureDirections = tf.Tensor2D | ArrayLike<number>[] | { values: ArrayLike<number>; dim: number };

/** Features as rows: a flat [n, m] array (W's columns by default for a tensor or number[][], rows for { values, dim }). */
function featureRows(W: FeatureDirections, layout?: "rows" | "columns"): { v: Float64Array; n: number; m: number } {
  const { values, rows, dim } = flatRows(W, "featureDimensionality: W");
  const defaultLayout = W instanceof tf.Tensor || Array.isArray(W) ? "columns" : "rows";
  if ((layout ?? defaultLayout) === "rows") return { v: Float64Array.from(values), n: rows, m: dim };
  const v = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) v[c * rows + r] = values[r * dim + c];
  return { v, n: dim, m: rows };
}

/**
 * D_i for every feature i. Features with (near) zero norm get 0.
 * @example
 * const toy = await fl.toySuperposition({ features: 5, hidden: 2, sparsity: 0.9, seed: 0 });
 * fl.featureDimensionality(toy.W());           // D_i per feature
 */
export function featureDimensionality(W: FeatureDirections, opts: { features?: "rows" | "columns" } = {}): Float64Array {
  rejectUnknownOptions("featureDimensionality", opts, optionNames<typeof opts>({ features: true }));
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

/**
 * Dimensions per feature, m / ‖W‖²_F (Elhage et al.'s "dimensions per feature" curve).
 * @example
 * fl.dimensionsPerFeature(toy.W());
 */
export function dimensionsPerFeature(W: FeatureDirections, opts: { features?: "rows" | "columns" } = {}): number {
  rejectUnknownOptions("dimensionsPerFeature", opts, optionNames<typeof opts>({ features: true }));
  const { v, m } = featureRows(W, opts.features);
  let f = 0;
  for (const x of v) f += x * x;
  return m / f;
}
