// The feature-suppression fix of Wright & Sharkey 2024 (REFERENCE.md, Dictionaries): the L1 penalty
// shrinks feature activations, so freeze the encoder (which features fire, and L0, stay as they are),
// give each feature a scale s_i (init 1), x̂ = (s ⊙ f)·W_dec + b_dec, and fine-tune on the
// reconstruction MSE alone (no sparsity penalty), training
//   "scale"          s only,
//   "scale-bias"     s and b_dec,
//   "scale-decoder"  s, W_dec and b_dec  (the paper's three variants).
// Gradients by hand (checked against tfjs autodiff in the tests), with g = ∂L/∂x̂ = 2(x̂ − x)/B:
//   ∂L/∂s = Σ_b f_b ⊙ (g_b·W_decᵀ),  ∂L/∂W_dec = (s ⊙ f)ᵀ·g,  ∂L/∂b_dec = Σ_b g_b.
// The result is an ordinary Dictionary: s is folded into W_dec (row i times s_i), and because SAELens'
// encoder reads x − b_dec, a moved b_dec is compensated in the encoder bias (b_enc += Δb_dec·W_enc;
// for gated dictionaries b_gate and b_mag likewise), so the encoder computes exactly what it did.
import { rejectUnknownOptions, optionNames } from "../io/options.js";
import { tf, ready } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { ActivationSet } from "../data/activation-set.js";
import { endlessBatches } from "../data/endless-batches.js";
import { Dictionary } from "../dictionaries/dictionary.js";
import type { Params } from "../dictionaries/architecture.js";
import { Adam } from "./adam.js";

/** Which decoder-side parameters `finetuneDecoder` trains besides the per-feature scale: none, b_dec, or b_dec and W_dec. */
export type FinetuneVariant = "scale" | "scale-bias" | "scale-decoder";
/** The finetune variants, in order of how much they train. */
export const FINETUNE_VARIANTS: readonly FinetuneVariant[] = ["scale", "scale-bias", "scale-decoder"];

/** Options of `finetuneDecoder`. */
export interface FinetuneOptions {
  /** Which decoder-side parameters train besides the per-feature scale (default "scale-decoder"). */
  variant?: FinetuneVariant;
  /** Adam steps (default 1000). */
  steps?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Rows per batch (default 1024, at most the number of rows). */
  batchSize?: number;
  seed?: number;
}

const FINETUNE_OPTIONS = optionNames<FinetuneOptions>({ variant: true, steps: true, lr: true, batchSize: true, seed: true });

/** The parameters a variant trains. */
export function trainedParameters(variant: FinetuneVariant): string[] {
  return variant === "scale" ? ["scale"] : variant === "scale-bias" ? ["scale", "b_dec"] : ["scale", "W_dec", "b_dec"];
}

/** MSE (mean over rows of Σ_d (x̂ − x)², as the training loss) and its gradient, for frozen features f. */
export function finetuneStep(
  f: tf.Tensor2D,
  x: tf.Tensor2D,
  p: { scale: tf.Tensor1D; W_dec: tf.Tensor2D; b_dec: tf.Tensor1D },
  trained: readonly string[],
): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  return tf.tidy(() => {
    const B = x.shape[0];
    const sf = tf.mul(f, p.scale) as tf.Tensor2D;
    const xHat = tf.add(tf.matMul(sf, p.W_dec), p.b_dec);
    const err = tf.sub(xHat, x);
    const loss = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const g = tf.mul(err, 2 / B) as tf.Tensor2D;
    const grads: Record<string, tf.Tensor> = {};
    if (trained.includes("scale")) grads.scale = tf.sum(tf.mul(f, tf.matMul(g, tf.transpose(p.W_dec))), 0);
    if (trained.includes("W_dec")) grads.W_dec = tf.matMul(tf.transpose(sf), g);
    if (trained.includes("b_dec")) grads.b_dec = tf.sum(g, 0);
    return { loss, grads };
  });
}

/** The same loss with plain tfjs ops, for checking finetuneStep against autodiff. */
export function finetuneReferenceLoss(f: tf.Tensor2D, x: tf.Tensor2D, scale: tf.Tensor1D, W_dec: tf.Tensor2D, b_dec: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(tf.add(tf.matMul(tf.mul(f, scale), W_dec), b_dec), x)), 1)) as tf.Scalar);
}

/**
 * A new dictionary with the same encoder and a decoder re-fitted on reconstruction MSE alone
 * (Wright & Sharkey's fix for feature suppression). Its cfg records `finetune: { variant, steps, … }`
 * and its note says the scale was folded into W_dec; it saves and loads as any other.
 * @example
 * const tuned = await fl.finetuneDecoder(sae, acts, { variant: "scale-decoder", steps: 1000 });
 * fl.show(tuned.metrics(acts));
 */
