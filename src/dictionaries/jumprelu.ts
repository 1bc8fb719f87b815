// JumpReLU sparse autoencoder (SAELens "jumprelu", JumpReLUTrainingSAE; REFERENCE.md, Dictionaries):
//   π = (x − b_dec)·W_enc + b_enc,  θ⁺ = ReLU(θ),  f = π·H(π − θ⁺),  x̂ = f·W_dec + b_dec,
//   loss = mean_B Σ_d (x̂ − x)² + λ·S + c_pre·P     (λ is the spec's l1, SAELens' l0_coefficient)
//   S = mean_B Σ_i H(π_i − θ⁺_i)                         sparsityLossMode "step" (DeepMind's L0)
//   S = mean_B Σ_i tanh(s·f_i·‖W_dec,i‖)                 sparsityLossMode "tanh" (Anthropic's), s = tanhScale
//   P = mean_B Σ_i ReLU(θ⁺_i − π_i)·dead_i·‖W_dec,i‖     preActLossCoefficient c_pre (off unless given)
// θ is trained directly, as SAELens ≥ 6.48 does: under Adam a parameter moves ~lr per step whatever its
// gradient, so θ = exp(log θ) moves only ~θ·lr and stays near its small initial value, and λ hardly
// changes L0. ReLU(θ) keeps the threshold ≥ 0 (a negative θ is a plain ReLU, and passes no gradient).
// H has no useful derivative, so θ learns through straight-through pseudo-derivatives with the
// rectangle kernel K(u) = 1[|u| < ½] of bandwidth ε, and π gets none from them:
//   ∂f/∂θ⁺ = −(θ⁺/ε)·K((π−θ⁺)/ε),  ∂H/∂θ⁺ = −(1/ε)·K((π−θ⁺)/ε),  ∂f/∂π = H(π − θ⁺),  ∂H/∂π = 0.
// Saved for SAELens as `threshold` [d_sae]; a folder with `log_threshold` (older checkpoints) loads as exp of it.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type HostTensor, type LossOptions, type Params, type StepResult } from "./architecture.js";
import { initTiedWeights, linearDecode as decode, preActivations } from "./sae-parts.js";

export const SPARSITY_LOSS_MODES = ["step", "tanh"] as const;
export type SparsityLossMode = (typeof SPARSITY_LOSS_MODES)[number];

/** The options, SAELens' JumpReLUTrainingSAEConfig fields in camelCase, with its defaults. */
export interface JumpReluOptions {
  /** Initial threshold θ of every feature (jumprelu_init_threshold, default 0.01). */
  initThreshold: number;
  /** Kernel bandwidth ε of the pseudo-derivatives (jumprelu_bandwidth, default 0.05). */
  bandwidth: number;
  /** "step": λ·L0; "tanh": λ·Σ tanh(s·f·‖W_dec‖) (jumprelu_sparsity_loss_mode, default "step"). */
  sparsityLossMode: SparsityLossMode;
  /** s of the tanh sparsity loss (jumprelu_tanh_scale, default 4). */
  tanhScale: number;
  /** c_pre of the pre-activation loss on dead features (pre_act_loss_coefficient; off by default; Anthropic used 3e-6). */
  preActLossCoefficient: number | undefined;
}

export const JUMPRELU_OPTION_NAMES = ["initThreshold", "bandwidth", "sparsityLossMode", "tanhScale", "preActLossCoefficient"] as const satisfies readonly (keyof JumpReluOptions)[];

