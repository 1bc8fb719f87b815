// The score of head h is bilinear in the two dictionaries' features. With q̂_h = f_Q·D_Q,h + b_Q,h and
// k̂_h = f_K·D_K,h + b_K,h (D_·,h the head-h columns of the decoder, [width, d_head]):
//   q̂_h·k̂_h = Σ_ij f^Q_i f^K_j M_h[i,j]  +  Σ_j f^K_j u_h[j]  +  Σ_i f^Q_i v_h[i]  +  c_h,
//   M_h[i,j] = d^Q_{i,h}·d^K_{j,h},  u_h[j] = b_Q,h·d^K_{j,h} (query bias × key feature),
//   v_h[i] = d^Q_{i,h}·b_K,h (query feature × key bias),  c_h = b_Q,h·b_K,h.
// M excludes the 1/√d_head factor: it is the raw dot product, so the identity holds as written; a
// score (a logit of the softmax) is `scale`·(…). Only the first two terms depend on the key, so only
// they change the pattern (a per-query constant cancels in the softmax): pattern code uses M and u.
import { tf } from "../../engine/backend.js";
import type { QkWeights } from "./loss.js";

export interface QkPairTerms {
  /** M [H, W, W] (query feature i, key feature j). */
  M: tf.Tensor3D;
  /** u [H, W]: query bias × key feature. */
  u: tf.Tensor2D;
  /** v [H, W]: query feature × key bias. */
  v: tf.Tensor2D;
  /** c [H]: query bias × key bias. */
  c: tf.Tensor1D;
}

/** [width, H·d_head] → [H, width, d_head]. */
function byHead(D: tf.Tensor2D, H: number): tf.Tensor3D {
  const [W, hd] = D.shape;
  return tf.transpose(tf.reshape(D, [W, H, hd / H]), [1, 0, 2]);
}

/** M, u, v and c of every head. */
export function qkPairTerms(w: Pick<QkWeights, "D_Q" | "D_K" | "b_Q" | "b_K">, H: number): QkPairTerms {
  return tf.tidy(() => {
    const dh = w.D_Q.shape[1] / H;
    const dq = byHead(w.D_Q, H), dk = byHead(w.D_K, H);
    const dkT = tf.transpose(dk, [0, 2, 1]); // [H, d_head, W]
    const bq = tf.reshape(w.b_Q, [H, 1, dh]), bk = tf.reshape(w.b_K, [H, dh, 1]);
    return {
      M: tf.matMul(dq, dkT) as tf.Tensor3D,
      u: tf.reshape(tf.matMul(bq, dkT), [H, -1]) as tf.Tensor2D,
      v: tf.reshape(tf.matMul(dq, bk), [H, -1]) as tf.Tensor2D,
      c: tf.reshape(tf.matMul(bq, bk), [H]) as tf.Tensor1D,
    };
  });
}

/**
 * Unscaled scores q̂_h·k̂_h [B, H, T, T] rebuilt from features alone: f_Q (M_h ⊙ mask_h) f_Kᵀ + f_K·u_h
 * (+ f_Q·v_h + c_h when `full`). With mask = 1 and `full`, this is exactly q̂_h·k̂_h.
 */
export function bilinearScores(fQ: tf.Tensor2D, fK: tf.Tensor2D, terms: Pick<QkPairTerms, "M" | "u"> & Partial<QkPairTerms>, B: number, T: number, opts: { mask?: tf.Tensor3D; full?: boolean } = {}): tf.Tensor4D {
  const [H, W] = terms.M.shape;
  const M = opts.mask ? tf.mul(terms.M, opts.mask) : terms.M;
  // f_Q·[M_0 | M_1 | …] in one product: [B·T, W] × [W, H·W].
  const cat = tf.reshape(tf.transpose(M, [1, 0, 2]), [W, H * W]) as tf.Tensor2D;
  let g = tf.transpose(tf.reshape(tf.matMul(fQ, cat), [B, T, H, W]), [0, 2, 1, 3]); // [B, H, T, W]
  g = tf.add(g, tf.reshape(terms.u, [1, H, 1, W])); // the key-bias term rides along with each query row
  // Heads folded into the rows: [B, H·T, W] × [B, W, T] (no tile of f_K across heads — tile is slow).
  const fKT = tf.transpose(tf.reshape(fK, [B, T, W]), [0, 2, 1]);
  let s = tf.reshape(tf.matMul(tf.reshape(g, [B, H * T, W]), fKT), [B, H, T, T]) as tf.Tensor4D;
  if (opts.full) {
    if (!terms.v || !terms.c) throw new Error("featurelab: bilinearScores: { full: true } needs the v and c terms");
    const qv = tf.transpose(tf.reshape(tf.matMul(fQ, tf.transpose(terms.v)), [B, T, H, 1]), [0, 2, 1, 3]); // [B, H, T, 1]
    s = tf.add(tf.add(s, qv), tf.reshape(terms.c, [1, H, 1, 1]));
  }
  return s;
}
