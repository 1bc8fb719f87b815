// Resampling dead features (dictionary_learning's recipe, after Anthropic's "Towards
// Monosemanticity"): each dead feature is re-pointed at an input the dictionary reconstructs badly.
// Inputs are drawn with probability ∝ (squared error)²; the decoder row becomes that input made unit
// norm, the encoder column the same direction scaled to 0.2 × the mean norm of alive encoder columns,
// the encoder bias 0, and Adam forgets the feature's moments.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import type { Adam } from "./adam.js";

export interface ResampleResult {
  /** Features re-initialised. */
  resampled: number[];
}

export function resampleDeadFeatures(
  params: Record<string, tf.Variable>,
  adam: Adam,
  dead: Float32Array,
  x: tf.Tensor2D,
  reconstruction: tf.Tensor2D,
  rng: Rng,
): ResampleResult {
  const { W_enc, W_dec, b_enc } = params;
  if (!W_enc || !W_dec || !b_enc) throw new Error("featurelab: resampling dead features needs W_enc, W_dec and b_enc (ReLU-style dictionaries)");
  const deadIds = Array.from(dead.keys()).filter((i) => dead[i] > 0);
  if (deadIds.length === 0) return { resampled: [] };
  const B = x.shape[0];
  const losses = tf.tidy(() => tf.sum(tf.square(tf.sub(x, reconstruction)), 1)).dataSync() as Float32Array;
  const weights = Float64Array.from(losses, (l) => l * l);
  const total = weights.reduce((a, b) => a + b, 0);
  const chosen = deadIds.slice(0, B).map(() => sampleIndex(weights, total, rng));
  const ids = deadIds.slice(0, chosen.length);

  tf.tidy(() => {
    const idx = tf.tensor1d(Int32Array.from(ids), "int32");
    const picked = tf.gather(x, tf.tensor1d(Int32Array.from(chosen), "int32"));
    const unit = tf.div(picked, tf.maximum(tf.norm(picked, "euclidean", 1, true), 1e-8)); // [n, d]
    const alive = tf.tensor1d(Float32Array.from(dead, (v) => (v > 0 ? 0 : 1)));
    const encNorms = tf.norm(W_enc, "euclidean", 0); // [d_sae]
    const aliveCount = Math.max(1, alive.sum().dataSync()[0]);
    const aliveNorm = tf.div(tf.sum(tf.mul(encNorms, alive)), aliveCount);
    const width = W_dec.shape[0];
    const mask = tf.scatterND(tf.reshape(idx, [-1, 1]), tf.ones([ids.length]), [width]); // 1 at resampled ids
    const keep = tf.sub(1, mask);
    // Rows of W_dec (and columns of W_enc) at the resampled ids are replaced; the rest kept.
    const newDecRows = tf.scatterND(tf.reshape(idx, [-1, 1]), unit, W_dec.shape);
    W_dec.assign(tf.add(tf.mul(W_dec, tf.reshape(keep, [-1, 1])), newDecRows));
    const newEncCols = tf.transpose(tf.scatterND(tf.reshape(idx, [-1, 1]), tf.mul(unit, tf.mul(aliveNorm, 0.2)), [width, W_enc.shape[0]]));
    W_enc.assign(tf.add(tf.mul(W_enc, keep), newEncCols));
    b_enc.assign(tf.mul(b_enc, keep));
    adam.forget("W_dec", tf.reshape(keep, [-1, 1]));
    adam.forget("W_enc", keep);
    adam.forget("b_enc", keep);
  });
  return { resampled: ids };
}

function sampleIndex(weights: Float64Array, total: number, rng: Rng): number {
  if (!(total > 0)) return rng.int(weights.length);
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u <= 0) return i;
  }
  return weights.length - 1;
}