export async function finetuneDecoder(dict: Dictionary, acts: ActivationSet, opts: FinetuneOptions = {}): Promise<Dictionary> {
  rejectUnknownOptions("finetuneDecoder", opts, FINETUNE_OPTIONS);
  await ready();
  const variant = opts.variant ?? "scale-decoder";
  if (!FINETUNE_VARIANTS.includes(variant)) throw new Error(`featurelab: finetuneDecoder: unknown variant '${variant}'; the variants are ${FINETUNE_VARIANTS.join(", ")}`);
  if (!(acts instanceof ActivationSet)) throw new Error("featurelab: finetuneDecoder reads an in-memory ActivationSet");
  if (dict.arch.reconstruct || dict.params.W_dec.shape[1] !== dict.dIn) throw new Error(`featurelab: finetuneDecoder: a ${dict.cfg.architecture} dictionary does not reconstruct its own input; only autoencoders are fine-tuned`);
  if (acts.dim !== dict.dIn) throw new Error(`featurelab: finetuneDecoder: this dictionary reads vectors of dim ${dict.dIn}, but the set has dim ${acts.dim}`);
  if (acts.numRows < 1) throw new Error("featurelab: finetuneDecoder: the activation set has no rows");
  const steps = opts.steps ?? 1000;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`featurelab: finetuneDecoder: steps must be a positive integer, got ${steps}`);
  const lr = opts.lr ?? 1e-3;
  const batchSize = Math.min(opts.batchSize ?? 1024, acts.numRows);
  const trained = trainedParameters(variant);
  const { W_dec, b_dec } = dict.weights;

  const vars: Record<string, tf.Variable> = {
    scale: tf.variable(tf.ones([dict.width]), true, undefined, "float32"),
    W_dec: tf.variable(W_dec, true),
    b_dec: tf.variable(b_dec, true),
  };
  const adam = new Adam();
  const batches = endlessBatches(acts, batchSize, new Rng(opts.seed ?? 0));
  let checkedLinear = false;
  try {
    for (let s = 0; s < steps; s++) {
      const { value } = await batches.next();
      const batch = value as Float32Array;
      const { loss, grads } = tf.tidy(() => {
        const x = tf.tensor2d(batch, [batchSize, dict.dIn]);
        const f = dict.encodeTensor(x);
        if (!checkedLinear) {
          // The fix assumes x̂ = f·W_dec + b_dec; refuse a decoder that computes something else.
          const gap = tf.max(tf.abs(tf.sub(dict.decodeTensor(f), tf.add(tf.matMul(f, W_dec), b_dec)))).dataSync()[0];
          const size = tf.max(tf.abs(x)).dataSync()[0];
          if (!(gap <= 1e-3 * Math.max(1, size))) throw new Error(`featurelab: finetuneDecoder: a ${dict.cfg.architecture} dictionary's decoder is not f·W_dec + b_dec`);
          checkedLinear = true;
        }
        return finetuneStep(f, x, { scale: vars.scale as tf.Tensor1D, W_dec: vars.W_dec as tf.Tensor2D, b_dec: vars.b_dec as tf.Tensor1D }, trained);
      });
      adam.apply(vars, grads, lr);
      tf.dispose([loss, ...Object.values(grads)]);
    }
    const params: Params = tf.tidy(() => {
      // Copies, so disposing either dictionary leaves the other intact.
      const next: Params = Object.fromEntries(Object.entries(dict.params).map(([k, t]) => [k, tf.clone(t)]));
      next.W_dec = tf.mul(vars.W_dec, tf.reshape(vars.scale, [-1, 1]));
      next.b_dec = tf.clone(vars.b_dec);
      // The encoder reads x − b_dec: keep its pre-activations where they were.
      const shift = tf.matMul(tf.reshape(tf.sub(vars.b_dec, b_dec), [1, -1]), dict.params.W_enc as tf.Tensor2D).reshape([-1]);
      if (dict.params.b_enc) next.b_enc = tf.add(dict.params.b_enc, shift);
      if (dict.params.b_gate) next.b_gate = tf.add(dict.params.b_gate, shift);
      if (dict.params.b_mag) next.b_mag = tf.add(dict.params.b_mag, dict.params.r_mag ? tf.mul(shift, tf.exp(dict.params.r_mag)) : shift);
      return next;
    });
    const cfg = { ...dict.cfg, finetune: { variant, trained, steps, lr, batch_size: batchSize, seed: opts.seed ?? 0, scale_folded_into_W_dec: true } };
    const note = `decoder fine-tuned on MSE (${variant}: ${trained.join(", ")}; ${steps} steps), encoder frozen; the per-feature scale is folded into W_dec`;
    return new Dictionary(dict.arch, cfg, params, [], note);
  } finally {
    tf.dispose(Object.values(vars));
    adam.dispose();
  }
}
