// A trained sparse dictionary: its architecture, its weights and what it computes.
import { tf, ensureEngine } from "../engine/backend.js";
import { assertFiniteSet } from "../data/finite.js";
import { ActivationSet } from "../data/activation-set.js";
import type { ActivationStream } from "../data/stream.js";
import { isPair, joinPair, type Pair } from "../data/paired.js";
import { reconstructionStats, reconstructionStatsAsync, METRICS_OPTIONS, type MetricsOptions, type ReconstructionMetrics, type Reconstructor } from "../metrics/reconstruction.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import type { Architecture, Params } from "./architecture.js";
import { CodesBuilder, type Codes } from "./codes.js";
import { saveSaeLens } from "./saelens-folder.js";

/** A dictionary's configuration, as in SAELens' cfg.json: architecture, input width d_in, number of features d_sae, and its hyperparameters. */
export interface DictionaryConfig {
  architecture: string;
  d_in: number;
  d_sae: number;
  [hyper: string]: unknown;
}

/** One logged point of a training run. */
export interface TrainingRecord {
  step: number;
  tokens: number;
  loss: number;
  mse: number;
  sparsity: number;
  l0: number;
  fvu: number;
  deadFraction: number;
  lr: number;
  l1: number;
  /** Wall-clock seconds since the run (or its resumption) started, at the end of this step. */
  seconds?: number;
}

/** A dictionary's parameters as tfjs tensors, with SAELens' names and orientation (plus any the architecture adds, e.g. `threshold`). */
export interface DictionaryWeights {
  W_enc: tf.Tensor2D;
  W_dec: tf.Tensor2D;
  b_enc: tf.Tensor1D;
  b_dec: tf.Tensor1D;
  [name: string]: tf.Tensor;
}

/**
 * A trained (or loaded) sparse dictionary: an encoder to feature activations and a decoder back. Made by
 * `fl.dictionary(…).fit(…)`, `fl.loadDictionary` or `fl.finetuneDecoder`.
 *
 * @example
 * const sae = await fl.dictionary("topk", { width: 4096, k: 32 }).fit(acts, { steps: 2000, seed: 0 });
 * fl.show(sae.metrics(acts));
 * await sae.save("out/sae");
 */
export class Dictionary implements Reconstructor {
  readonly arch: Architecture;
  readonly cfg: DictionaryConfig;
  readonly params: Params;
  /** Loss, L0, FVU… logged during training (empty for a loaded dictionary). */
  readonly history: readonly TrainingRecord[];
  /** Why training ended early, if it did. */
  readonly note: string | undefined;

  constructor(arch: Architecture, cfg: DictionaryConfig, params: Params, history: TrainingRecord[] = [], note?: string) {
    this.arch = arch;
    this.cfg = cfg;
    this.params = params;
    this.history = history;
    this.note = note;
    for (const t of Object.values(params)) tf.keep(t);
  }

  /** Number of features (d_sae). */
  get width(): number {
    return this.cfg.d_sae;
  }

  /** Input width (d_in). */
  get dIn(): number {
    return this.cfg.d_in;
  }

  /** W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in] (tfjs tensors, SAELens names). */
  get weights(): DictionaryWeights {
    return this.params as DictionaryWeights;
  }

  /**
   * Feature i's direction (row i of W_dec) for every i, as a flat array with its dim.
   * @example
   * const { values, dim } = sae.decoderDirections();   // values.length === sae.width * dim
   */
  decoderDirections(): { values: Float32Array; dim: number } {
    return { values: this.params.W_dec.dataSync() as Float32Array, dim: this.dIn };
  }

  /**
   * Feature activations [n, width] of input rows x [n, d_in] (a new tensor; dispose it).
   * @example
   * const f = sae.encodeTensor(acts.sliceTensor(0, 64));   // [64, sae.width]
   */
  encodeTensor(x: tf.Tensor2D): tf.Tensor2D {
    return this.arch.encode(x, this.params);
  }

