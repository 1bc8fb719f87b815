// The training loop: seeded batches, the architecture's loss and gradient, Adam, schedules,
// dead-feature tracking, a NaN guard and progress. One concept: turn a spec and data into a Dictionary.
import { tf, ready } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import type { ActivationSet } from "../data/activation-set.js";
import type { ActivationStream } from "../data/stream.js";
import { endlessBatches } from "../data/endless-batches.js";
import { isPair, joinPair, type Pair } from "../data/paired.js";
import type { Architecture, StepResult } from "../dictionaries/architecture.js";
import { Dictionary, type DictionaryConfig, type TrainingRecord } from "../dictionaries/dictionary.js";
import { Adam, clipByGlobalNorm } from "./adam.js";
import { learningRate, sparsityCoefficient } from "./schedule.js";
import { defaultProgress, type ProgressSink } from "./progress.js";
import { readCheckpoint, writeCheckpoint, type RunIdentity } from "./checkpoint.js";
import { resampleDeadFeatures } from "./resample.js";

export interface FitOptions {
  /** Optimiser steps (default 2000). */
  steps?: number;
  /** Rows per batch (default 1024, at most the number of rows). */
  batchSize?: number;
  /** Adam learning rate (default 3e-4, SAELens' default). */
  lr?: number;
  betas?: [number, number];
  lrWarmupSteps?: number;
  lrDecay?: "none" | "linear" | "cosine";
  lrDecaySteps?: number;
  /** Sparsity-coefficient warm-up in steps (default steps/20, as SAELens). */
  l1WarmupSteps?: number;
  /** Clip the global gradient norm (off by default). */
  clipGradNorm?: number;
  /** A feature that has not fired for this many rows counts as dead (default: a quarter of the run's rows, at most 10 M). */
  deadWindowTokens?: number;
  /** Log a history point every this many steps (default steps/200). */
  logEvery?: number;
  seed?: number;
  /** true: the default display (notebook or terminal); false: none; or your own sink. */
  progress?: boolean | ProgressSink;
  /** Write a checkpoint to `dir` every `every` steps (and at the end), atomically. */
  checkpoint?: { dir: string; every: number };
  /** Continue the run checkpointed in this folder (same data, spec, batch size and seed). */
  resume?: string;
  /** Every `every` steps, re-initialise features dead over the window (dictionary_learning's recipe). */
  resample?: { every: number };
}

export interface FitSpec {
  arch: Architecture;
  width: number;
  l1: number;
}

