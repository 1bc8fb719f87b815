// ReLU sparse autoencoder (SAELens "standard"): f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec.
// Two sparsity penalties (REFERENCE.md, Dictionaries):
//   decoder "weighted-l1" (default, Anthropic's "April update"): loss = mean_B Σ_d (x̂ − x)² + λ·mean_B Σ_i f_i‖W_dec,i‖;
//   decoder "unit-norm" (the older variant): loss = mean_B Σ_d (x̂ − x)² + λ·mean_B Σ_i f_i, with decoder rows
//   kept at unit norm — the gradient's component along each row is removed and rows are renormalised after each step.
import { tf } from "../engine/backend.js";
import { initTiedWeights, linearDecode as decode, normaliseRows, preActivations, removeParallel } from "./sae-parts.js";
import { defineArchitecture, type LossOptions, type Params, type StepResult } from "./architecture.js";

export type DecoderConstraint = "weighted-l1" | "unit-norm";
const DECODERS: readonly DecoderConstraint[] = ["weighted-l1", "unit-norm"];

function encode(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => tf.relu(preActivations(x, p)));
}

/** Row norms of W_dec as used by the penalty: the real norms, or ones for the unit-norm variant. */
function penaltyWeights(W_dec: tf.Tensor2D, decoder: DecoderConstraint): tf.Tensor1D {
  return decoder === "unit-norm" ? tf.ones([W_dec.shape[0]]) : (tf.norm(W_dec, "euclidean", 1) as tf.Tensor1D);
}

function referenceLoss(decoder: DecoderConstraint, x: tf.Tensor2D, p: Params, { l1 }: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const f = tf.relu(preActivations(x, p));
    const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec);
    const mse = tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1));
    const sparsity = tf.mean(tf.sum(tf.mul(f, penaltyWeights(p.W_dec as tf.Tensor2D, decoder)), 1));
    return tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;
  });
}

/**
 * Forward and backward by hand, using only untransposed matMuls (tfjs-wasm runs matMul with
 * transposeA/transposeB as a slow scalar loop; an explicit tf.transpose first is cheap).
 */
function step(decoder: DecoderConstraint, x: tf.Tensor2D, p: Params, { l1 }: LossOptions): StepResult {
  return tf.tidy(() => {
    const B = x.shape[0];
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const saeIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(saeIn, W_enc), p.b_enc) as tf.Tensor2D;
    const f = tf.relu(pre) as tf.Tensor2D;
    const xHat = tf.add(tf.matMul(f, W_dec), p.b_dec) as tf.Tensor2D;
    const err = tf.sub(xHat, x);
    const weights = penaltyWeights(W_dec, decoder); // [d_sae]
    const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const sparsity = tf.div(tf.sum(tf.matMul(f, tf.reshape(weights, [-1, 1]))), B) as tf.Scalar;
    const loss = tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;

    const g = tf.mul(err, 2 / B) as tf.Tensor2D; // ∂L/∂x̂
    // ∂L/∂f = g·W_decᵀ + (λ/B)·w_i, masked by the ReLU.
    const gF = tf.add(tf.matMul(g, tf.transpose(W_dec)), tf.mul(weights, l1 / B));
    const gPre = tf.mul(gF, tf.step(pre, 0)) as tf.Tensor2D;
    let gWdec = tf.matMul(tf.transpose(f), g) as tf.Tensor2D;
    if (decoder === "unit-norm") {
      // The rows live on the unit sphere: only the tangential part of the gradient moves them.
      gWdec = removeParallel(gWdec, W_dec);
    } else {
      // + (λ/B)·(Σ_b f_bi)·W_dec,i/‖W_dec,i‖ from the norm-weighted penalty.
      const fireSum = tf.sum(f, 0);
      gWdec = tf.add(gWdec, tf.mul(tf.reshape(tf.div(tf.mul(fireSum, l1 / B), weights), [-1, 1]), W_dec));
    }
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

function decoderOption(options: Record<string, unknown>): DecoderConstraint {
  const d = options.decoder ?? "weighted-l1";
  if (!DECODERS.includes(d as DecoderConstraint)) {
    throw new Error(`featurelab: relu: option 'decoder' must be one of ${DECODERS.map((v) => `"${v}"`).join(", ")}; got ${JSON.stringify(d) ?? String(d)}`);
  }
  return d as DecoderConstraint;
}

export const relu = defineArchitecture("relu", "standard", ["decoder"], (options) => {
  const decoder = decoderOption(options);
  const unitNorm = decoder === "unit-norm";
  return {
    name: "relu",
    saeLensName: "standard",
    options: { ...options, decoder },
    init: (dIn, width, rng) => initTiedWeights(dIn, width, rng, unitNorm ? 1 : 0.1),
    encode,
    decode,
    step: (x, p, opts) => step(decoder, x, p, opts),
    fused: { kind: "relu", unitNorm },
    referenceLoss: (x, p, opts) => referenceLoss(decoder, x, p, opts),
    ...(unitNorm ? { afterStep: (p: Record<string, tf.Variable>) => normaliseRows(p.W_dec) } : {}),
  };
});
