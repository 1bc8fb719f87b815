// The loss of the bilinear QK dictionary (Wynroe & Sharkey 2024; REFERENCE.md), as pure tfjs
// functions of the transcoder weights, so tfjs autodiff differentiates them (checked against finite
// differences in the tests):
//   f_Q = ReLU(r·W_encQ + b_encQ), q̂ = f_Q·D_Q + b_Q   (and the same for keys),
//   log Â_h = log-softmax over keys of (q_h·k_h)·scale + causal mask (−1e9 above the diagonal),
//   KL(A‖Â) = Σ_k A (log A − log Â) per query row, averaged over (document, head, query) rows —
//   the authors' KLDivLoss(reduction="batchmean") over rows flattened the same way,
//   loss = 3·KL(A‖Â(q̂,k̂)) + KL(A‖Â(q̂,k)) + KL(A‖Â(q,k̂)) + c·Σ_i√(|f_Q,i|+ε) + c·Σ_i√(|f_K,i|+ε),
// the sparsity sums taken over features and averaged over tokens, ε = 1e-7.
import { causalMask } from "../../models/transformer.js";
import { tf } from "../../engine/backend.js";

export const QK_EPS = 1e-7;
/** Added to scores above the diagonal (a query never sees later keys). −1e9, not 1e-9. */
export const QK_MASK_VALUE = -1e9;

export interface QkWeights {
  W_encQ: tf.Tensor2D;
  b_encQ: tf.Tensor1D;
  D_Q: tf.Tensor2D;
  b_Q: tf.Tensor1D;
  W_encK: tf.Tensor2D;
  b_encK: tf.Tensor1D;
  D_K: tf.Tensor2D;
  b_K: tf.Tensor1D;
}

export const QK_WEIGHT_NAMES: readonly (keyof QkWeights)[] = ["W_encQ", "b_encQ", "D_Q", "b_Q", "W_encK", "b_encK", "D_K", "b_K"];

/** A batch of documents: r [B·T, d], q and k [B·T, H·d_head], the model's pattern [B, H, T, T]. */
export interface QkBatch {
  B: number;
  T: number;
  heads: number;
  dHead: number;
  scale: number;
  r: tf.Tensor2D;
  q: tf.Tensor2D;
  k: tf.Tensor2D;
  pattern: tf.Tensor4D;
}

export interface QkLossParts {
  loss: tf.Scalar;
  /** KL(A‖Â) with both reconstructed, with q̂ and the true k, with the true q and k̂. */
  klFull: tf.Scalar;
  klQueries: tf.Scalar;
  klKeys: tf.Scalar;
  sparsityQ: tf.Scalar;
  sparsityK: tf.Scalar;
}

/** 0 on and below the diagonal, QK_MASK_VALUE above it: [T, T]. */
export function qkCausalMask(T: number): tf.Tensor2D {
  return causalMask(T, QK_MASK_VALUE);
}

/** Feature activations ReLU(x·W_enc + b_enc). */
export function qkEncode(x: tf.Tensor2D, W_enc: tf.Tensor2D, b_enc: tf.Tensor1D): tf.Tensor2D {
  return tf.relu(tf.add(tf.matMul(x, W_enc), b_enc)) as tf.Tensor2D;
}

/** Per-head scores (q_h·k_h)·scale, causally masked: [B, H, T, T] from q, k [B·T, H·d_head]. */
export function qkScores(q: tf.Tensor2D, k: tf.Tensor2D, b: Pick<QkBatch, "B" | "T" | "heads" | "dHead" | "scale">, mask: tf.Tensor2D): tf.Tensor4D {
  const { B, T, heads: H, dHead: dh } = b;
  const qh = tf.transpose(tf.reshape(q, [B, T, H, dh]), [0, 2, 1, 3]);
  // Keys transposed explicitly: untransposed batched matMuls are the fast path on every engine.
  const khT = tf.transpose(tf.reshape(k, [B, T, H, dh]), [0, 2, 3, 1]);
  return tf.add(tf.mul(tf.matMul(qh, khT), b.scale), mask) as tf.Tensor4D;
}

/** Σ_k A·log A per row [B, H, T] (0·log 0 = 0): the constant part of KL(A‖·). */
export function negativeEntropy(pattern: tf.Tensor4D): tf.Tensor3D {
  return tf.sum(tf.mul(pattern, tf.log(tf.maximum(pattern, 1e-30))), -1) as tf.Tensor3D;
}

/** KL(A‖softmax(scores)) per query row, averaged over every (document, head, query) row. */
export function patternKl(pattern: tf.Tensor4D, scores: tf.Tensor4D, negEnt?: tf.Tensor3D): tf.Scalar {
  const logHat = tf.logSoftmax(scores, -1);
  const cross = tf.sum(tf.mul(pattern, logHat), -1);
  return tf.mean(tf.sub(negEnt ?? negativeEntropy(pattern), cross)) as tf.Scalar;
}

/** c·Σ_i √(|f_i| + ε) summed over features, averaged over tokens. */
export function sqrtSparsity(f: tf.Tensor2D, c: number): tf.Scalar {
  return tf.mul(tf.mean(tf.sum(tf.sqrt(tf.add(tf.abs(f), QK_EPS)), -1)), c) as tf.Scalar;
}

/** Reconstructed queries and keys with their features. */
export function qkReconstruct(w: QkWeights, r: tf.Tensor2D): { fQ: tf.Tensor2D; fK: tf.Tensor2D; qHat: tf.Tensor2D; kHat: tf.Tensor2D } {
  const fQ = qkEncode(r, w.W_encQ, w.b_encQ);
  const fK = qkEncode(r, w.W_encK, w.b_encK);
  return { fQ, fK, qHat: tf.add(tf.matMul(fQ, w.D_Q), w.b_Q) as tf.Tensor2D, kHat: tf.add(tf.matMul(fK, w.D_K), w.b_K) as tf.Tensor2D };
}

/** The training loss and its parts, for one batch. */
export function qkLoss(w: QkWeights, batch: QkBatch, c: number, mask: tf.Tensor2D, negEnt?: tf.Tensor3D): QkLossParts {
  const { fQ, fK, qHat, kHat } = qkReconstruct(w, batch.r);
  const ne = negEnt ?? negativeEntropy(batch.pattern);
  const klFull = patternKl(batch.pattern, qkScores(qHat, kHat, batch, mask), ne);
  const klQueries = patternKl(batch.pattern, qkScores(qHat, batch.k, batch, mask), ne);
  const klKeys = patternKl(batch.pattern, qkScores(batch.q, kHat, batch, mask), ne);
  const sparsityQ = sqrtSparsity(fQ, c);
  const sparsityK = sqrtSparsity(fK, c);
  const loss = tf.addN([tf.mul(klFull, 3), klQueries, klKeys, sparsityQ, sparsityK]) as tf.Scalar;
  return { loss, klFull, klQueries, klKeys, sparsityQ, sparsityK };
}