function numberOption(who: string, options: Record<string, unknown>, name: keyof JumpReluOptions, fallback: number | undefined, min: "> 0" | "≥ 0"): number | undefined {
  const v = options[name] ?? fallback;
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || (min === "> 0" ? v <= 0 : v < 0)) {
    throw new Error(`featurelab: ${who}: option '${name}' must be a finite number ${min} (default ${fallback ?? "off"}); got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** The JumpReLU options with their defaults filled in (`who` names the architecture in errors; the CLT defaults to "tanh"). */
export function readJumpReluOptions(options: Record<string, unknown>, who = "jumprelu", defaultMode: SparsityLossMode = "step"): JumpReluOptions {
  const mode = options.sparsityLossMode ?? defaultMode;
  if (!SPARSITY_LOSS_MODES.includes(mode as SparsityLossMode)) {
    throw new Error(`featurelab: ${who}: option 'sparsityLossMode' must be one of ${SPARSITY_LOSS_MODES.map((m) => `"${m}"`).join(", ")} (default "${defaultMode}"); got ${JSON.stringify(mode) ?? String(mode)}`);
  }
  return {
    initThreshold: numberOption(who, options, "initThreshold", 0.01, "> 0")!,
    bandwidth: numberOption(who, options, "bandwidth", 0.05, "> 0")!,
    sparsityLossMode: mode as SparsityLossMode,
    tanhScale: numberOption(who, options, "tanhScale", 4, "> 0")!,
    preActLossCoefficient: numberOption(who, options, "preActLossCoefficient", undefined, "≥ 0"),
  };
}

function init(dIn: number, width: number, rng: Rng, initThreshold: number): Record<string, HostTensor> {
  // SAELens: decoder rows of norm 0.1 (decoder_init_norm), W_enc = W_decᵀ, zero biases; no decoder constraint.
  const w = initTiedWeights(dIn, width, rng, 0.1);
  return { ...w, threshold: { shape: [width], values: new Float32Array(width).fill(initThreshold) } };
}

/** H(π − θ⁺): 1 where the feature fires (strictly above its threshold), else 0. */
function fires(pre: tf.Tensor2D, theta: tf.Tensor): tf.Tensor2D {
  return tf.step(tf.sub(pre, theta), 0) as tf.Tensor2D;
}

/** K((π − θ⁺)/ε) = 1[|π − θ⁺|/ε < ½]: the rows that the threshold's pseudo-derivatives see. */
function kernel(pre: tf.Tensor2D, theta: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.cast(tf.less(tf.abs(tf.div(tf.sub(pre, theta), eps)), 0.5), "float32") as tf.Tensor2D;
}

function encode(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => {
    const pre = preActivations(x, p);
    return tf.mul(pre, fires(pre, tf.relu(p.threshold))) as tf.Tensor2D;
  });
}

/** f = π·H(π−θ⁺) and H(π−θ⁺) as tfjs ops whose gradients are the pseudo-derivatives above. */
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

/**
 * How a JumpReLU dictionary reads and writes: an SAE encodes x − b_dec and reconstructs x; a
 * (cross-layer) transcoder encodes x as it is and predicts another vector, b_dec being only its output bias.
 */
export interface JumpReluPaths {
  centreInput: boolean;
}

const SAE_PATHS: JumpReluPaths = { centreInput: true };

/** The same loss in plain tfjs ops (autodiff through ReLU(θ), tanh and ‖W_dec‖; the kernel by customGrad). */
export function jumpReluReferenceLoss(o: JumpReluOptions, x: tf.Tensor2D, p: Params, { l1, dead, target }: LossOptions, paths: JumpReluPaths = SAE_PATHS): tf.Scalar {
  const { jump, heaviside } = straightThrough(o.bandwidth);
  return tf.tidy(() => {
    const pre = paths.centreInput ? preActivations(x, p) : (tf.add(tf.matMul(x, p.W_enc as tf.Tensor2D), p.b_enc) as tf.Tensor2D);
    const theta = tf.relu(p.threshold);
    const f = jump(pre, theta);
    const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec);
    const norms = tf.norm(p.W_dec, "euclidean", 1);
    const terms = [tf.mean(tf.sum(tf.square(tf.sub(xHat, target ?? x)), 1))];
    const perRow = o.sparsityLossMode === "step" ? heaviside(pre, theta) : tf.tanh(tf.mul(tf.mul(f, norms), o.tanhScale));
    terms.push(tf.mul(l1, tf.mean(tf.sum(perRow, 1))));
    if (o.preActLossCoefficient !== undefined && dead) {
      const below = tf.mul(tf.mul(tf.relu(tf.sub(theta, pre)), dead), norms);
      terms.push(tf.mul(o.preActLossCoefficient, tf.mean(tf.sum(below, 1))));
    }
    return tf.addN(terms) as tf.Scalar;
  });
}

/** Forward and backward by hand, with only untransposed matMuls (see relu.ts for why). */
export function jumpReluStep(o: JumpReluOptions, x: tf.Tensor2D, p: Params, { l1, dead, target }: LossOptions, paths: JumpReluPaths = SAE_PATHS): StepResult {
  return tf.tidy(() => {
    const B = x.shape[0];
    const eps = o.bandwidth;
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const theta = tf.relu(p.threshold) as tf.Tensor1D;
    const saeIn = (paths.centreInput ? tf.sub(x, p.b_dec) : x) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(saeIn, W_enc), p.b_enc) as tf.Tensor2D;
    const on = fires(pre, theta);
    const f = tf.mul(pre, on) as tf.Tensor2D;
    const xHat = tf.add(tf.matMul(f, W_dec), p.b_dec) as tf.Tensor2D;
    const err = tf.sub(xHat, target ?? x);
    const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const norms = tf.norm(W_dec, "euclidean", 1) as tf.Tensor1D;
    const inWindow = kernel(pre, theta, eps);

    const g = tf.mul(err, 2 / B) as tf.Tensor2D; // ∂L/∂x̂
    let gF = tf.matMul(g, tf.transpose(W_dec)) as tf.Tensor2D; // ∂L/∂f
    let gTheta: tf.Tensor1D; // ∂L/∂θ⁺ from terms other than through f
    let gNorms: tf.Tensor1D | undefined; // ∂L/∂‖W_dec,i‖
    let sparsity: tf.Scalar;
    if (o.sparsityLossMode === "step") {
      // λ·mean_B Σ H: ∂/∂θ⁺_i = −λ/(Bε)·Σ_b K_bi; nothing to π.
      sparsity = tf.div(tf.sum(on), B) as tf.Scalar;
      gTheta = tf.mul(tf.sum(inWindow, 0), -l1 / (B * eps)) as tf.Tensor1D;
    } else {
      // λ·mean_B Σ tanh(s·f·‖W‖): reaches f (then π and θ⁺ through the JumpReLU) and the decoder norms.
      const t = tf.tanh(tf.mul(tf.mul(f, norms), o.tanhScale));
      sparsity = tf.div(tf.sum(t), B) as tf.Scalar;
      const dArg = tf.mul(tf.sub(1, tf.square(t)), (l1 * o.tanhScale) / B) as tf.Tensor2D; // ∂L/∂(f·‖W‖)
      gF = tf.add(gF, tf.mul(dArg, norms)) as tf.Tensor2D;
      gNorms = tf.sum(tf.mul(dArg, f), 0) as tf.Tensor1D;
      gTheta = tf.zerosLike(theta);
    }
    let gPre = tf.mul(gF, on) as tf.Tensor2D;
    // Through f = π·H(π − θ⁺): ∂L/∂θ⁺_i += Σ_b K_bi·(−θ⁺_i/ε)·gF_bi.
    gTheta = tf.add(gTheta, tf.mul(tf.sum(tf.mul(inWindow, gF), 0), tf.div(tf.neg(theta), eps))) as tf.Tensor1D;
    const terms: Record<string, tf.Scalar> = { mse, l1: sparsity }; // the trainer logs terms.l1 as "sparsity"
    let loss = tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;
    if (o.preActLossCoefficient !== undefined && dead) {
      // c·mean_B Σ ReLU(θ⁺ − π)·dead·‖W‖: pulls dead features' pre-activations up to their thresholds.
      const c = o.preActLossCoefficient;
      const gap = tf.relu(tf.sub(theta, pre));
      const below = tf.mul(tf.step(tf.sub(theta, pre), 0), dead);
      const preAct = tf.div(tf.sum(tf.mul(tf.mul(gap, dead), norms)), B) as tf.Scalar;
      terms.preAct = preAct;
      loss = tf.add(loss, tf.mul(c, preAct)) as tf.Scalar;
      const gBelow = tf.mul(below, tf.mul(norms, c / B)) as tf.Tensor2D;
      gPre = tf.sub(gPre, gBelow) as tf.Tensor2D;
      gTheta = tf.add(gTheta, tf.sum(gBelow, 0)) as tf.Tensor1D;
      const gNormsPre = tf.mul(tf.sum(tf.mul(gap, dead), 0), c / B) as tf.Tensor1D;
      gNorms = gNorms ? (tf.add(gNorms, gNormsPre) as tf.Tensor1D) : gNormsPre;
    }
    let gWdec = tf.matMul(tf.transpose(f), g) as tf.Tensor2D;
    // ∂‖W_i‖/∂W_i = W_i/‖W_i‖.
    if (gNorms) gWdec = tf.add(gWdec, tf.mul(tf.reshape(tf.div(gNorms, norms), [-1, 1]), W_dec)) as tf.Tensor2D;
    const gWenc = tf.matMul(tf.transpose(saeIn), gPre);
    const gBenc = tf.sum(gPre, 0);
    // An SAE's b_dec enters twice: added to x̂, subtracted from the encoder input.
    const gBdec = paths.centreInput ? tf.sub(tf.sum(g, 0), tf.reshape(tf.matMul(W_enc, tf.reshape(gBenc, [-1, 1])), [-1])) : tf.sum(g, 0);
    // θ⁺ = ReLU(θ): a threshold at or below 0 gets no gradient (as torch's relu backward).
    const gThreshold = tf.mul(gTheta, tf.step(p.threshold, 0));
    return {
      loss,
      terms,
      grads: { W_enc: gWenc, W_dec: gWdec, b_enc: gBenc, b_dec: gBdec, threshold: gThreshold },
      features: f,
      reconstruction: xHat,
    };
  });
}

/** SAELens' training_architecture_details for cfg.json (JumpReLUTrainingSAEConfig's fields). */
function saeLensDetails(o: JumpReluOptions, recorded: Record<string, unknown>): Record<string, unknown> {
  return {
    jumprelu_init_threshold: o.initThreshold,
    jumprelu_bandwidth: o.bandwidth,
    jumprelu_sparsity_loss_mode: o.sparsityLossMode,
    ...(typeof recorded.l1_coefficient === "number" ? { l0_coefficient: recorded.l1_coefficient } : {}),
    pre_act_loss_coefficient: o.preActLossCoefficient ?? null,
    jumprelu_tanh_scale: o.tanhScale,
    decoder_init_norm: 0.1,
  };
}

export const jumprelu = defineArchitecture("jumprelu", "jumprelu", JUMPRELU_OPTION_NAMES, (options) => {
  const o = readJumpReluOptions(options);
  const { preActLossCoefficient, ...always } = o;
  return {
    name: "jumprelu",
    saeLensName: "jumprelu",
    options: { ...options, ...always, ...(preActLossCoefficient === undefined ? {} : { preActLossCoefficient }) },
    init: (dIn, width, rng) => init(dIn, width, rng, o.initThreshold),
    encode,
    decode,
    step: (x, p, opts) => jumpReluStep(o, x, p, opts),
    fused: { kind: "jumprelu", options: o, centreInput: true },
    referenceLoss: (x, p, opts) => jumpReluReferenceLoss(o, x, p, opts),
    saeLensDetails: (recorded) => saeLensDetails(o, recorded),
    // SAELens stores θ as `threshold`, as featurelab trains it; older checkpoints held log θ.
    fromSaeLens: ({ log_threshold, ...rest }) => {
      if (!log_threshold) return rest;
      if (!rest.threshold) rest.threshold = tf.exp(log_threshold);
      log_threshold.dispose();
      return rest;
    },
  };
});