export async function fit(spec: FitSpec, source: ActivationSet | ActivationStream | Pair, opts: FitOptions = {}): Promise<Dictionary> {
  await ready();
  // Transcoders train on (input, output) pairs, held side by side in one set: [x_in | y].
  const acts = isPair(source) ? joinPair(source) : source;
  const inputDim = isPair(source) ? source.input.dim : acts.dim;
  const steps = opts.steps ?? 2000;
  const batchSize = Math.min(opts.batchSize ?? 1024, acts.numRows ?? Infinity);
  const seed = opts.seed ?? 0;
  const logEvery = opts.logEvery ?? Math.max(1, Math.floor(steps / 200));
  const l1Warmup = opts.l1WarmupSteps ?? Math.floor(steps / 20);
  const deadWindow = opts.deadWindowTokens ?? Math.min(1e7, Math.max(batchSize, Math.floor((steps * batchSize) / 4)));
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`featurelab: fit: steps must be a positive integer, got ${steps}`);
  if (acts.numRows !== undefined && acts.numRows < 1) throw new Error(`featurelab: fit: the activation set${acts.source ? ` from ${acts.source}` : ""} has no rows`);
  const { arch, width } = spec;
  const dIn = inputDim;
  const rowDim = acts.dim;
  const rng = new Rng(seed);
  // A stream of its own, so resampling does not shift the order of batches.
  const resampleRng = new Rng(seed + 0x9e3779b9);

  const init = arch.init(dIn, width, rng);
  const params: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(init)) params[name] = tf.variable(tf.tensor(t.values, t.shape), true, undefined);
  const adam = new Adam({ betas: opts.betas });
  const sink = opts.progress === false ? undefined : opts.progress === true || opts.progress === undefined ? defaultProgress() : opts.progress;

  const history: TrainingRecord[] = [];
  // Rows seen since each feature last fired, on the device: the dead mask for AuxK each step.
  const sinceFired = tf.variable(tf.zeros([width]), false);
  let lastGood = snapshot(params);
  let note: string | undefined;
  let stopRequested = false;
  const onInterrupt = () => {
    stopRequested = true;
  };
  process.once("SIGINT", onInterrupt);

  const identity: RunIdentity = { architecture: arch.name, options: arch.options, d_in: dIn, d_sae: width, batch_size: batchSize, seed, steps };
  let startStep = 0;
  let tokens = 0;
  if (opts.resume) {
    const c = readCheckpoint(opts.resume, identity);
    for (const [name, v] of Object.entries(params)) v.assign(c.tensors[name]);
    adam.restore(c.adamStep, c.tensors);
    sinceFired.assign(c.tensors.since_fired);
    history.push(...c.history);
    startStep = c.step;
    tokens = c.tokens;
    tf.dispose(Object.entries(c.tensors).filter(([k]) => !k.startsWith("adam_")).map(([, t]) => t));
    tf.dispose(Object.values(lastGood));
    lastGood = snapshot(params);
  }
  const saveCheckpoint = async (done: number) => {
    if (!opts.checkpoint) return;
    const { step: adamStep, tensors } = adam.state();
    await writeCheckpoint(opts.checkpoint.dir, { run: identity, step: done, tokens, adamStep, history, tensors: { ...params, ...tensors, since_fired: sinceFired } });
  };
  const batches = endlessBatches(acts, batchSize, rng, startStep * batchSize);
  const t0 = performance.now();
  const tokensAtStart = tokens;
  let lastDraw = 0;
  const title = `${arch.name} dictionary, width ${width}`;
  const state = (step: number, done: boolean) => ({
    title,
    step,
    steps,
    tokensPerSecond: (tokens - tokensAtStart) / Math.max(1e-9, (performance.now() - t0) / 1000),
    elapsedSeconds: (performance.now() - t0) / 1000,
    last: history[history.length - 1],
    history,
    done,
    note,
  });

  let step = startStep;
  try {
    for (; step < steps; step++) {
      if (stopRequested) {
        note = `interrupted at step ${step}: keeping the dictionary trained so far`;
        break;
      }
      const batch = (await batches.next()).value as Float32Array;
      const lr = learningRate(step, {
        lr: opts.lr ?? 3e-4,
        warmupSteps: opts.lrWarmupSteps,
        decay: opts.lrDecay,
        decaySteps: opts.lrDecaySteps,
        totalSteps: steps,
      });
      const l1 = sparsityCoefficient(step, spec.l1, l1Warmup);
      const rowsT = tf.tensor2d(batch, [batchSize, rowDim]);
      const [x, target] = rowDim === dIn ? [rowsT, undefined] : splitPair(rowsT, dIn);
      const dead = tf.tidy(() => tf.cast(tf.greaterEqual(sinceFired, deadWindow), "float32")) as tf.Tensor1D;
      const res = arch.step(x, params, { l1, dead, target });
      const grads = opts.clipGradNorm ? clipByGlobalNorm(res.grads, opts.clipGradNorm) : res.grads;
      adam.apply(params, grads, lr);
      for (const [name, value] of Object.entries(res.updates ?? {})) params[name].assign(value);
      if (opts.resample && (step + 1) % opts.resample.every === 0) {
        const { resampled } = resampleDeadFeatures(params, adam, dead.dataSync() as Float32Array, x, res.reconstruction, resampleRng);
        if (resampled.length > 0) tf.tidy(() => sinceFired.assign(tf.mul(sinceFired, tf.sub(1, tf.scatterND(tf.tensor2d(resampled, [resampled.length, 1], "int32"), tf.ones([resampled.length]), [width])))));
      }
      arch.afterStep?.(params);
      tf.tidy(() => {
        const fired = tf.greater(tf.max(res.features, 0), 0);
        sinceFired.assign(tf.where(fired, tf.zerosLike(sinceFired), tf.add(sinceFired, batchSize)));
      });
      dead.dispose();
      tokens += batchSize;

      const last = step === steps - 1;
      if ((step + 1) % logEvery === 0 || last) {
        const record = readRecord(step + 1, tokens, target ?? x, res, lr, l1);
        record.deadFraction = tf.tidy(() => tf.mean(tf.cast(tf.greaterEqual(sinceFired, deadWindow), "float32")).dataSync()[0]);
        if (!Number.isFinite(record.loss)) {
          restore(params, lastGood);
          note = `loss became ${record.loss} at step ${step + 1}; restored the weights of step ${history[history.length - 1]?.step ?? 0} and stopped`;
          disposeStep(x, res, grads);
          if (target) tf.dispose([rowsT, target]);
          break;
        }
        history.push(record);
        tf.dispose(Object.values(lastGood));
        lastGood = snapshot(params);
      }
      disposeStep(x, res, grads);
      if (target) tf.dispose([rowsT, target]);
      if (opts.checkpoint && (step + 1) % opts.checkpoint.every === 0) await saveCheckpoint(step + 1);

      const now = performance.now();
      if (sink && (now - lastDraw > 500 || step === 0)) {
        sink.update(state(step + 1, false));
        lastDraw = now;
      }
      // Yield to the event loop: lets displays flush and an interrupt arrive.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (opts.checkpoint && step % opts.checkpoint.every !== 0) await saveCheckpoint(step);
  } finally {
    await batches.return(undefined);
    process.removeListener("SIGINT", onInterrupt);
    adam.dispose();
    sinceFired.dispose();
    tf.dispose(Object.values(lastGood));
  }
  sink?.update(state(Math.min(step, steps), true));

  const cfg: DictionaryConfig = {
    architecture: arch.name,
    d_in: dIn,
    d_sae: width,
    l1_coefficient: spec.l1,
    ...arch.options,
    training: { steps: step, batch_size: batchSize, lr: opts.lr ?? 3e-4, seed },
    ...("normalization" in acts && acts.normalization ? { normalization: acts.normalization } : {}),
  };
  const finalParams: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(params)) {
    finalParams[name] = tf.clone(v);
    v.dispose();
  }
  last = new Dictionary(arch, cfg, finalParams, history, note);
  return last;
}

