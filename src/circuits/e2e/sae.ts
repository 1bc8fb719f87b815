// fl.trainE2E(model, tokens, opts): a sparse dictionary at a residual stream of a frozen transformer,
// trained locally (reconstruct the activation) or end to end (keep the model's output distribution),
// as Braun et al. 2024 and Apollo's e2e_sae (losses in loss.ts). Each step runs the clean model
// on a batch of sequences, splices the SAE's output in at the hook, resumes the forward pass from there
// and differentiates (tfjs autodiff) with respect to the SAE's parameters only.
// Recipe as e2e_sae's run_train_tlens_saes.py: Adam, lr warm-up then cosine decay to min_lr_factor·lr,
// gradient norm clipped (max_grad_norm 10); SAE initialised as torch's nn.Linear (encoder) with an
// orthogonal decoder. The result is a standard ("relu", unit-norm decoder) featurelab Dictionary: the
// forward pass's row normalisation is folded into W_dec, and because SAELens' encoder reads x − b_dec,
// b_enc absorbs b_dec·W_enc — the saved weights compute exactly what was trained.
import { rejectUnknownOptions, optionNames } from "../../io/options.js";
import { tf, ready } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { Dictionary, type DictionaryConfig, type TrainingRecord } from "../../dictionaries/dictionary.js";
import { architecture } from "../../dictionaries/registry.js";
import { unitNormRows } from "../../dictionaries/sae-parts.js";
import { clipByGlobalNorm, Adam } from "../../training/adam.js";
import { learningRate } from "../../training/schedule.js";
import { defaultProgress, type ProgressSink } from "../../training/progress.js";
import { Transformer } from "../../models/transformer.js";
import { withoutDecoder, type LanguageModel } from "../../models/language-model.js";
import { cleanBatch, e2eLoss, type CleanBatch, e2eSite, E2E_LOSSES, type E2ELossKind, type E2EParams } from "./loss.js";

/** Options of `trainE2E`. */
export interface E2EOptions {
  /** The residual stream the dictionary replaces: blocks.{l}.hook_resid_pre or blocks.{l}.hook_resid_post. */
  hook: string;
  /** "local" (MSE to the activation), "e2e" (KL of the output), "e2e+ds" (KL + downstream MSE). Default "e2e". */
  loss?: E2ELossKind;
  /** Number of features (d_sae). */
  width: number;
  /** Sparsity coefficient λ; the penalty is φ·mean‖c‖₁ with φ = λ/d_in, as e2e_sae (default 1). */
  l1?: number;
  /** e2e+ds: total coefficient β of the downstream MSE, split evenly over the later residual streams (default 1). */
  beta?: number;
  /** Coefficient of the KL term (default 1; e2e_sae's e2e+ds configs use 0.5). */
  klCoefficient?: number;
  /** Coefficient of the local MSE (default 1). */
  mseCoefficient?: number;
  /**
   * "e2e_sae" (default): e2e_sae's initialisation. "tied": the same decoder, the encoder its transpose
   * and b_enc = 0 (SAELens-style), so â starts near a; end-to-end runs then skip the long opening plateau
   * where the spliced output is far from the model's (useful for short runs).
   */
  init?: "e2e_sae" | "tied";
  /** Optimiser steps (default 1000). */
  steps?: number;
  /** Sequences per step (default 16, e2e_sae's effective batch size; it accumulates two batches of 8). */
  batchSize?: number;
  /** Adam learning rate (default 5e-4, as e2e_sae's GPT-2 configs). */
  lr?: number;
  /** Linear lr warm-up in steps (default steps/20: e2e_sae's 20k of 400k samples). */
  lrWarmupSteps?: number;
  /** "cosine" (default) decays to minLrFactor·lr at the end; "none" keeps lr. */
  lrDecay?: "cosine" | "none";
  /** Floor of the cosine decay as a fraction of lr (default 0.1). */
  minLrFactor?: number;
  /** Clip the global gradient norm (default 10, as e2e_sae); 0 turns clipping off. */
  clipGradNorm?: number;
  /**
   * Positions that keep their clean activation and count in no loss term (default none: e2e_sae splices
   * every position, BOS included). Evaluate with the same positions: fl.spliceEval leaves position 0 alone
   * by default, and a dictionary trained with BOS spliced in may rely on its own output there.
   */
  ignorePositions?: readonly number[];
  /** A feature that has not fired for this many tokens counts as dead (default a quarter of the run's tokens). */
  deadWindowTokens?: number;
  /** Log a training record every this many steps (default steps/50; a logged step also computes the terms its loss does not use). */
  logEvery?: number;
  seed?: number;
  /** true: the default display (notebook or terminal); false: none; or your own sink. */
  progress?: boolean | ProgressSink;
}

