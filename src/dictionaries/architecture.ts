// What every dictionary architecture provides. Names follow SAELens: W_enc [d_in, d_sae],
// W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in].
import { rejectUnknownOptions } from "../io/options.js";
import type { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import type { JumpReluOptions } from "./jumprelu.js";

export type Params = Record<string, tf.Tensor>;

/** A named weight as plain numbers, for initialisation and saving. */
export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

/** Per-step inputs to an architecture's loss (each architecture reads what it needs). */
export interface LossOptions {
  /** Sparsity coefficient (λ, SAELens' l1_coefficient), already warmed up for this step. */
  l1: number;
  /** 1 for features that have not fired over the dead-feature window, else 0 [d_sae] (AuxK). */
  dead?: tf.Tensor1D;
  /** Target of the reconstruction [B, d_out]: the inputs themselves unless the dictionary is a transcoder. */
  target?: tf.Tensor2D;
}

export interface StepResult {
  /** Scalar loss (a tensor, so reading it does not force a sync each step). */
  loss: tf.Scalar;
  /** Named loss terms, scalars. */
  terms: Record<string, tf.Scalar>;
  /** Gradient of the loss with respect to each trainable parameter. */
  grads: Params;
  /** Feature activations of the batch [B, d_sae] (for L0 and dead-feature tracking). */
  features: tf.Tensor2D;
  /** Reconstruction [B, d_in]. */
  reconstruction: tf.Tensor2D;
  /** New values of non-trained parameters (e.g. BatchTopK's threshold), assigned after the step. */
  updates?: Params;
}

/** A fused training step in the native engine (native/sae_steps.cc): the same loss and gradient as `step`. */
export type FusedStep =
  | { kind: "relu"; unitNorm: boolean }
  | { kind: "topk"; k: number; kAux: (dIn: number) => number; auxKCoefficient: number }
  /** BatchTopK; Matryoshka when `prefixes(width)` has more than one prefix end. */
  | { kind: "batchtopk"; k: number; kAux: (dIn: number) => number; auxKCoefficient: number; prefixes: (width: number) => number[] }
  /**
   * JumpReLU: an SAE (centreInput) or a transcoder reading x as it is; `masks` are the 0/1 weights a
   * CLT keeps (W_enc [d_in, width], W_dec [width, d_out]), applied to the gradients and after each step.
   */
  | { kind: "jumprelu"; options: JumpReluOptions; centreInput: boolean; masks?: (dIn: number, width: number, dOut: number) => { enc: Float32Array; dec: Float32Array } }
  /** The ReLU transcoder (with W_skip for the skip transcoder). */
  | { kind: "transcoder"; skip: boolean }
  | { kind: "gated" };

export interface Architecture {
  /** Registry name, e.g. "relu". */
  name: string;
  /** The SAELens cfg.json architecture name. */
  saeLensName: string;
  /** The options this instance was made with, defaults filled in (recorded in cfg.json). */
  options: Record<string, unknown>;
  /** Initial parameters for a dictionary with d_in inputs and `width` features. */
  init(dIn: number, width: number, rng: Rng): Record<string, HostTensor>;
  /** Feature activations f [B, d_sae] for inputs x [B, d_in]. */
  encode(x: tf.Tensor2D, p: Params): tf.Tensor2D;
  /** Reconstruction x̂ [B, d_in] from features f. */
  decode(f: tf.Tensor2D, p: Params): tf.Tensor2D;
  /** Reconstruction from inputs and their features, where it needs the inputs too (skip transcoder). */
  reconstruct?(x: tf.Tensor2D, f: tf.Tensor2D, p: Params): tf.Tensor2D;
  /** Loss and its gradient for one batch. Hand-written where autodiff is slow; tested against autodiff. */
  step(x: tf.Tensor2D, p: Params, opts: LossOptions): StepResult;
  /** The same loss written with plain tfjs ops, for checking `step` against autodiff. */
  referenceLoss(x: tf.Tensor2D, p: Params, opts: LossOptions): tf.Scalar;
  /** The native engine's fused version of `step`, where there is one. */
  fused?: FusedStep;
  /** Applied after each optimiser step (e.g. decoder renormalisation); optional. */
  afterStep?(p: Record<string, tf.Variable>): void;
  /** The tensors as SAELens stores them, where names or parametrisation differ (default: as they are). */
  toSaeLens?(p: Params): Params;
  /** The inverse of toSaeLens, for loading. */
  fromSaeLens?(t: Params): Params;
  /** SAELens' cfg.json metadata.training_architecture_details, from the dictionary's recorded config. */
  saeLensDetails?(recorded: Record<string, unknown>): Record<string, unknown>;
}

/** Makes an architecture from a spec's options (k, variant, bandwidth…), filling in defaults. */
export interface ArchitectureFactory {
  (options: Record<string, unknown>): Architecture;
  /** Registry name. */
  archName: string;
  /** The SAELens cfg.json architecture name. */
  saeLensName: string;
  /** Every option this architecture reads; any other is refused (a typo must not pass silently). */
  optionNames: readonly string[];
}

export function defineArchitecture(
  archName: string,
  saeLensName: string,
  optionNames: readonly string[],
  create: (options: Record<string, unknown>) => Architecture,
): ArchitectureFactory {
  const checked = (options: Record<string, unknown>) => {
    rejectUnknownOptions(archName, options, optionNames, optionNames.length > 0 ? undefined : "it takes no options besides width and l1");
    return create(options);
  };
  return Object.assign(checked, { archName, saeLensName, optionNames });
}
