// The row-vector inputs the geometry functions take, brought to one shape: a flat row-major
// array with its row count and dimension (no copy when the input already is one).
import { tf } from "../engine/backend.js";
import { assertFinite } from "../data/finite.js";

/** Row vectors: an ActivationSet, `{ values, dim }` (e.g. `dict.decoderDirections()`), number[][] or a 2-D tensor. */
export type Rows =
  | { vectors: Float32Array; dim: number }
  | { values: ArrayLike<number>; dim: number }
  | ArrayLike<number>[]
  | tf.Tensor;

export interface FlatRows {
  values: Float32Array | Float64Array;
  rows: number;
  dim: number;
}

/** Rows as one flat array; NaN or ±Inf anywhere is refused, naming its row and column. */
export function flatRows(x: Rows, what = "rows"): FlatRows {
  const flat = flatten(x, what);
  assertFinite(flat.values, flat.dim, (x as { source?: string }).source, what);
  return flat;
}

function flatten(x: Rows, what: string): FlatRows {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`featurelab: ${what} must be a 2-D tensor [rows, dim], got shape [${x.shape}]`);
    return { values: Float32Array.from(x.dataSync() as Float32Array), rows: x.shape[0]!, dim: x.shape[1]! };
  }
  if (Array.isArray(x)) {
    const dim = x[0]?.length ?? 0;
    const out = new Float64Array(x.length * dim);
    x.forEach((r, i) => {
      if (r.length !== dim) throw new Error(`featurelab: ${what}: row ${i} has length ${r.length}, row 0 has ${dim}`);
      for (let j = 0; j < dim; j++) out[i * dim + j] = r[j];
    });
    return { values: out, rows: x.length, dim };
  }
  const obj = x as { vectors?: Float32Array; values?: ArrayLike<number>; dim?: number };
  const values = obj.vectors ?? obj.values;
  const dim = obj.dim;
  if (!values || typeof dim !== "number") {
    throw new Error(`featurelab: ${what}: expected an ActivationSet, { values, dim }, number[][] or a 2-D tensor`);
  }
  if (!Number.isInteger(dim) || dim <= 0 || values.length % dim !== 0) {
    throw new Error(`featurelab: ${what}: ${values.length} values do not split into rows of dim ${dim}`);
  }
  const flat = values instanceof Float32Array || values instanceof Float64Array ? values : Float64Array.from(values);
  return { values: flat, rows: values.length / dim, dim };
}

/** Rows with every column's mean subtracted, in float64. */
export function centred(x: FlatRows): Float64Array {
  const { values, rows, dim } = x;
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) mean[j] += values[r * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= rows;
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) out[r * dim + j] = values[r * dim + j] - mean[j];
  return out;
}
