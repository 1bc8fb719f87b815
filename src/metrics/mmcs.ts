// Mean max cosine similarity: MMCS(A, B) = mean over rows a of A of max_b cos(a, b).
// Used between ground-truth and learned feature directions, or between dictionaries of two runs.
import { tf, ensureEngine } from "../engine/backend.js";

/** Rows are directions: a [n, d] tensor, number[][], or a flat Float32Array with its dim. */
export type Directions = tf.Tensor2D | number[][] | { values: Float32Array; dim: number };

export function directionsTensor(x: Directions, what = "directions"): tf.Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`featurelab: ${what} must be a 2-D tensor [rows, dim], got shape [${x.shape}]`);
    return x.clone() as tf.Tensor2D;
  }
  if (Array.isArray(x)) {
    const dim = x[0]?.length ?? 0;
    if (x.some((r) => r.length !== dim)) throw new Error(`featurelab: ${what}: rows have different lengths`);
    return tf.tensor2d(x, [x.length, dim]);
  }
  if (x.values.length % x.dim !== 0) {
    throw new Error(`featurelab: ${what}: ${x.values.length} values do not split into rows of dim ${x.dim}`);
  }
  return tf.tensor2d(x.values, [x.values.length / x.dim, x.dim]);
}

/** What `bestMatches` returns: for each row of A, its best row of B and their cosine. */
export interface BestMatches {
  /** For each row of A, the index of its most similar row of B. */
  index: Int32Array;
  /** …and that cosine similarity. */
  cosine: Float32Array;
}

/**
 * For each row of A, the row of B with the highest cosine similarity.
 * @example
 * const { index, cosine } = fl.bestMatches(sae.decoderDirections(), truth);
 */
export function bestMatches(a: Directions, b: Directions): BestMatches {
  ensureEngine();
  const [cos, idx] = tf.tidy(() => {
    const A = directionsTensor(a, "A");
    const B = directionsTensor(b, "B");
    if (A.shape[1] !== B.shape[1]) {
      throw new Error(`featurelab: MMCS needs directions of the same dimension, got A [${A.shape}] and B [${B.shape}]`);
    }
    const unit = (t: tf.Tensor2D) => tf.div(t, tf.maximum(tf.norm(t, "euclidean", 1, true), 1e-12)) as tf.Tensor2D;
    const sims = tf.matMul(unit(A), tf.transpose(unit(B)));
    return [tf.max(sims, 1), tf.argMax(sims, 1)];
  });
  const out = { cosine: cos.dataSync() as Float32Array, index: Int32Array.from(idx.dataSync()) };
  tf.dispose([cos, idx]);
  return out;
}

/**
 * MMCS(A, B): mean over rows of A of the best cosine similarity with any row of B.
 * @example
 * const { acts, features } = fl.toy.sharkey({ features: 512, dim: 64, seed: 0 });
 * fl.mmcs(sae.decoderDirections(), { values: features, dim: 64 });   // 1 = every feature recovered
 */
export function mmcs(a: Directions, b: Directions): number {
  const { cosine } = bestMatches(a, b);
  let s = 0;
  for (const c of cosine) s += c;
  return s / cosine.length;
}
