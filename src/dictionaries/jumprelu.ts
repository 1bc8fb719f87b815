// JumpReLU sparse autoencoder (SAELens "jumprelu"; REFERENCE.md, Dictionaries):
//   π = (x − b_dec)·W_enc + b_enc,  f = π·H(π − θ),  x̂ = f·W_dec + b_dec,
//   loss = mean_B Σ_d (x̂ − x)² + λ·mean_B Σ_i H(π_i − θ_i)   (λ plays SAELens' l1_coefficient / L0 coefficient).
// θ = exp(log_threshold) keeps the threshold positive. H has no useful derivative, so θ learns through
// straight-through pseudo-derivatives with the rectangle kernel K(u) = 1[|u| < ½] of bandwidth ε:
//   ∂f/∂θ = −(θ/ε)·K((π−θ)/ε),  ∂H/∂θ = −(1/ε)·K((π−θ)/ε),  ∂H/∂π = 0,  ∂f/∂π = H(π − θ).
// Saved for SAELens the tensor is `threshold` = θ, not log_threshold (toSaeLens/fromSaeLens convert).
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type HostTensor, type LossOptions, type Params, type StepResult } from "./architecture.js";
import { initTiedWeights, linearDecode as decode, preActivations } from "./sae-parts.js";

export interface JumpReluOptions {
  /** Kernel bandwidth ε of the pseudo-derivatives (default 0.001). */
  bandwidth: number;
  /** Initial threshold θ for every feature (default 0.001). */
  thresholdInit: number;
}

