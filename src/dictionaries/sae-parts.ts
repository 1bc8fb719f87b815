// The parts most sparse autoencoders share: tied initialisation, the encoder's pre-activations, the
// linear decoder, the unit-norm decoder constraint (its tangent-space gradient and renormalisation), and
// the stop-gradient reference losses need.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import type { HostTensor, Params } from "./architecture.js";

/** Decoder rows: random directions of norm `rowNorm`; encoder = decoder transposed; biases zero. */
export function initTiedWeights(dIn: number, width: number, rng: Rng, rowNorm: number): Record<string, HostTensor> {
  const wDec = rng.normals(width * dIn);
  for (let i = 0; i < width; i++) {
    const row = wDec.subarray(i * dIn, (i + 1) * dIn);
    let n = 0;
    for (const v of row) n += v * v;
    const scale = rowNorm / Math.sqrt(n);
    for (let j = 0; j < dIn; j++) row[j] *= scale;
  }
  const wEnc = new Float32Array(dIn * width);
  for (let i = 0; i < width; i++) for (let j = 0; j < dIn; j++) wEnc[j * width + i] = wDec[i * dIn + j];
  return {
    W_enc: { shape: [dIn, width], values: wEnc },
    W_dec: { shape: [width, dIn], values: wDec },
    b_enc: { shape: [width], values: new Float32Array(width) },
    b_dec: { shape: [dIn], values: new Float32Array(dIn) },
  };
}

/** (x − b_dec)·W_enc + b_enc. */
export function preActivations(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc);
}

/** f·W_dec + b_dec. */
export function linearDecode(f: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec));
}

/** ∂L/∂W_dec without each row's component along that row: the unit-norm constraint's tangent space. */
export function removeParallel(g: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const along = tf.div(tf.sum(tf.mul(g, W), 1, true), tf.maximum(tf.sum(tf.square(W), 1, true), 1e-12));
    return tf.sub(g, tf.mul(along, W)) as tf.Tensor2D;
  });
}

/** A copy autodiff treats as a constant: tfjs has no stop-gradient op (used by reference losses). */
export function constant<T extends tf.Tensor>(t: T): T {
  return tf.tensor(t.dataSync(), t.shape, t.dtype) as T;
}

/** Each row divided by its L2 norm (a zero row stays zero). Differentiable: a forward pass may use it. */
export function unitNormRows(W: tf.Tensor2D): tf.Tensor2D {
  return tf.div(W, tf.maximum(tf.norm(W, "euclidean", 1, true), 1e-12)) as tf.Tensor2D;
}

/** Back to unit-norm decoder rows after the optimiser step. */
export function normaliseRows(W: tf.Variable): void {
  tf.tidy(() => W.assign(unitNormRows(W as tf.Tensor2D)));
}
