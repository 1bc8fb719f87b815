// Shared by the TopK family (topk, batchtopk, matryoshka): options, unit-norm init, the selection
// masks, the AuxK dead-feature loss, the decoder-norm constraint, and the hand-written step around
// a per-architecture reconstruction loss. Notation as REFERENCE.md: pre = (x − b_dec)·W_enc + b_enc,
// a = ReLU(pre), f = a ⊙ M with M the 0/1 selection mask, x̂ = f·W_dec + b_dec.
import { tf } from "../engine/backend.js";
import { constant, initTiedWeights, linearDecode, normaliseRows, preActivations, removeParallel } from "./sae-parts.js";
export { constant, linearDecode, normaliseRows, preActivations, removeParallel };
import type { Rng } from "../engine/random.js";
import type { HostTensor, LossOptions, Params, StepResult } from "./architecture.js";

export interface KOptions {
  /** Active features per row (per row on average for batchtopk). */
  k: number;
  /** k_aux, dead features used by AuxK; undefined means d_in/2 rounded down. */
  auxK: number | undefined;
  /** α of the AuxK term. */
  auxKCoefficient: number;
}

const isPositiveInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

/** Reads and checks k, auxK and auxKCoefficient (the width is not known yet: see checkK). */
export function kOptions(arch: string, options: Record<string, unknown>): KOptions {
  const { k, auxK, auxKCoefficient = 1 / 32 } = options;
  if (k === undefined) throw new Error(`featurelab: ${arch}: option k (active features per row) is required, e.g. dictionary("${arch}", { width: 1024, k: 32 })`);
  if (!isPositiveInt(k)) throw new Error(`featurelab: ${arch}: option k must be a positive integer, got ${JSON.stringify(k)}`);
  if (auxK !== undefined && !isPositiveInt(auxK)) throw new Error(`featurelab: ${arch}: option auxK must be a positive integer (default d_in/2), got ${JSON.stringify(auxK)}`);
  if (typeof auxKCoefficient !== "number" || !Number.isFinite(auxKCoefficient) || auxKCoefficient < 0) {
    throw new Error(`featurelab: ${arch}: option auxKCoefficient must be a finite number ≥ 0 (default 1/32), got ${JSON.stringify(auxKCoefficient)}`);
  }
  return { k, auxK, auxKCoefficient };
}

/** The options as recorded in cfg.json: defaults that do not depend on d_in filled in. */
export function recordedOptions(options: Record<string, unknown>, o: KOptions): Record<string, unknown> {
  return { ...options, k: o.k, auxKCoefficient: o.auxKCoefficient, ...(o.auxK === undefined ? {} : { auxK: o.auxK }) };
}

export function checkK(arch: string, k: number, width: number): void {
  if (k > width) throw new Error(`featurelab: ${arch}: option k = ${k} must be at most the width (${width} features)`);
}

/** k_aux: the option, else ⌊d_in/2⌋ as OpenAI and SAELens (at least 1). */
export function auxKFor(o: KOptions, dIn: number): number {
  return o.auxK ?? Math.max(1, Math.floor(dIn / 2));
}

/** Unit-norm decoder rows, W_enc = W_decᵀ, zero biases. */
export function unitNormInit(dIn: number, width: number, rng: Rng): Record<string, HostTensor> {
  return initTiedWeights(dIn, width, rng, 1);
}

/** A 0/1 [rows, cols] mask with ones at flat positions `flat` (a scatter: wasm compares slowly). */
function onesAt(flat: tf.Tensor, rows: number, cols: number): tf.Tensor2D {
  const n = flat.size;
  return tf.reshape(tf.scatterND(tf.reshape(flat, [n, 1]), tf.ones([n]), [rows * cols]), [rows, cols]);
}

/** 1 at each row's k largest entries: exactly k per row, ties ordered as tf.topk orders them. */
export function rowTopKMask(v: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, W] = v.shape;
    const rowStart = tf.mul(tf.reshape(tf.range(0, B, 1, "int32"), [B, 1]), tf.scalar(W, "int32"));
    return onesAt(tf.add(tf.topk(v, k).indices, rowStart), B, W);
  });
}

/**
 * BatchTopK: 1 at the B·k largest ReLU'd activations of the whole batch (exactly B·k, ties as
 * tf.topk orders them); minKept is the smallest kept positive activation (Infinity if none).
 */
export function batchTopK(a: tf.Tensor2D, k: number): { mask: tf.Tensor2D; minKept: tf.Scalar } {
  return tf.tidy(() => {
    const [B, W] = a.shape;
    const { values, indices } = tf.topk(tf.reshape(a, [-1]), B * k);
    const minKept = tf.min(tf.where(tf.greater(values, 0), values, tf.fill(values.shape, Infinity))) as tf.Scalar;
    return { mask: onesAt(indices, B, W), minKept };
  });
}