let last: Dictionary | undefined;

/**
 * The dictionary the most recent fit() returned — also after a Jupyter interrupt, where the kernel
 * abandons the cell (so its `const sae = await …` never completes) while training stops at the next
 * step and keeps what it learned.
 */
export function lastFit(): Dictionary | undefined {
  return last;
}

function readRecord(step: number, tokens: number, x: tf.Tensor2D, res: ReturnType<Architecture["step"]>, lr: number, l1: number): TrainingRecord {
  const vals = tf.tidy(() => {
    const err = tf.sum(tf.square(tf.sub(x, res.reconstruction)));
    const centred = tf.sum(tf.square(tf.sub(x, tf.mean(x, 0))));
    const l0 = tf.div(tf.sum(tf.cast(tf.greater(res.features, 0), "float32")), x.shape[0]);
    return tf.stack([res.loss, res.terms.mse ?? tf.scalar(NaN), res.terms.l1 ?? tf.scalar(NaN), l0, tf.div(err, centred)]);
  });
  const [loss, mse, sparsity, l0, fvu] = vals.dataSync();
  vals.dispose();
  return { step, tokens, loss, mse, sparsity, l0, fvu, deadFraction: 0, lr, l1 };
}

/** [x_in | y] rows → x_in [B, d_in] and y [B, d_out]. */
function splitPair(rows: tf.Tensor2D, dIn: number): [tf.Tensor2D, tf.Tensor2D] {
  const [B, d] = rows.shape;
  return [tf.slice(rows, [0, 0], [B, dIn]), tf.slice(rows, [0, dIn], [B, d - dIn])];
}

function disposeStep(x: tf.Tensor, res: StepResult, grads: Record<string, tf.Tensor>): void {
  tf.dispose([x, res.loss, res.features, res.reconstruction, ...Object.values(res.terms), ...Object.values(res.grads), ...Object.values(res.updates ?? {})]);
  if (grads !== res.grads) tf.dispose(Object.values(grads));
}

function snapshot(params: Record<string, tf.Variable>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.clone(v)]));
}

function restore(params: Record<string, tf.Variable>, saved: Record<string, tf.Tensor>): void {
  for (const [k, v] of Object.entries(params)) v.assign(saved[k]);
}