const OPTION_NAMES = optionNames<E2EOptions>({
  hook: true, loss: true, width: true, l1: true, beta: true, klCoefficient: true, mseCoefficient: true, init: true, ignorePositions: true,
  steps: true, batchSize: true, lr: true, lrWarmupSteps: true, lrDecay: true, minLrFactor: true, clipGradNorm: true, deadWindowTokens: true,
  logEvery: true, seed: true, progress: true,
});

/** One logged step: fit's record (mse, sparsity = mean‖c‖₁, L0, FVU, dead) plus the end-to-end terms. */
export interface E2ETrainingRecord extends TrainingRecord {
  /** KL(p_orig ‖ p_sae) per token, averaged (logged for every loss kind). */
  kl: number;
  /** Mean over the residual streams after the hook of MSE(spliced, original); NaN when there are none. */
  downstreamMse: number;
}

/**
 * Initial parameters as e2e_sae's SAE: nn.Linear's U(±1/√fan_in) for the encoder and both biases, the
 * decoder orthogonal (nn.init.orthogonal_: orthonormal columns of W_dec [d_sae, d_in] when d_sae ≥ d_in).
 */
export function e2eInit(dIn: number, width: number, rng: Rng, kind: "e2e_sae" | "tied" = "e2e_sae"): Record<keyof E2EParams, { shape: number[]; values: Float32Array }> {
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
  const W_enc = uniform(dIn * width, 1 / Math.sqrt(dIn));
  const b_enc = uniform(width, 1 / Math.sqrt(dIn));
  // Gram–Schmidt on the columns (or rows, when the matrix is wide) of a Gaussian matrix.
  const g = rng.normals(width * dIn);
  const tall = width >= dIn;
  const [count, len] = tall ? [dIn, width] : [width, dIn];
  const at = (v: number, i: number) => (tall ? i * dIn + v : v * dIn + i); // element i of vector v
  for (let v = 0; v < count; v++) {
    for (let u = 0; u < v; u++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += g[at(v, i)] * g[at(u, i)];
      for (let i = 0; i < len; i++) g[at(v, i)] -= dot * g[at(u, i)];
    }
    let n = 0;
    for (let i = 0; i < len; i++) n += g[at(v, i)] ** 2;
    const s = 1 / Math.sqrt(Math.max(n, 1e-30));
    for (let i = 0; i < len; i++) g[at(v, i)] *= s;
  }
  const b_dec = uniform(dIn, 1 / Math.sqrt(width));
  if (kind === "tied") {
    for (let i = 0; i < width; i++) for (let j = 0; j < dIn; j++) W_enc[j * width + i] = g[i * dIn + j];
    b_enc.fill(0);
  }
  return {
    W_enc: { shape: [dIn, width], values: W_enc },
    b_enc: { shape: [width], values: b_enc },
    W_dec: { shape: [width, dIn], values: g },
    b_dec: { shape: [dIn], values: b_dec },
  };
}

/** The trained parameters as a standard SAE: f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec. */
export function foldE2EParams(p: E2EParams): Record<string, tf.Tensor> {
  return tf.tidy(() => ({
    W_enc: tf.clone(p.W_enc),
    b_enc: tf.add(p.b_enc, tf.reshape(tf.matMul(tf.reshape(p.b_dec, [1, -1]), p.W_enc), [-1])),
    W_dec: unitNormRows(p.W_dec),
    b_dec: tf.clone(p.b_dec),
  }));
}