  /**
   * Reconstructions [n, d_in] of feature activations f [n, width] (a new tensor; dispose it).
   * @example
   * const xhat = sae.decodeTensor(sae.encodeTensor(x));
   */
  decodeTensor(f: tf.Tensor2D): tf.Tensor2D {
    return this.arch.decode(f, this.params);
  }

  /**
   * Reconstructions [n, d_out] of x from its features f (for a skip transcoder the skip term uses x; otherwise the decoder of f).
   * @example
   * const f = sae.encodeTensor(x);
   * const xhat = sae.reconstructTensor(x, f);
   */
  reconstructTensor(x: tf.Tensor2D, f: tf.Tensor2D): tf.Tensor2D {
    return this.arch.reconstruct ? this.arch.reconstruct(x, f, this.params) : this.arch.decode(f, this.params);
  }

  /**
   * Feature activations for every row of the set.
   * @example
   * const codes = sae.encode(acts);
   * const top = codes.mostFrequent(20);
   */
  encode(acts: ActivationSet, opts: { batchSize?: number } = {}): Codes {
    rejectUnknownOptions("Dictionary.encode", opts, optionNames<typeof opts>({ batchSize: true }));
    ensureEngine();
    this.checkDim(acts);
    const builder = new CodesBuilder(this.width);
    for (const b of acts.rowBatches({ size: opts.batchSize ?? 1024 })) {
      const f = tf.tidy(() => this.encodeTensor(tf.tensor2d(b.vectors, [b.rows, this.dIn])));
      builder.addDense(f.dataSync() as Float32Array, b.rows);
      f.dispose();
    }
    return builder.finish(acts);
  }

  /** L0, FVU, MSE, dead fraction, L2 ratio, cosine, shrinkage γ on a set (or, awaited, a stream). */
  metrics(acts: ActivationSet | Pair, opts?: MetricsOptions): ReconstructionMetrics;
  metrics(acts: ActivationStream, opts?: MetricsOptions): Promise<ReconstructionMetrics>;
  /**
   * @example
   * fl.show(sae.metrics(acts));                 // L0, FVU, dead fraction, L2 ratio, γ…
   * const m = await sae.metrics(await fl.open("big.arrow"));
   */
  metrics(acts: ActivationSet | ActivationStream | Pair, opts: MetricsOptions = {}): ReconstructionMetrics | Promise<ReconstructionMetrics> {
    rejectUnknownOptions("Dictionary.metrics", opts, METRICS_OPTIONS);
    if (isPair(acts)) {
      this.checkDim(acts.input);
      ensureEngine();
      return reconstructionStats(this, joinPair(acts), { ...opts, inputDim: acts.input.dim }).metrics;
    }
    this.checkDim(acts);
    if (!(acts instanceof ActivationSet)) return reconstructionStatsAsync(this, acts, opts).then((r) => r.metrics);
    assertFiniteSet(acts, "Dictionary.metrics");
    ensureEngine();
    return reconstructionStats(this, acts, opts).metrics;
  }

  private checkDim(acts: ActivationSet | ActivationStream) {
    if (acts.dim !== this.dIn) {
      throw new Error(`featurelab: this dictionary reads vectors of dim ${this.dIn}, but the set${acts.source ? ` from ${acts.source}` : ""} has dim ${acts.dim}`);
    }
  }

  /**
   * Write the SAELens folder layout: cfg.json + sae_weights.safetensors (loadable by SAELens).
   * @example
   * await sae.save("out/sae");                  // cfg.json + sae_weights.safetensors
   */
  save(dir: string, cfg: Record<string, unknown> = {}): Promise<void> {
    return saveSaeLens(this, dir, cfg);
  }

  /**
   * Free the weights' memory.
   * @example
   * sae.dispose();
   */
  dispose(): void {
    tf.dispose(Object.values(this.params));
  }

  /** "Dictionary(arch, d_in → d_sae)". */
  toString(): string {
    return `Dictionary(${this.cfg.architecture}, d_in ${this.dIn}, width ${this.width})`;
  }
}
