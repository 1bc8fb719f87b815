// The QK dictionary's loss (loss.ts) with its gradient written by hand — tfjs autodiff of the
// log-softmax costs ~5× the forward pass here, the hand-written step ~1.5× (checked against autodiff
// in the tests). With S = scale·q_h k_hᵀ + mask per head and P̂ = softmax(S) over keys:
//   KL row = Σ A log A − (Σ_k A_k S_k − lse(S)),  lse = max S − log max P̂  (exact; max P̂ ≥ 1/T),
//   ∂KL/∂S = (P̂ − A)/R  (R = B·H·T rows; masked keys have P̂ = A = 0),
//   ∂/∂q_h = scale·G k_h,  ∂/∂k_h = scale·Gᵀ q_h,
// summed over the three terms with weights 3, 1, 1; then through q̂ = f_Q·D_Q + b_Q, the ReLU and
// the encoder, plus the √ penalty's c·½(f + ε)^(−½)/(B·T) where f > 0 (0 where f = 0, as tfjs' and
// torch's |·| gradient).
import { tf } from "../../engine/backend.js";
import { QK_EPS, type QkBatch, type QkWeights } from "./loss.js";

export interface QkStep {
  parts: { loss: number; klFull: number; klQueries: number; klKeys: number; sparsityQ: number; sparsityK: number } | undefined;
  grads: Record<keyof QkWeights, tf.Tensor>;
}

/** [B·T, H·d_head] → [B, H, T, d_head] and back. */
function toHeads(x: tf.Tensor, B: number, T: number, H: number, dh: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [B, T, H, dh]), [0, 2, 1, 3]);
}

function fromHeads(x: tf.Tensor, B: number, T: number, H: number, dh: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B * T, H * dh]);
}

/** Mean KL(A‖softmax(S)) over rows, and ∂(weight·KL)/∂S. */
export function klAndGrad(S: tf.Tensor4D, A: tf.Tensor4D, negEnt: tf.Tensor3D, weight: number, wantValue: boolean): { kl: tf.Scalar | undefined; G: tf.Tensor4D } {
  const P = tf.softmax(S);
  const R = A.size / A.shape[3]!;
  let kl: tf.Scalar | undefined;
  if (wantValue) {
    const lse = tf.sub(tf.max(S, -1), tf.log(tf.max(P, -1)));
    kl = tf.mean(tf.sub(negEnt, tf.sub(tf.sum(tf.mul(A, S), -1), lse))) as tf.Scalar;
  }
  return { kl, G: tf.mul(tf.sub(P, A), weight / R) as tf.Tensor4D };
}

/** Loss parts (when `withParts`) and the gradient of every weight, for one batch. Call inside tf.tidy. */
export function qkStep(w: QkWeights, b: QkBatch, c: number, mask: tf.Tensor2D, negEnt: tf.Tensor3D, withParts: boolean): QkStep {
  const { B, T, heads: H, dHead: dh, scale } = b;
  const N = B * T;
  const preQ = tf.add(tf.matMul(b.r, w.W_encQ), w.b_encQ), preK = tf.add(tf.matMul(b.r, w.W_encK), w.b_encK);
  const fQ = tf.relu(preQ) as tf.Tensor2D, fK = tf.relu(preK) as tf.Tensor2D;
  const qHat = tf.add(tf.matMul(fQ, w.D_Q), w.b_Q), kHat = tf.add(tf.matMul(fK, w.D_K), w.b_K);
  const qh = { hat: toHeads(qHat, B, T, H, dh), true: toHeads(b.q, B, T, H, dh) };
  const kh = { hat: toHeads(kHat, B, T, H, dh), true: toHeads(b.k, B, T, H, dh) };
  const scores = (q: tf.Tensor4D, k: tf.Tensor4D) => tf.add(tf.mul(tf.matMul(q, tf.transpose(k, [0, 1, 3, 2])), scale), mask) as tf.Tensor4D;
  const full = klAndGrad(scores(qh.hat, kh.hat), b.pattern, negEnt, 3, withParts);
  const queries = klAndGrad(scores(qh.hat, kh.true), b.pattern, negEnt, 1, withParts);
  const keys = klAndGrad(scores(qh.true, kh.hat), b.pattern, negEnt, 1, withParts);
  const GT = (G: tf.Tensor4D) => tf.transpose(G, [0, 1, 3, 2]);
  // ∂/∂q̂_h = scale·(G_full k̂_h + G_queries k_h); ∂/∂k̂_h = scale·(G_fullᵀ q̂_h + G_keysᵀ q_h).
  const dqHeads = tf.mul(tf.add(tf.matMul(full.G, kh.hat), tf.matMul(queries.G, kh.true)), scale);
  const dkHeads = tf.mul(tf.add(tf.matMul(GT(full.G), qh.hat), tf.matMul(GT(keys.G), qh.true)), scale);
  const side = (dOut: tf.Tensor2D, f: tf.Tensor2D, D: tf.Tensor2D) => {
    const dD = tf.matMul(tf.transpose(f), dOut);
    const dbOut = tf.sum(dOut, 0);
    const fired = tf.cast(tf.greater(f, 0), "float32");
    const dSparse = tf.mul(tf.div(0.5 * c / N, tf.sqrt(tf.add(f, QK_EPS))), fired);
    const dPre = tf.mul(tf.add(tf.matMul(dOut, tf.transpose(D)), dSparse), fired); // ReLU′ = [pre > 0] = [f > 0]
    return { dD, dbOut, dW: tf.matMul(tf.transpose(b.r), dPre), db: tf.sum(dPre, 0) };
  };
  const q = side(fromHeads(dqHeads, B, T, H, dh), fQ, w.D_Q);
  const k = side(fromHeads(dkHeads, B, T, H, dh), fK, w.D_K);
  let parts: QkStep["parts"];
  if (withParts) {
    const sp = (f: tf.Tensor2D) => c * tf.mean(tf.sum(tf.sqrt(tf.add(f, QK_EPS)), -1)).dataSync()[0];
    const klFull = full.kl!.dataSync()[0], klQueries = queries.kl!.dataSync()[0], klKeys = keys.kl!.dataSync()[0];
    const sparsityQ = sp(fQ), sparsityK = sp(fK);
    parts = { loss: 3 * klFull + klQueries + klKeys + sparsityQ + sparsityK, klFull, klQueries, klKeys, sparsityQ, sparsityK };
  }
  return {
    parts,
    grads: { W_encQ: q.dW, b_encQ: q.db, D_Q: q.dD, b_Q: q.dbOut, W_encK: k.dW, b_encK: k.db, D_K: k.dD, b_K: k.dbOut },
  };
}