function checkOptions(opts: E2EOptions): void {
  if (!opts || typeof opts !== "object") throw new Error("featurelab: trainE2E needs options { hook, width, … }");
  if (!opts.hook) throw new Error("featurelab: trainE2E needs { hook } — the residual stream the dictionary replaces, e.g. \"blocks.0.hook_resid_post\"");
  if (!Number.isInteger(opts.width) || opts.width < 1) throw new Error(`featurelab: trainE2E: width must be a positive integer, got ${opts.width}`);
  if (opts.loss !== undefined && !E2E_LOSSES.includes(opts.loss)) throw new Error(`featurelab: trainE2E: loss must be one of ${E2E_LOSSES.map((l) => `"${l}"`).join(", ")}; got ${JSON.stringify(opts.loss)}`);
  for (const k of ["l1", "beta", "klCoefficient", "mseCoefficient", "lr", "clipGradNorm", "minLrFactor"] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === "number" && v >= 0 && Number.isFinite(v))) throw new Error(`featurelab: trainE2E: ${k} must be a finite number ≥ 0, got ${v}`);
  }
  for (const k of ["steps", "batchSize", "logEvery"] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`featurelab: trainE2E: ${k} must be a positive integer, got ${v}`);
  }
  if (opts.init !== undefined && opts.init !== "e2e_sae" && opts.init !== "tied") throw new Error(`featurelab: trainE2E: init must be "e2e_sae" or "tied", got ${JSON.stringify(opts.init)}`);
  if (opts.ignorePositions !== undefined && !(Array.isArray(opts.ignorePositions) && opts.ignorePositions.every((t) => Number.isInteger(t) && t >= 0))) {
    throw new Error(`featurelab: trainE2E: ignorePositions must be an array of position indices, got ${JSON.stringify(opts.ignorePositions)}`);
  }
  if (opts.lrDecay !== undefined && opts.lrDecay !== "cosine" && opts.lrDecay !== "none") throw new Error(`featurelab: trainE2E: lrDecay must be "cosine" or "none", got ${JSON.stringify(opts.lrDecay)}`);
}

/**
 * Padded token ids [B, T] and a mask [B·T]: 1 where the dictionary is spliced in and the loss counts,
 * 0 at padding and at ignored positions (which keep their clean activation).
 */
export function batchTensors(docs: readonly (readonly number[])[], ignore: readonly number[] = []): { tokens: tf.Tensor2D; mask: tf.Tensor1D; count: number } {
  const T = Math.max(...docs.map((d) => d.length));
  const ids = new Int32Array(docs.length * T), mask = new Float32Array(docs.length * T);
  let count = 0;
  docs.forEach((d, b) => {
    for (let t = 0; t < d.length; t++) {
      ids[b * T + t] = d[t];
      if (!ignore.includes(t)) (mask[b * T + t] = 1), count++;
    }
  });
  return { tokens: tf.tensor2d(ids, [docs.length, T], "int32"), mask: tf.tensor1d(mask), count };
}

/**
 * Train a sparse dictionary at `opts.hook` of a frozen transformer on `tokens` (token ids, or text for
 * a model with a tokenizer). Returns a Dictionary whose history holds E2ETrainingRecords.
 * @example
 * const sae = await fl.trainE2E(model, tokens, { hook: "blocks.1.hook_resid_pre", loss: "e2e", width: 128, l1: 1, steps: 500, seed: 0 });
 */
