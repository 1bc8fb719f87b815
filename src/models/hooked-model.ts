// What every model with hook points shares: split an input into batches, run a batch with hook
// functions, and `run(input, { cache, hooks })` → outputs plus an ActivationCache. The transformer
// and wrapped tfjs LayersModels implement the two batch methods; ablation and splicing use only these.
import { tf, ready } from "../engine/backend.js";
import { ActivationCache } from "./activation-cache.js";
import { cacheActivations, type CacheActivationsOptions, type CacheActivationsResult, type CacheInput } from "./cache-activations.js";
import { checkHookNames, HookRunner, type Hooks } from "./hook-points.js";
import type { Tokenizer } from "./tokenizer.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

export interface ModelBatch {
  /** Index, in the whole input, of the first document (sample). */
  start: number;
  /** Documents in this batch. */
  size: number;
  /** Positions per document, padded (1 for models without positions). */
  width: number;
  /** Valid positions of each document. */
  lengths: number[];
  /** Token ids, padded (sequence models). */
  tokens?: number[][];
  /** What the output at (document, position) should predict — the next token, or a label — else −1. [size·width] */
  targets: Int32Array;
  /** The model's input tensor for this batch (made inside the forward pass's tidy). */
  input(): tf.Tensor;
}

/** Start a forward pass at a hook point with a given (unhooked) activation, skipping what comes before it. */
export interface StartAt {
  name: string;
  value: tf.Tensor;
}

/** Options of `model.run`. */
export interface RunOptions {
  /** Hook points to record: names, or true for all. */
  cache?: readonly string[] | true;
  /** Hook functions that read or edit activations, by hook point. */
  hooks?: Hooks;
  /** Documents per forward pass (default 32). */
  batchSize?: number;
  /** Return the outputs (logits) too (default true); false saves memory when only caching. */
  logits?: boolean;
  /** Transformer: put the BOS token before each text (default true, as TransformerLens). */
  prependBos?: boolean;
  /** Labels per sample, for a classifier's cross-entropy. */
  labels?: ArrayLike<number>;
}

const RUN_OPTIONS = optionNames<RunOptions>({ cache: true, hooks: true, batchSize: true, logits: true, prependBos: true, labels: true });

/** What `model.run` returns: the outputs (logits) and the activations cached. */
export interface RunResult {
  /** Outputs: logits [documents, positions, vocab] for a transformer (padded to the longest document). */
  logits: tf.Tensor | undefined;
  cache: ActivationCache;
  /** Token ids of each document (sequence models). */
  documents: number[][] | undefined;
  /** Tokens in each document (sequence models; empty otherwise). */
  lengths: number[];
}

/**
 * A model with named hook points whose activations can be cached and edited: the transformer (`fl.loadModel`) and any tfjs LayersModel (`fl.hooked`).
 * @example
 * const { logits, cache } = await model.run(tokens, { cache: ["blocks.1.hook_resid_pre"] });
 */
export abstract class HookedModel {
  /** A short name for messages and displays. */
  abstract readonly name: string;
  /** Every hook point, in the order a forward pass reaches them. */
  abstract readonly hookNames: readonly string[];
  abstract readonly tokenizer: Tokenizer | undefined;

  /**
   * The input split into batches of `size` documents.
   * @example
   * const { batches, documents } = model.batches(tokens, { batchSize: 8 });
   */
  abstract batches(input: unknown, opts: { batchSize: number; prependBos?: boolean; labels?: ArrayLike<number> }): { batches: ModelBatch[]; documents?: number[][] };

  /**
   * One batch through the model with hooks; returns its output (logits). Synchronous, untidied. Plumbing
   * for runBatch and run (its HookRunner is not exported): a notebook calls those instead.
   * @internal
   */
  abstract forwardBatch(batch: ModelBatch, runner: HookRunner, start?: StartAt): tf.Tensor;

  /**
   * A hook point from which a forward pass can resume and still reach `hook` (at it or before it), so
   * repeated edits at `hook` need not recompute the layers below; undefined when the model cannot.
   * @example
   * model.startPoint("blocks.1.hook_resid_post");   // a hook point to resume from, or undefined
   */
  startPoint(_hook: string): string | undefined {
    return undefined;
  }