/**
 * Among dead features only, 1 at each row's k_aux largest pre-activations (all dead ones if fewer).
 * Full width, for the reference loss; the step works on the gathered dead columns instead.
 */
function auxMask(pre: tf.Tensor2D, dead: tf.Tensor1D, kAux: number): tf.Tensor2D {
  return tf.tidy(() => {
    // Push live features far below any dead one, then select per row and drop the live ones again.
    const shifted = tf.add(pre, tf.mul(tf.sub(dead, 1), 1e30)) as tf.Tensor2D;
    return tf.mul(rowTopKMask(shifted, Math.min(kAux, pre.shape[1])), dead) as tf.Tensor2D;
  });
}

interface AuxSetup {
  kAux: number;
  coefficient: number;
}

/** Indices of the dead features, or undefined when AuxK does not apply this step. */
function deadIndices(dead: tf.Tensor1D | undefined, aux: AuxSetup): number[] | undefined {
  if (!dead || aux.coefficient === 0) return undefined;
  const flags = dead.dataSync();
  const idx: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i] > 0) idx.push(i);
  return idx.length > 0 ? idx : undefined;
}

/** α·min(n_dead/k_aux, 1)/Var(e), Var(e) = mean_B Σ_d (e − ē)². */
function auxScale(e: tf.Tensor2D, nDead: number, aux: AuxSetup): tf.Scalar {
  const variance = tf.div(tf.sum(tf.square(tf.sub(e, tf.mean(e, 0)))), e.shape[0]);
  // A batch with no spread in e (e.g. B = 1) gives no AuxK signal rather than a division by zero.
  const ok = tf.cast(tf.greater(variance, 1e-12), "float32");
  return tf.mul(ok, tf.div(aux.coefficient * Math.min(nDead / aux.kAux, 1), tf.maximum(variance, 1e-12))) as tf.Scalar;
}

/**
 * AuxK by hand on the dead columns only (usually a small share of the width), its gradients
 * scattered back to full-size W_enc, b_enc and W_dec. e = x − x̂ is a constant here.
 */
function auxKStep(pre: tf.Tensor2D, saeIn: tf.Tensor2D, e: tf.Tensor2D, W_dec: tf.Tensor2D, deadIdx: number[], aux: AuxSetup) {
  const [B, d] = e.shape;
  const W = pre.shape[1];
  const c = auxScale(e, deadIdx.length, aux);
  const idx = tf.tensor1d(deadIdx, "int32");
  const preD = tf.gather(pre, idx, 1) as tf.Tensor2D;
  const fAux = tf.mul(tf.relu(preD), rowTopKMask(preD, Math.min(aux.kAux, deadIdx.length))) as tf.Tensor2D;
  const WdecD = tf.gather(W_dec, idx, 0) as tf.Tensor2D;
  const diff = tf.sub(tf.matMul(fAux, WdecD), e);
  const auxk = tf.mul(c, tf.div(tf.sum(tf.square(diff)), B)) as tf.Scalar;
  const gEhat = tf.mul(diff, tf.mul(c, 2 / B)) as tf.Tensor2D;
  // Only selected features with a positive pre-activation (fAux > 0) pass gradient back.
  const gPreD = tf.mul(tf.matMul(gEhat, tf.transpose(WdecD)), tf.step(fAux, 0)) as tf.Tensor2D;
  const rows = tf.reshape(idx, [-1, 1]);
  return {
    auxk,
    gWdec: tf.scatterND(rows, tf.matMul(tf.transpose(fAux), gEhat), [W, d]) as tf.Tensor2D,
    gWenc: tf.transpose(tf.scatterND(rows, tf.matMul(tf.transpose(gPreD), saeIn), [W, d])) as tf.Tensor2D,
    gBenc: tf.scatterND(rows, tf.sum(gPreD, 0), [W]) as tf.Tensor1D,
  };
}

/** The AuxK term with plain tfjs ops; e = x − x̂ must already be a constant. */
export function referenceAuxK(pre: tf.Tensor2D, e: tf.Tensor2D, W_dec: tf.Tensor2D, dead: tf.Tensor1D | undefined, aux: AuxSetup): tf.Scalar {
  const deadIdx = deadIndices(dead, aux);
  if (!deadIdx || !dead) return tf.scalar(0);
  const c = auxScale(e, deadIdx.length, aux);
  const fAux = tf.mul(tf.relu(pre), constant(auxMask(constant(pre), dead, aux.kAux)));
  const eHat = tf.matMul(fAux, W_dec);
  return tf.mul(constant(c), tf.div(tf.sum(tf.square(tf.sub(eHat, e))), e.shape[0])) as tf.Scalar;
}

/** A reconstruction loss and its gradient with respect to f, W_dec and b_dec (the output bias). */
export interface DecoderLoss {
  loss: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  xHat: tf.Tensor2D;
  gF: tf.Tensor2D;
  gWdec: tf.Tensor2D;
  gBdec: tf.Tensor1D;
}