export async function trainE2E(lm: LanguageModel, tokens: unknown, opts: E2EOptions): Promise<Dictionary> {
  rejectUnknownOptions("trainE2E", opts, OPTION_NAMES);
  await ready();
  const model = withoutDecoder(lm, "trainE2E");
  if (!(model instanceof Transformer)) {
    throw new Error(`featurelab: trainE2E needs a featurelab Transformer (fl.loadModel or Transformer.init): the loss resumes its forward pass from the residual stream; got ${(model as { name?: string } | null)?.name ?? typeof model}`);
  }
  checkOptions(opts);
  if (tokens === undefined || tokens === null || (Array.isArray(tokens) && tokens.length === 0)) {
    throw new Error("featurelab: trainE2E needs token sequences to train on (token ids [documents][positions], or texts)");
  }
  const site = e2eSite(model, opts.hook);
  const kind = opts.loss ?? "e2e";
  if (kind === "e2e+ds" && site.downstream.length === 0) {
    throw new Error(`featurelab: trainE2E: loss "e2e+ds" compares the residual streams after the hook, and '${opts.hook}' is the model's last one; use "e2e" there`);
  }
  const { documents } = model.batches(tokens, { batchSize: Number.MAX_SAFE_INTEGER });
  const docs = documents;
  const steps = opts.steps ?? 1000;
  const batchSize = Math.min(opts.batchSize ?? 16, docs.length);
  const lr = opts.lr ?? 5e-4;
  const seed = opts.seed ?? 0;
  const warmup = opts.lrWarmupSteps ?? Math.floor(steps / 20);
  const logEvery = opts.logEvery ?? Math.max(1, Math.floor(steps / 50));
  const clip = opts.clipGradNorm ?? 10;
  const lossOpts = { kind, l1: opts.l1 ?? 1, beta: opts.beta ?? 1, klCoefficient: opts.klCoefficient ?? 1, mseCoefficient: opts.mseCoefficient ?? 1 };
  const dIn = model.cfg.d_model, width = opts.width;
  const ignore = opts.ignorePositions ?? [];
  const meanTokens = (docs.reduce((s, d) => s + d.length, 0) / docs.length) * batchSize;
  const deadWindow = opts.deadWindowTokens ?? Math.max(meanTokens, Math.floor((steps * meanTokens) / 4));

  const rng = new Rng(seed);
  const init = e2eInit(dIn, width, rng, opts.init ?? "e2e_sae");
  const vars = Object.fromEntries(Object.entries(init).map(([k, h]) => [k, tf.tidy(() => tf.variable(tf.tensor(h.values, h.shape), true))])) as Record<keyof E2EParams, tf.Variable>;
  const params = vars as unknown as E2EParams;
  const adam = new Adam();
  const lastFired = new Float64Array(width);
  const sink = opts.progress === false ? undefined : opts.progress === true || opts.progress === undefined ? defaultProgress() : opts.progress;
  const history: E2ETrainingRecord[] = [];
  const title = `${kind} SAE at ${opts.hook}, width ${width}`;
  let note: string | undefined;
  let stop = false;
  const onInterrupt = () => void (stop = true);
  process.once("SIGINT", onInterrupt);
  let order = rng.permutation(docs.length), cursor = 0, seen = 0, step = 0, lastDraw = 0;
  let good = { step: 0, weights: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)])) };
  const t0 = performance.now();
  const state = (done: boolean) => ({
    title, step, steps, done, note, history,
    tokensPerSecond: seen / Math.max(1e-9, (performance.now() - t0) / 1000),
    elapsedSeconds: (performance.now() - t0) / 1000,
    last: history[history.length - 1],
  });
  try {
    for (; step < steps; step++) {
      if (stop) {
        note = `interrupted at step ${step}: keeping the dictionary trained so far`;
        break;
      }
      const pick: number[][] = [];
      for (let i = 0; i < batchSize; i++) {
        if (cursor === order.length) (order = rng.permutation(docs.length)), (cursor = 0);
        pick.push(docs[order[cursor++]]);
      }
      const record = (step + 1) % logEvery === 0 || step === steps - 1;
      // e2e_sae's get_cosine_schedule_with_warmup with min_lr_factor; warm-up step s uses (s+1)/warmup, not
      // s/warmup, so the first step is not wasted at lr 0 (as fit's warm-up).
      const rate = learningRate(step, { lr, warmupSteps: warmup, decay: opts.lrDecay ?? "cosine", totalSteps: steps, minFactor: opts.minLrFactor ?? 0.1 });
      const { tokens: ids, mask, count } = batchTensors(pick, ignore);
      if (count === 0) throw new Error(`featurelab: trainE2E: every position of a batch is ignored (ignorePositions ${JSON.stringify(ignore)})`);
      const need = { logits: kind !== "local" || record, downstream: kind === "e2e+ds" || record };
      const clean = tf.tidy(() => cleanBatch(model, site, ids, mask, count, need) as unknown as tf.TensorContainer) as unknown as CleanBatch;
      let kept: tf.Tensor[] = [];
      const { value, grads: byVariable } = tf.variableGrads(() => {
        const t = e2eLoss(model, site, clean, params, { ...lossOpts, allTerms: record });
        const fired = tf.greater(tf.max(tf.mul(t.c, tf.reshape(mask, [-1, 1])), 0), 0);
        kept = [fired, t.mse, t.l1, t.kl ?? tf.scalar(NaN), t.downstream ?? tf.scalar(NaN)];
        if (record) {
          const a = tf.reshape(clean.resid, [-1, dIn]);
          const m = tf.reshape(mask, [-1, 1]);
          const mean = tf.div(tf.sum(tf.mul(a, m), 0), count);
          const fvu = tf.div(tf.sum(tf.mul(tf.square(tf.sub(t.aHat, a)), m)), tf.sum(tf.mul(tf.square(tf.sub(a, mean)), m)));
          const l0 = tf.div(tf.sum(tf.mul(tf.cast(tf.greater(t.c, 0), "float32"), m)), count);
          kept.push(fvu, l0);
        }
        kept.forEach((k) => tf.keep(k));
        return t.loss;
      }, Object.values(vars));
      // variableGrads keys gradients by the variables' (generated) names.
      const grads = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, byVariable[v.name]]));
      const loss = value.dataSync()[0];
      const release = () => tf.dispose([value, ...Object.values(grads), ...kept, ids, mask, clean.resid, clean.logProbs ?? [], ...Object.values(clean.downstream ?? {})]);
      if (!Number.isFinite(loss)) {
        // Back to the last weights whose loss was finite (kept at logged steps, as fit does).
        for (const [k, v] of Object.entries(vars)) v.assign(good.weights[k]);
        note = `loss became ${loss} at step ${step + 1}; restored the weights of step ${good.step} and stopped`;
        release();
        break;
      }
      if (record) {
        tf.dispose(Object.values(good.weights));
        good = { step, weights: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)])) };
      }
      const clipped = clip > 0 ? clipByGlobalNorm(grads, clip) : grads;
      adam.apply(vars, clipped, rate);
      if (clipped !== grads) tf.dispose(Object.values(clipped));
      seen += count;
      const firedNow = kept[0].dataSync();
      for (let i = 0; i < width; i++) if (firedNow[i]) lastFired[i] = seen;
      if (record) {
        const [mse, l1, kl, ds, fvu, l0] = kept.slice(1).map((t) => t.dataSync()[0]);
        let dead = 0;
        for (let i = 0; i < width; i++) if (seen - lastFired[i] >= deadWindow) dead++;
        const r: E2ETrainingRecord = { step: step + 1, tokens: seen, loss, mse, sparsity: l1, l0, fvu, deadFraction: dead / width, lr: rate, l1: lossOpts.l1, kl, downstreamMse: ds, seconds: (performance.now() - t0) / 1000 };
        history.push(r);
      }
      release();
      const now = performance.now();
      if (sink && (now - lastDraw > 500 || step === 0)) (sink.update(state(false)), (lastDraw = now));
      await new Promise((resolve) => setImmediate(resolve));
    }
    sink?.update(state(true));
    const arch = architecture("relu", { decoder: "unit-norm" });
    const cfg: DictionaryConfig = {
      architecture: "relu",
      d_in: dIn,
      d_sae: width,
      l1_coefficient: lossOpts.l1,
      ...arch.options,
      training: {
        method: "end-to-end (Braun et al. 2024)",
        loss: kind,
        hook: opts.hook,
        model: model.name,
        phi: lossOpts.l1 / dIn,
        ...(kind === "local" ? { mse_coefficient: lossOpts.mseCoefficient } : { kl_coefficient: lossOpts.klCoefficient }),
        ...(kind === "e2e+ds" ? { beta: lossOpts.beta, downstream: site.downstream } : {}),
        steps: step,
        batch_size_sequences: batchSize,
        tokens: seen,
        lr,
        lr_warmup_steps: warmup,
        lr_decay: opts.lrDecay ?? "cosine",
        min_lr_factor: opts.minLrFactor ?? 0.1,
        clip_grad_norm: clip,
        seed,
        init: opts.init ?? "e2e_sae",
        ignore_positions: [...ignore],
        decoder_normalisation_folded: true,
      },
    };
    return new Dictionary(arch, cfg, foldE2EParams(params), history, note);
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    tf.dispose([...Object.values(vars), ...Object.values(good.weights)]);
    adam.dispose();
  }
}