  /**
   * Check hook names against this model's, naming the one that is not there.
   * @example
   * model.checkHooks(["blocks.0.hook_resid_post"]);   // throws naming a hook point the model lacks
   */
  checkHooks(names: Iterable<string>): void {
    checkHookNames(names, this.hookNames, this.name);
  }

  /**
   * One batch with hooks → its output (kept; the caller disposes it). Hook names are not checked here.
   * With `start`, the pass resumes at that hook point (see startPoint), whose hooks still run.
   * @example
   * const { batches } = model.batches(tokens, { batchSize: 8 });
   * const logits = model.runBatch(batches[0], { "blocks.0.hook_resid_post": fl.hooks.steer(direction) });
   * logits.dispose();
   */
  runBatch(batch: ModelBatch, hooks: Hooks = {}, start?: StartAt): tf.Tensor {
    const runner = new HookRunner(hooks, [], { batchStart: batch.start, lengths: batch.lengths, tokens: batch.tokens });
    return tf.tidy(() => this.forwardBatch(batch, runner, start));
  }

  /**
   * Write the activations at hook points over a text or token dataset to Parquet shards, one folder per
   * hook, resuming an interrupted run (see fl.cacheActivations).
   * @example
   * const { folders } = await model.cacheActivations(texts, { hooks: ["blocks.0.hook_resid_post"], out: "out/cache", contextSize: 64 });
   */
  cacheActivations(input: CacheInput, opts: CacheActivationsOptions): Promise<CacheActivationsResult> {
    return cacheActivations(this, input, opts);
  }

  /**
   * Run the model: outputs and the activations recorded at `cache` hook points (as an ActivationCache;
   * `.get(name)` gives an ActivationSet), with `hooks` editing activations on the way.
   * @example
   * const { logits, cache } = await model.run(tokens, { cache: ["blocks.0.hook_resid_post"] });
   * const steered = await model.run(tokens, { hooks: { "blocks.0.hook_resid_post": fl.hooks.steer(direction, { scale: 4 }) } });
   */
  async run(input: unknown, opts: RunOptions = {}): Promise<RunResult> {
    rejectUnknownOptions("model.run", opts, RUN_OPTIONS);
    await ready();
    const names = opts.cache === true ? [...this.hookNames] : [...(opts.cache ?? [])];
    this.checkHooks(names);
    this.checkHooks(Object.keys(opts.hooks ?? {}));
    const { batches, documents } = this.batches(input, { batchSize: opts.batchSize ?? 32, prependBos: opts.prependBos, labels: opts.labels });
    const cache = new ActivationCache(this.name, documents, this.tokenizer);
    const wantLogits = opts.logits ?? true;
    const outs: tf.Tensor[] = [];
    try {
      for (const batch of batches) {
        const runner = new HookRunner(opts.hooks, names, { batchStart: batch.start, lengths: batch.lengths, tokens: batch.tokens });
        try {
          const out = tf.tidy(() => {
            const y = this.forwardBatch(batch, runner);
            return wantLogits ? y : tf.scalar(0);
          });
          if (wantLogits) outs.push(out);
          else out.dispose();
          for (const name of names) {
            const t = runner.recorded.get(name);
            if (t) cache.add(name, t, batch.start, batch.lengths);
          }
        } finally {
          runner.dispose();
        }
      }
      const logits = wantLogits ? concatPadded(outs) : undefined;
      return { logits, cache, documents, lengths: documents ? documents.map((d) => d.length) : [] };
    } finally {
      tf.dispose(outs);
    }
  }
}

/** Concatenate batch outputs along axis 0, padding axis 1 (positions) of rank-3 outputs to the widest. */
export function concatPadded(outs: tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    if (outs.length === 1) return outs[0].clone();
    if (outs[0].rank !== 3) return tf.concat(outs, 0);
    const width = Math.max(...outs.map((o) => o.shape[1]!));
    return tf.concat(outs.map((o) => (o.shape[1] === width ? o : tf.pad(o, [[0, 0], [0, width - o.shape[1]!], [0, 0]]))), 0);
  });
}