/** mean_B Σ_d (x̂ − x)², as relu.ts. W_decᵀ is passed in so every matMul stays untransposed. */
export function mseLoss(f: tf.Tensor2D, x: tf.Tensor2D, p: Params, WdecT: tf.Tensor2D): DecoderLoss {
  const B = x.shape[0];
  const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec) as tf.Tensor2D;
  const err = tf.sub(xHat, x);
  const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
  const g = tf.mul(err, 2 / B) as tf.Tensor2D;
  return { loss: mse, terms: { mse }, xHat, gF: tf.matMul(g, WdecT), gWdec: tf.matMul(tf.transpose(f), g), gBdec: tf.sum(g, 0) };
}

/** The same with plain ops, for the autodiff reference. */
export function mseReference(f: tf.Tensor2D, x: tf.Tensor2D, p: Params): { loss: tf.Scalar; xHat: tf.Tensor2D } {
  const xHat = linearDecode(f, p);
  return { loss: tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1)) as tf.Scalar, xHat };
}

export interface MaskedStepSetup {
  /** The selection mask M from the pre-activations and a = ReLU(pre), plus any non-trained updates. */
  select(pre: tf.Tensor2D, a: tf.Tensor2D, p: Params): { mask: tf.Tensor2D; updates?: Params };
  reconstruction(f: tf.Tensor2D, x: tf.Tensor2D, p: Params, WdecT: tf.Tensor2D): DecoderLoss;
  aux: AuxSetup;
}

/**
 * Forward and backward by hand with untransposed matMuls (see relu.ts). The gradient flows only
 * through kept entries with a positive pre-activation; W_dec's gradient is projected (removeParallel).
 */
export function maskedStep(x: tf.Tensor2D, p: Params, opts: LossOptions, s: MaskedStepSetup): StepResult {
  return tf.tidy(() => {
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const WdecT = tf.transpose(W_dec);
    const saeIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
    const pre = tf.add(tf.matMul(saeIn, W_enc), p.b_enc) as tf.Tensor2D;
    const a = tf.relu(pre) as tf.Tensor2D;
    const { mask, updates } = s.select(pre, a, p);
    const f = tf.mul(a, mask) as tf.Tensor2D;
    const rec = s.reconstruction(f, x, p, WdecT);
    // f > 0 exactly where an entry is kept and its pre-activation positive: the gradient's path.
    const gPre = tf.mul(rec.gF, tf.step(f, 0)) as tf.Tensor2D;
    let gWenc = tf.matMul(tf.transpose(saeIn), gPre) as tf.Tensor2D;
    let gBenc = tf.sum(gPre, 0) as tf.Tensor1D;
    let gWdec = rec.gWdec;
    let loss = rec.loss;
    const terms: Record<string, tf.Scalar> = { ...rec.terms };

    const deadIdx = deadIndices(opts.dead, s.aux);
    if (deadIdx) {
      const e = tf.sub(x, rec.xHat) as tf.Tensor2D; // AuxK's target sg(x − x̂): not differentiated
      const aux = auxKStep(pre, saeIn, e, W_dec, deadIdx, s.aux);
      gWenc = tf.add(gWenc, aux.gWenc);
      gBenc = tf.add(gBenc, aux.gBenc);
      gWdec = tf.add(gWdec, aux.gWdec);
      loss = tf.add(loss, aux.auxk);
      terms.auxk = aux.auxk;
    }

    // b_dec enters twice: added to x̂, subtracted from the encoder input.
    const gBdec = tf.sub(rec.gBdec, tf.reshape(tf.matMul(W_enc, tf.reshape(gBenc, [-1, 1])), [-1]));
    const grads = { W_enc: gWenc, W_dec: removeParallel(gWdec, W_dec), b_enc: gBenc, b_dec: gBdec };
    return { loss, terms, grads, features: f, reconstruction: rec.xHat, ...(updates ? { updates } : {}) };
  });
}

/**
 * The same loss with plain ops for tf.valueAndGrads: the mask is computed from constant copies of
 * the forward values, so autodiff sees it as a constant. Its W_dec gradient is not projected.
 */
export function maskedReferenceLoss(
  x: tf.Tensor2D,
  p: Params,
  opts: LossOptions,
  s: Pick<MaskedStepSetup, "select" | "aux">,
  reconstruction: (f: tf.Tensor2D) => { loss: tf.Scalar; xHat: tf.Tensor2D },
): tf.Scalar {
  return tf.tidy(() => {
    const pre = preActivations(x, p);
    const a = tf.relu(pre) as tf.Tensor2D;
    const mask = constant(s.select(constant(pre), constant(a), p).mask);
    const { loss, xHat } = reconstruction(tf.mul(a, mask) as tf.Tensor2D);
    const e = constant(tf.sub(x, xHat) as tf.Tensor2D);
    return tf.add(loss, referenceAuxK(pre, e, p.W_dec as tf.Tensor2D, opts.dead, s.aux)) as tf.Scalar;
  });
}
