// ReLU sparse autoencoder with the norm-weighted L1 penalty (Anthropic's "April update", SAELens
// "standard"): f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec,
// loss = mean_B Σ_d (x̂ − x)² + λ · mean_B Σ_i f_i ‖W_dec,i‖.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type HostTensor, type LossOptions, type Params, type StepResult } from "./architecture.js";

function init(dIn: number, width: number, rng: Rng): Record<string, HostTensor> {
  // Decoder rows: random directions with norm 0.1; encoder = decoder transposed; biases zero.
  const wDec = rng.normals(width * dIn);
  for (let i = 0; i < width; i++) {
    const row = wDec.subarray(i * dIn, (i + 1) * dIn);
    let n = 0;
    for (const v of row) n += v * v;
    const scale = 0.1 / Math.sqrt(n);
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

function preActivations(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc);
}

function encode(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => tf.relu(preActivations(x, p)));
}

function decode(f: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec));
}

function referenceLoss(x: tf.Tensor2D, p: Params, { l1 }: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const f = tf.relu(preActivations(x, p));
    const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec);
    const mse = tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1));
    const norms = tf.norm(p.W_dec, "euclidean", 1);
    const sparsity = tf.mean(tf.sum(tf.mul(f, norms), 1));
    return tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;
  });
}

/**
 * Forward and backward by hand, using only untransposed matMuls (tfjs-wasm runs matMul with
 * transposeA/transposeB as a slow scalar loop; an explicit tf.transpose first is cheap).
 */
function step(x: tf.Tensor2D, p: Params, { l1 }: LossOptions): StepResult {
  return tf.tidy(() => {
    const B = x.shape[0];
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const saeIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(saeIn, W_enc), p.b_enc) as tf.Tensor2D;
    const f = tf.relu(pre) as tf.Tensor2D;
    const xHat = tf.add(tf.matMul(f, W_dec), p.b_dec) as tf.Tensor2D;
    const err = tf.sub(xHat, x);
    const norms = tf.norm(W_dec, "euclidean", 1) as tf.Tensor1D; // [d_sae]
    const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const sparsity = tf.div(tf.sum(tf.matMul(f, tf.reshape(norms, [-1, 1]))), B) as tf.Scalar;
    const loss = tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;

    const g = tf.mul(err, 2 / B) as tf.Tensor2D; // ∂L/∂x̂
    const fireCount = tf.sum(f, 0); // Σ_b f_bi
    // ∂L/∂f = g·W_decᵀ + (λ/B)·‖W_dec,i‖, masked by the ReLU.
    const gF = tf.add(tf.matMul(g, tf.transpose(W_dec)), tf.mul(norms, l1 / B));
    const gPre = tf.mul(gF, tf.step(pre, 0)) as tf.Tensor2D;
    // ∂L/∂W_dec = fᵀ·g + (λ/B)·(Σ_b f_bi)·W_dec,i/‖W_dec,i‖.
    const gWdec = tf.add(
      tf.matMul(tf.transpose(f), g),
      tf.mul(tf.reshape(tf.div(tf.mul(fireCount, l1 / B), norms), [-1, 1]), W_dec),
    );
    const gWenc = tf.matMul(tf.transpose(saeIn), gPre);
    const gBenc = tf.sum(gPre, 0);
    // b_dec enters twice: added to x̂, subtracted from the encoder input.
    const gBdec = tf.sub(tf.sum(g, 0), tf.reshape(tf.matMul(W_enc, tf.reshape(gBenc, [-1, 1])), [-1]));
    return {
      loss,
      terms: { mse, l1: sparsity },
      grads: { W_enc: gWenc, W_dec: gWdec, b_enc: gBenc, b_dec: gBdec },
      features: f,
      reconstruction: xHat,
    };
  });
}

export const relu = defineArchitecture("relu", "standard", (options) => ({
  name: "relu",
  saeLensName: "standard",
  options: { ...options },
  init,
  encode,
  decode,
  step,
  referenceLoss,
}));
