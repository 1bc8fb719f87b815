// The training loop: seeded batches, the architecture's loss and gradient, Adam, schedules,
// dead-feature tracking, a NaN guard and progress. One concept: turn a spec and data into a Dictionary.
import { tf, ready, nativeEngine } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { ActivationSet } from "../data/activation-set.js";
import { assertFiniteSet } from "../data/finite.js";
import type { ActivationStream } from "../data/stream.js";
import { endlessBatches } from "../data/endless-batches.js";
import { isPair, joinPair, type Pair } from "../data/paired.js";
import type { Architecture } from "../dictionaries/architecture.js";
import { Dictionary, type DictionaryConfig, type TrainingRecord } from "../dictionaries/dictionary.js";
import { learningRate, sparsityCoefficient } from "./schedule.js";
import { defaultProgress, type ProgressSink } from "./progress.js";
import { readCheckpoint, writeCheckpoint, type RunIdentity } from "./checkpoint.js";
import type { TrainerSetup } from "./trainer.js";
import { tfjsTrainer } from "./tfjs-trainer.js";
import { nativeTrainer, nativeUnsupported } from "./native-trainer.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `DictionarySpec.fit` (all have defaults). */
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

const FIT_OPTIONS = optionNames<FitOptions>({
  steps: true, batchSize: true, lr: true, betas: true, lrWarmupSteps: true, lrDecay: true, lrDecaySteps: true, l1WarmupSteps: true,
  clipGradNorm: true, deadWindowTokens: true, logEvery: true, seed: true, progress: true, checkpoint: true, resume: true, resample: true,
});
const CHECKPOINT_OPTIONS = optionNames<NonNullable<FitOptions["checkpoint"]>>({ dir: true, every: true });
const RESAMPLE_OPTIONS = optionNames<NonNullable<FitOptions["resample"]>>({ every: true });

export interface FitSpec {
  arch: Architecture;
  width: number;
  l1: number;
}

export async function fit(spec: FitSpec, source: ActivationSet | ActivationStream | Pair, opts: FitOptions = {}): Promise<Dictionary> {
  rejectUnknownOptions("fit", opts, FIT_OPTIONS);
  rejectUnknownOptions("fit: checkpoint", opts.checkpoint, CHECKPOINT_OPTIONS);
  rejectUnknownOptions("fit: resample", opts.resample, RESAMPLE_OPTIONS);
  await ready();
  // Transcoders train on (input, output) pairs, held side by side in one set: [x_in | y].
  const acts = isPair(source) ? joinPair(source) : source;
  if (acts instanceof ActivationSet) assertFiniteSet(acts, "fit");
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
  const sink = opts.progress === false ? undefined : opts.progress === true || opts.progress === undefined ? defaultProgress() : opts.progress;
  const history: TrainingRecord[] = [];
  let note: string | undefined;
  let stopRequested = false;
  const onInterrupt = () => {
    stopRequested = true;
  };

  const identity: RunIdentity = { architecture: arch.name, options: arch.options, d_in: dIn, d_sae: width, batch_size: batchSize, seed, steps };
  const resumed = opts.resume ? readCheckpoint(opts.resume, identity) : undefined;
  const startStep = resumed?.step ?? 0;
  let tokens = resumed?.tokens ?? 0;
  if (resumed) history.push(...resumed.history);
  const setup: TrainerSetup = {
    arch, width, dIn, rowDim, batchSize, init, deadWindow, resampleRng,
    betas: opts.betas, clipGradNorm: opts.clipGradNorm, resample: opts.resample, resume: resumed,
  };
  const addon = nativeEngine();
  const trainer = addon && !nativeUnsupported(setup) ? nativeTrainer(addon, setup) : tfjsTrainer(setup);
  process.once("SIGINT", onInterrupt);

  const saveCheckpoint = async (done: number) => {
    if (!opts.checkpoint) return;
    const state = trainer.checkpointState();
    try {
      await writeCheckpoint(opts.checkpoint.dir, { run: identity, step: done, tokens, adamStep: state.adamStep, history, tensors: state.tensors });
    } finally {
      state.release();
    }
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
  let finalParams: Record<string, tf.Tensor>;
  try {
    for (; step < steps; step++) {
      if (stopRequested) {
        note = `interrupted at step ${step}: keeping the dictionary trained so far`;
        break;
      }
      const rows = (await batches.next()).value as Float32Array;
      const lr = learningRate(step, {
        lr: opts.lr ?? 3e-4,
        warmupSteps: opts.lrWarmupSteps,
        decay: opts.lrDecay,
        decaySteps: opts.lrDecaySteps,
        totalSteps: steps,
      });
      const l1 = sparsityCoefficient(step, spec.l1, l1Warmup);
      const last = step === steps - 1;
      const numbers = trainer.step({ rows, lr, l1, step, record: (step + 1) % logEvery === 0 || last });
      tokens += batchSize;
      if (numbers) {
        const record: TrainingRecord = { step: step + 1, tokens, ...numbers, lr, l1, seconds: (performance.now() - t0) / 1000 };
        if (!Number.isFinite(record.loss)) {
          trainer.rollback();
          note = `loss became ${record.loss} at step ${step + 1}; restored the weights of step ${history[history.length - 1]?.step ?? 0} and stopped`;
          break;
        }
        history.push(record);
        trainer.keep();
      }
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
    finalParams = trainer.finish();
  } finally {
    await batches.return(undefined);
    process.removeListener("SIGINT", onInterrupt);
    trainer.dispose();
  }
  sink?.update(state(Math.min(step, steps), true));

  const cfg: DictionaryConfig = {
    architecture: arch.name,
    d_in: dIn,
    d_sae: width,
    l1_coefficient: spec.l1,
    ...arch.options,
    training: { steps: step, batch_size: batchSize, lr: opts.lr ?? 3e-4, seed, engine: trainer.kind },
    ...("normalization" in acts && acts.normalization ? { normalization: acts.normalization } : {}),
  };
  last = new Dictionary(arch, cfg, finalParams, history, note);
  return last;
}

let last: Dictionary | undefined;

/**
 * The dictionary the most recent fit() returned — also after a Jupyter interrupt, where the kernel
 * abandons the cell (so its `const sae = await …` never completes) while training stops at the next
 * step and keeps what it learned.
 * @example
 * const sae = fl.lastFit()!;   // after interrupting a cell that was training
 */
export function lastFit(): Dictionary | undefined {
  return last;
}
