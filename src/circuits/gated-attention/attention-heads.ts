// One causal multi-head attention layer written per head, in TransformerLens' weight layout
// (W_Q, W_K, W_V [heads, d_model, d_head], W_O [heads, d_head, d_model], b_Q/b_K/b_V [heads, d_head],
// no output bias), returning each head's output separately: the toy model and the gated attention
// block both use it, and per-head outputs are what the trigram-by-head attribution reads.
// An optional gate multiplies the softmax pattern elementwise (the gated block's G).
import { causalMask } from "../../models/transformer.js";
import { tf } from "../../engine/backend.js";

export interface HeadWeights {
  W_Q: tf.Tensor3D;
  b_Q: tf.Tensor2D;
  W_K: tf.Tensor3D;
  b_K: tf.Tensor2D;
  W_V: tf.Tensor3D;
  b_V: tf.Tensor2D;
  W_O: tf.Tensor3D;
}

export interface HeadOutputs {
  /** The pattern the values are mixed with [B, H, T(query), T(key)] (gated, when a gate is given). */
  pattern: tf.Tensor4D;
  /** Each head's output in the residual stream [B, H, T, d_model]. */
  perHead: tf.Tensor4D;
  /** Their sum [B, T, d_model]. */
  out: tf.Tensor3D;
}

/** x [B, T, d] through per-head weights [H, d, dh] (+ bias [H, dh]) → [B, H, T, dh]. */
function project(x: tf.Tensor3D, W: tf.Tensor3D, b: tf.Tensor2D): tf.Tensor4D {
  const [B, T, d] = x.shape;
  const [H, , dh] = W.shape;
  const flatW = tf.reshape(tf.transpose(W, [1, 0, 2]), [d, H * dh]) as tf.Tensor2D;
  const y = tf.add(tf.matMul(tf.reshape(x, [B * T, d]) as tf.Tensor2D, flatW), tf.reshape(b, [H * dh]));
  return tf.transpose(tf.reshape(y, [B, T, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** Causal attention, head by head. `gate(…)` [B, H, T, T] (if given) multiplies the softmax pattern. */
export function attentionHeads(x: tf.Tensor3D, w: HeadWeights, gate?: tf.Tensor4D): HeadOutputs {
  const [B, T, d] = x.shape;
  const [H, , dh] = w.W_Q.shape;
  const q = project(x, w.W_Q, w.b_Q), k = project(x, w.W_K, w.b_K), v = project(x, w.W_V, w.b_V);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), causalMask(T));
  const soft = tf.softmax(scores) as tf.Tensor4D;
  const pattern = gate ? (tf.mul(gate, soft) as tf.Tensor4D) : soft;
  const z = tf.matMul(pattern, v); // [B, H, T, dh]
  // [H, B·T, dh] · [H, dh, d] → [H, B·T, d], a batched product over heads.
  const zh = tf.reshape(tf.transpose(z, [1, 0, 2, 3]), [H, B * T, dh]);
  const perHead = tf.transpose(tf.reshape(tf.matMul(zh, w.W_O), [H, B, T, d]), [1, 0, 2, 3]) as tf.Tensor4D;
  return { pattern, perHead, out: tf.sum(perHead, 1) as tf.Tensor3D };
}

/** Token ids [B][T] → one-hot rows [B, T, V] (the toy models' residual stream). */
export function oneHotTokens(tokens: number[][], V: number): tf.Tensor3D {
  const B = tokens.length, T = tokens[0].length;
  const ids = new Int32Array(B * T);
  tokens.forEach((row, i) => {
    if (row.length !== T) throw new Error(`featurelab: sequence ${i} has ${row.length} tokens, the first has ${T}`);
    row.forEach((t, j) => {
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new Error(`featurelab: token ${t} at sequence ${i}, position ${j} is outside the vocabulary 0..${V - 1}`);
      ids[i * T + j] = t;
    });
  });
  return tf.tidy(() => tf.reshape(tf.oneHot(tf.tensor1d(ids, "int32"), V), [B, T, V]) as tf.Tensor3D);
}
