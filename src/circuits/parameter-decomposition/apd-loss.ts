// The APD loss for a given top-k mask as a plain tfjs function of the factors, the reference that
// apd-step.ts's written-out gradient is checked against (tfjs autodiff) and that bench/apd-tms.ts
// times. Same terms as apd-step.ts: faithfulness, top-k reconstruction (minimality), and the
// repo's factorised Schatten-p norm of the kept components (simplicity).
import { tf } from "../../engine/backend.js";
import { targetForward, type Chain } from "./spd-loss.js";

/** A [C, d_in, m] and B [C, m, d_out] of every untied layer (undefined for a tied one). */
export interface ApdParams {
  A: (tf.Tensor3D | undefined)[];
  B: (tf.Tensor3D | undefined)[];
}

/** A and B of layer l (a tied layer's are its source's B and A, transposed). */
function factorsOf(chain: Chain, params: ApdParams, l: number): { A: tf.Tensor3D; B: tf.Tensor3D } {
  const s = chain.layers[l].tiedTo;
  if (s === undefined) return { A: params.A[l]!, B: params.B[l]! };
  return { A: tf.transpose(params.B[s]!, [0, 2, 1]), B: tf.transpose(params.A[s]!, [0, 2, 1]) };
}

/** The loss terms and their weighted total for rows x [B, d_in] and a mask [B, C] of 0/1. */
export function apdLossTerms(chain: Chain, params: ApdParams, x: tf.Tensor2D, mask: tf.Tensor2D, cfg: { faithfulness: number; minimality: number; simplicity: number; p: number }) {
  const factors = chain.layers.map((_, l) => factorsOf(chain, params, l));
  const [rows, C] = mask.shape;
  let nParams = 0;
  let faith: tf.Scalar = tf.scalar(0);
  let simplicity: tf.Scalar = tf.scalar(0);
  let h = x;
  chain.layers.forEach((layer, l) => {
    const { A, B } = factors[l];
    const [, din, m] = A.shape, dout = B.shape[2];
    nParams += din * dout;
    const P = tf.sum(tf.matMul(A, B), 0); // [d_in, d_out]
    faith = tf.add(faith, tf.sum(tf.square(tf.sub(tf.transpose(layer.weight), P))));
    // x·A_c for every c: [B, C, m], masked, then Σ_c (·)·B_c.
    const inner = tf.reshape(tf.matMul(h, tf.reshape(tf.transpose(A, [1, 0, 2]), [din, C * m])), [rows, C, m]);
    const kept = tf.mul(inner, tf.expandDims(mask, 2));
    h = tf.matMul(tf.reshape(kept, [rows, C * m]), tf.reshape(B, [C * m, dout]));
    const S = tf.mul(tf.sum(tf.square(A), 1), tf.sum(tf.square(B), 2)); // [C, m]
    const perRow = tf.add(tf.mul(tf.expandDims(mask, 2), tf.expandDims(S, 0)), 1e-16); // [B, C, m]
    simplicity = tf.add(simplicity, tf.sum(tf.pow(perRow, cfg.p / 2)));
  });
  faith = tf.div(faith, nParams);
  simplicity = tf.div(simplicity, nParams * rows);
  const target = targetForward(chain, x).out;
  const out = tf.relu(tf.add(h, chain.bias));
  const minimality = tf.mean(tf.square(tf.sub(out, target))) as tf.Scalar;
  const total = tf.addN([tf.mul(faith, cfg.faithfulness), tf.mul(minimality, cfg.minimality), tf.mul(simplicity, cfg.simplicity)]) as tf.Scalar;
  return { total, faithfulness: faith, minimality, simplicity };
}