function positiveOption(options: Record<string, unknown>, name: keyof JumpReluOptions, fallback: number): number {
  const v = options[name] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new Error(`featurelab: jumprelu: option '${name}' must be a finite number > 0 (default ${fallback}); got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

function init(dIn: number, width: number, rng: Rng, thresholdInit: number): Record<string, HostTensor> {
  const w = initTiedWeights(dIn, width, rng, 0.1);
  return { ...w, log_threshold: { shape: [width], values: new Float32Array(width).fill(Math.log(thresholdInit)) } };
}

/** H(π − θ): 1 where the feature fires (strictly above its threshold), else 0. */
function fires(pre: tf.Tensor2D, theta: tf.Tensor): tf.Tensor2D {
  return tf.step(tf.sub(pre, theta), 0) as tf.Tensor2D;
}

/** K((π − θ)/ε) = 1[|π − θ| < ε/2]: the rows that the threshold's pseudo-derivatives see. */
function kernel(pre: tf.Tensor2D, theta: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.cast(tf.less(tf.abs(tf.div(tf.sub(pre, theta), eps)), 0.5), "float32") as tf.Tensor2D;
}

function encode(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => {
    const pre = preActivations(x, p);
    return tf.mul(pre, fires(pre, tf.exp(p.log_threshold))) as tf.Tensor2D;
  });
}

/** f = π·H(π−θ) and H(π−θ) as tfjs ops whose gradients are the pseudo-derivatives above. */
function straightThrough(eps: number) {
  const jump = tf.customGrad((pre, theta, save) => {
    const [p, t] = [pre as tf.Tensor2D, theta as tf.Tensor1D];
    (save as tf.GradSaveFunc)([p, t]);
    return {
      value: tf.mul(p, fires(p, t)) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, [sp, st]: tf.Tensor[]) => [
        tf.mul(dy, fires(sp as tf.Tensor2D, st)),
        tf.sum(tf.mul(tf.mul(dy, kernel(sp as tf.Tensor2D, st, eps)), tf.div(tf.neg(st), eps)), 0),
      ],
    };
  });
  const heaviside = tf.customGrad((pre, theta, save) => {
    const [p, t] = [pre as tf.Tensor2D, theta as tf.Tensor1D];
    (save as tf.GradSaveFunc)([p, t]);
    return {
      value: fires(p, t),
      gradFunc: (dy: tf.Tensor, [sp, st]: tf.Tensor[]) => [tf.zerosLike(sp), tf.sum(tf.mul(dy, kernel(sp as tf.Tensor2D, st, eps)), 0).div(-eps)],
    };
  });
  return { jump, heaviside };
}

function referenceLoss(eps: number, x: tf.Tensor2D, p: Params, { l1 }: LossOptions): tf.Scalar {
  const { jump, heaviside } = straightThrough(eps);
  return tf.tidy(() => {
    const pre = preActivations(x, p);
    const theta = tf.exp(p.log_threshold);
    const f = jump(pre, theta);
    const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec);
    const mse = tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1));
    const l0 = tf.mean(tf.sum(heaviside(pre, theta), 1));
    return tf.add(mse, tf.mul(l1, l0)) as tf.Scalar;
  });
}

/** Forward and backward by hand, with only untransposed matMuls (see relu.ts for why). */
function step(eps: number, x: tf.Tensor2D, p: Params, { l1 }: LossOptions): StepResult {
  return tf.tidy(() => {
    const B = x.shape[0];
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const theta = tf.exp(p.log_threshold) as tf.Tensor1D;
    const saeIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(saeIn, W_enc), p.b_enc) as tf.Tensor2D;
    const on = fires(pre, theta);
    const f = tf.mul(pre, on) as tf.Tensor2D;
    const xHat = tf.add(tf.matMul(f, W_dec), p.b_dec) as tf.Tensor2D;
    const err = tf.sub(xHat, x);
    const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const l0 = tf.div(tf.sum(on), B) as tf.Scalar;
    const loss = tf.add(mse, tf.mul(l1, l0)) as tf.Scalar;

    const g = tf.mul(err, 2 / B) as tf.Tensor2D; // ∂L/∂x̂
    const gF = tf.matMul(g, tf.transpose(W_dec)) as tf.Tensor2D; // ∂L/∂f
    const gPre = tf.mul(gF, on) as tf.Tensor2D; // the L0 term sends nothing to π
    // ∂L/∂θ_i = Σ_b K_bi·(−θ_i/ε·gF_bi − λ/(Bε)); then ∂θ/∂logθ = θ.
    const inWindow = kernel(pre, theta, eps);
    const gTheta = tf.sum(tf.mul(inWindow, tf.sub(tf.mul(gF, tf.div(tf.neg(theta), eps)), l1 / (B * eps))), 0);
    const gLogTheta = tf.mul(gTheta, theta);
    const gWdec = tf.matMul(tf.transpose(f), g);
    const gWenc = tf.matMul(tf.transpose(saeIn), gPre);
    const gBenc = tf.sum(gPre, 0);
    // b_dec enters twice: added to x̂, subtracted from the encoder input.
    const gBdec = tf.sub(tf.sum(g, 0), tf.reshape(tf.matMul(W_enc, tf.reshape(gBenc, [-1, 1])), [-1]));
    return {
      loss,
      terms: { mse, l1: l0 }, // the trainer logs terms.l1 as "sparsity"; here it is the mean L0
      grads: { W_enc: gWenc, W_dec: gWdec, b_enc: gBenc, b_dec: gBdec, log_threshold: gLogTheta },
      features: f,
      reconstruction: xHat,
    };
  });
}

export const jumprelu = defineArchitecture("jumprelu", "jumprelu", ["bandwidth", "thresholdInit"], (options) => {
  const bandwidth = positiveOption(options, "bandwidth", 0.001);
  const thresholdInit = positiveOption(options, "thresholdInit", 0.001);
  return {
    name: "jumprelu",
    saeLensName: "jumprelu",
    options: { ...options, bandwidth, thresholdInit },
    init: (dIn, width, rng) => init(dIn, width, rng, thresholdInit),
    encode,
    decode,
    step: (x, p, opts) => step(bandwidth, x, p, opts),
    referenceLoss: (x, p, opts) => referenceLoss(bandwidth, x, p, opts),
    // SAELens stores θ itself as `threshold`.
    toSaeLens: ({ log_threshold, ...rest }) => ({ ...rest, threshold: tf.exp(log_threshold) }),
    fromSaeLens: ({ threshold, ...rest }) => ({ ...rest, ...(threshold ? { log_threshold: tf.log(threshold) } : {}) }),
  };
});
