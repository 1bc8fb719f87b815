// Metrics of a model's outputs at every (document, position), as host arrays [documents·positions]:
// next-token (or label) cross-entropy, KL divergence from the clean distribution, and the logit
// difference between two tokens. Padded cells and cells with nothing to predict hold NaN.
import { tf } from "../engine/backend.js";

/** What an ablation measures at each position: next-token cross-entropy, KL from the clean distribution, or a logit difference between two tokens. */
export type MetricName = "ce" | "kl" | "logit_diff";
export const METRICS: readonly MetricName[] = ["ce", "kl", "logit_diff"];

export const METRIC_LABELS: Record<MetricName, string> = {
  ce: "cross-entropy loss",
  kl: "KL(clean ‖ ablated)",
  logit_diff: "logit difference",
};

/** Outputs as [documents, positions, vocab]: a classifier's [N, classes] is one position per document. */
export function asSequences(logits: tf.Tensor): tf.Tensor3D {
  if (logits.rank === 3) return logits as tf.Tensor3D;
  if (logits.rank === 2) return tf.expandDims(logits, 1) as tf.Tensor3D;
  throw new Error(`featurelab: metrics read logits [documents, positions, vocab] or [documents, classes]; got shape [${logits.shape}]`);
}

/** −log p(target) per cell; NaN where the target is −1. */
export function crossEntropy(logits: tf.Tensor3D, targets: Int32Array): Float32Array {
  const [B, T] = logits.shape;
  const idx = Int32Array.from(targets, (t) => Math.max(0, t));
  const picked = tf.tidy(() => pick(tf.logSoftmax(logits), idx).dataSync() as Float32Array);
  const out = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) out[i] = targets[i] < 0 ? NaN : -picked[i];
  return out;
}

/** KL(p_clean ‖ p_other) per cell, summed over the vocabulary (as SAELens computes it). */
export function klDivergence(clean: tf.Tensor3D, other: tf.Tensor3D): Float32Array {
  return tf.tidy(() => {
    const lc = tf.logSoftmax(clean), lo = tf.logSoftmax(other);
    return tf.reshape(tf.sum(tf.mul(tf.exp(lc), tf.sub(lc, lo)), -1), [-1]).dataSync() as Float32Array;
  });
}

/** logit[correct] − logit[wrong] per cell; correct/wrong are per document. */
export function logitDifference(logits: tf.Tensor3D, correct: Int32Array, wrong: Int32Array): Float32Array {
  const [B, T] = logits.shape;
  const a = new Int32Array(B * T), b = new Int32Array(B * T);
  for (let d = 0; d < B; d++) {
    a.fill(correct[d], d * T, (d + 1) * T);
    b.fill(wrong[d], d * T, (d + 1) * T);
  }
  return tf.tidy(() => tf.sub(pick(logits, a), pick(logits, b)).dataSync() as Float32Array);
}

/** x[cell, index[cell]] for every cell of x [B, T, V], in chunks of rows whose flat indices fit int32. */
function pick(x: tf.Tensor3D, index: Int32Array): tf.Tensor1D {
  const V = x.shape[2];
  const rows = tf.reshape(x, [-1, V]);
  const n = rows.shape[0];
  const chunk = Math.max(1, Math.floor(2 ** 31 / V) - 1);
  const parts: tf.Tensor1D[] = [];
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const r1 = Math.min(n, r0 + chunk);
    const idx = new Int32Array(r1 - r0);
    for (let i = r0; i < r1; i++) idx[i - r0] = (i - r0) * V + index[i];
    const part = r0 === 0 && r1 === n ? rows : tf.slice(rows, [r0, 0], [r1 - r0, V]);
    parts.push(tf.gather(tf.reshape(part, [-1]), tf.tensor1d(idx, "int32")));
  }
  return parts.length === 1 ? parts[0] : tf.concat(parts);
}
