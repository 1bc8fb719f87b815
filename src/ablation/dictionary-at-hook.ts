// A dictionary read and written at a hook point: the activation flattened to rows the dictionary
// reads (hook_z: heads concatenated, n_heads·d_head, as SAELens does), the input-normalisation factor
// a dictionary trained on normalised activations expects, and the way back to the hook's shape.
import { tf } from "../engine/backend.js";
import type { Dictionary } from "../dictionaries/dictionary.js";

export interface DictionaryView {
  /** Rows the dictionary reads: [rows, d_in], already multiplied by the normalisation factor. */
  rows: tf.Tensor2D;
  /** Feature activations of those rows [rows, d_sae]. */
  features: tf.Tensor2D;
  /** Reconstruction from (possibly edited) features, in the hook's shape and scale. */
  decode(f: tf.Tensor2D): tf.Tensor;
  /** Rows back to the hook's shape and scale. */
  restore(rows: tf.Tensor2D): tf.Tensor;
}

/** Factor a dictionary's inputs were scaled by in training (SAELens' expected_average_only_in), else 1. */
export function inputScale(dict: Dictionary): number {
  return (dict.cfg.normalization as { scale?: number } | undefined)?.scale ?? 1;
}

export function checkSpliceable(dict: Dictionary, hook: string): void {
  if (dict.weights.W_dec.shape[1] !== dict.dIn) {
    throw new Error(`featurelab: a transcoder reads one activation and predicts another; it cannot replace '${hook}' in place (splice dictionaries that reconstruct their input)`);
  }
}

export function viewAt(dict: Dictionary, x: tf.Tensor, hook: string): DictionaryView {
  const last = x.shape[x.rank - 1];
  const lastTwo = x.rank >= 2 ? last * x.shape[x.rank - 2] : NaN;
  let width: number;
  if (last === dict.dIn) width = last;
  else if (x.rank === 4 && lastTwo === dict.dIn) width = lastTwo; // [batch, pos, head, d_head] → heads concatenated
  else {
    throw new Error(`featurelab: the dictionary reads vectors of dim ${dict.dIn}, but '${hook}' has shape [${x.shape}] (last axis ${last}${x.rank === 4 ? `, heads concatenated ${lastTwo}` : ""})`);
  }
  const s = inputScale(dict);
  const rows = tf.reshape(s === 1 ? x : tf.mul(x, s), [-1, width]) as tf.Tensor2D;
  const features = dict.encodeTensor(rows);
  const restore = (r: tf.Tensor2D) => tf.reshape(s === 1 ? r : tf.div(r, s), x.shape);
  return { rows, features, decode: (f) => restore(dict.reconstructTensor(rows, f)), restore };
}
