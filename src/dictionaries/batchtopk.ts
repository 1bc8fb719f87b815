// BatchTopK sparse autoencoder (Bussmann et al. 2024): training keeps the B·k largest ReLU'd
// pre-activations of the whole batch, so rows share a budget of k on average. Inference has no
// batch: f = a·1[a > θ] with a = ReLU((x − b_dec)·W_enc + b_enc) and θ an EMA (β = 0.99) of each
// training batch's smallest kept activation. Same loss, AuxK and unit-norm decoder as topk.ts.
//
// Saved as SAELens saves BatchTopK-trained SAEs: architecture "jumprelu" with θ repeated as a
// threshold per feature [d_sae]; featurelab keeps the single trained θ [1] (cfg.featurelab says so).
// matryoshka.ts builds on batchTopKArchitecture below with another reconstruction loss.
import { tf } from "../engine/backend.js";
import { defineArchitecture, type Architecture, type Params } from "./architecture.js";
import {
  auxKFor,
  batchTopK,
  checkK,
  kOptions,
  linearDecode,
  maskedReferenceLoss,
  maskedStep,
  mseLoss,
  mseReference,
  normaliseRows,
  preActivations,
  recordedOptions,
  unitNormInit,
  type DecoderLoss,
} from "./sparsity-helpers.js";

/**
 * β of the threshold's exponential moving average: SAELens' topk_threshold_lr = 0.01. With β = 0.999
 * (dictionary_learning's) θ remembers ~1,000 steps, while the smallest kept activation falls as the
 * dictionary trains: after 1,500 steps at k = 4 θ was twice the current minimum and inference fired
 * 2.4 features per row (3.75 with β = 0.99).
 */
export const THRESHOLD_BETA = 0.99;

/**
 * θ after a batch whose smallest kept positive activation is minKept: β·θ + (1 − β)·minKept.
 * θ ≤ 0 means "not set yet" (init 0; kept activations are > 0), so the first batch sets θ directly
 * instead of creeping up from 0 over thousands of steps. A batch with nothing kept leaves θ alone.
 */
export function updatedThreshold(threshold: tf.Tensor, minKept: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const m = tf.reshape(minKept, [1]);
    const ema = tf.add(tf.mul(threshold, THRESHOLD_BETA), tf.mul(m, 1 - THRESHOLD_BETA));
    const next = tf.where(tf.lessEqual(threshold, 0), m, ema);
    return tf.where(tf.isFinite(m), next, threshold) as tf.Tensor1D;
  });
}

/** Inference: f = a·1[a > θ]. */
export function thresholdEncode(arch: string, x: tf.Tensor2D, p: Params): tf.Tensor2D {
  if (!p.threshold) {
    throw new Error(`featurelab: ${arch}: this dictionary has no 'threshold' parameter [1], which its encoder needs (was it loaded without it?)`);
  }
  return tf.tidy(() => {
    const a = tf.relu(preActivations(x, p));
    return tf.mul(a, tf.step(tf.sub(a, p.threshold), 0)) as tf.Tensor2D; // step(u) = 1[u > 0]
  });
}

/** A reconstruction loss, hand-differentiated and in plain ops, for a dictionary of a given width. */
export interface Reconstruction {
  step(f: tf.Tensor2D, x: tf.Tensor2D, p: Params, WdecT: tf.Tensor2D): DecoderLoss;
  reference(f: tf.Tensor2D, x: tf.Tensor2D, p: Params): { loss: tf.Scalar; xHat: tf.Tensor2D };
}

export const mseReconstruction: Reconstruction = { step: mseLoss, reference: mseReference };

/**
 * A BatchTopK-trained architecture: options k (required, ≤ width), auxK (default ⌊d_in/2⌋),
 * auxKCoefficient (default 1/32); `reconstruction(width)` gives its loss (and checks its own options),
 * and `prefixes(width)` the nested prefix ends that loss averages over (the native step's view of it).
 */
export function batchTopKArchitecture(
  name: string,
  saeLensName: string,
  options: Record<string, unknown>,
  reconstruction: (width: number) => Reconstruction,
  prefixes: (width: number) => number[] = (width) => [width],
): Architecture {
  const o = kOptions(name, options);
  const select = (_pre: tf.Tensor2D, a: tf.Tensor2D, p: Params) => {
    const { mask, minKept } = batchTopK(a, o.k);
    return { mask, updates: { threshold: updatedThreshold(p.threshold, minKept) } };
  };
  const setup = (x: tf.Tensor2D, p: Params) => {
    const width = p.W_dec.shape[0];
    checkK(name, o.k, width);
    if (!p.threshold) throw new Error(`featurelab: ${name}: training needs the 'threshold' parameter [1] from init()`);
    return { select, rec: reconstruction(width), aux: { kAux: auxKFor(o, x.shape[1]), coefficient: o.auxKCoefficient } };
  };
  return {
    name,
    saeLensName,
    options: recordedOptions(options, o),
    init(dIn, width, rng) {
      checkK(name, o.k, width);
      reconstruction(width);
      return { ...unitNormInit(dIn, width, rng), threshold: { shape: [1], values: new Float32Array(1) } };
    },
    encode: (x, p) => thresholdEncode(name, x, p),
    decode: linearDecode,
    step(x, p, opts) {
      const { select, rec, aux } = setup(x, p);
      return maskedStep(x, p, opts, { select, reconstruction: rec.step, aux });
    },
    referenceLoss(x, p, opts) {
      const { select, rec, aux } = setup(x, p);
      return maskedReferenceLoss(x, p, opts, { select, aux }, (f) => rec.reference(f, x, p));
    },
    fused: { kind: "batchtopk", k: o.k, kAux: (dIn: number) => auxKFor(o, dIn), auxKCoefficient: o.auxKCoefficient, prefixes },
    afterStep: (p) => normaliseRows(p.W_dec),
    toSaeLens: (p) => ({ ...p, threshold: tf.mul(tf.onesLike(p.b_enc), p.threshold) }),
    fromSaeLens: ({ threshold, ...rest }) => ({ ...rest, ...(threshold ? { threshold: tf.reshape(tf.mean(threshold), [1]) } : {}) }),
  };
}

export const batchtopk = defineArchitecture("batchtopk", "jumprelu", ["k", "auxK", "auxKCoefficient"], (options) =>
  batchTopKArchitecture("batchtopk", "jumprelu", options, () => mseReconstruction),
);
