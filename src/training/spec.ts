// fl.dictionary(arch, options) → a DictionarySpec: what to train, before any data is seen.
// Each call returns a new immutable value, so notebook cells can be re-run.
import type { ActivationSet } from "../data/activation-set.js";
import type { ActivationStream } from "../data/stream.js";
import { isPair, type Pair } from "../data/paired.js";
import { architecture, factory } from "../dictionaries/registry.js";
import type { Dictionary } from "../dictionaries/dictionary.js";
import { rejectUnknownOptions } from "../io/options.js";
import { fit, type FitOptions } from "./fit.js";

/** Options of `fl.dictionary`: width, λ, and the architecture's own options (see each architecture). */
export interface DictionaryOptions {
  /** Number of features (d_sae). */
  width: number;
  /** Sparsity coefficient λ, as SAELens' l1_coefficient (default 1). */
  l1?: number;
  /** Architecture options (k for TopK, …), passed to the architecture. */
  [option: string]: unknown;
}

/**
 * An untrained dictionary: architecture and options. `fit` trains one; `with` varies options for sweeps.
 *
 * @example
 * const spec = fl.dictionary("relu", { width: 512, l1: 5 });
 * const sweep = await Promise.all([1, 5, 20].map((l1) => spec.with({ l1 }).fit(acts, { steps: 1000 })));
 */
export class DictionarySpec {
  readonly arch: string;
  readonly options: Readonly<DictionaryOptions>;

  constructor(arch: string, options: DictionaryOptions) {
    rejectUnknownOptions(`dictionary("${arch}")`, options, ["width", "l1", ...factory(arch).optionNames]);
    if (!options || !Number.isInteger(options.width) || options.width < 1) {
      throw new Error(`featurelab: dictionary("${arch}"): width must be a positive integer, got ${options?.width}`);
    }
    if (options.l1 !== undefined && !(options.l1 >= 0)) {
      throw new Error(`featurelab: dictionary("${arch}"): l1 must be ≥ 0, got ${options.l1}`);
    }
    const { width: _w, l1: _l, ...archOptions } = options;
    architecture(arch, archOptions); // fails early on an unknown name or a bad option
    this.arch = arch;
    this.options = Object.freeze({ ...options });
  }

  /**
   * The same spec with some options changed.
   * @example
   * const wider = spec.with({ width: 1024 });
   */
  with(changes: Partial<DictionaryOptions>): DictionarySpec {
    return new DictionarySpec(this.arch, { ...this.options, ...changes });
  }

  /** Train on a set of activations. */
  /**
   * Train on a set (or stream) of activations; a transcoder on `{ input, output }` sets, row by row.
   * @example
   * const sae = await spec.fit(acts, { steps: 2000, batchSize: 1024, lr: 3e-4, seed: 0 });
   * const tc = await fl.dictionary("transcoder", { width: 512, l1: 5 }).fit({ input: pre, output: post });
   */
  async fit(acts: ActivationSet | ActivationStream | Pair, opts: FitOptions = {}): Promise<Dictionary> {
    const { width, l1 = 1, ...archOptions } = this.options;
    const takesPairs = factory(this.arch).optionNames.includes("d_out");
    if (isPair(acts) !== takesPairs) {
      throw new Error(
        takesPairs
          ? `featurelab: ${this.arch} trains on { input, output } sets (a component's input and its output, row by row)`
          : `featurelab: ${this.arch} trains on one set of activations; { input, output } pairs are for "transcoder" and "skip-transcoder"`,
      );
    }
    const options = isPair(acts) ? { ...archOptions, d_out: acts.output.dim } : archOptions;
    return fit({ arch: architecture(this.arch, options), width, l1 }, acts, opts);
  }

  /** "DictionarySpec(arch, options)". */
  toString(): string {
    return `DictionarySpec(${this.arch}, ${JSON.stringify(this.options)})`;
  }
}

/**
 * A dictionary to train: an architecture name (`"relu"`, `"topk"`, `"batchtopk"`, `"matryoshka"`,
 * `"jumprelu"`, `"gated"`, `"transcoder"`, `"skip-transcoder"`) and its options. A misspelt option or
 * architecture is refused by name.
 *
 * @example
 * const sae = await fl.dictionary("relu", { width: 8 * acts.dim, l1: 5 }).fit(acts, { steps: 2000, seed: 0 });
 */
export function dictionary(arch: string, options: DictionaryOptions): DictionarySpec {
  return new DictionarySpec(arch, options);
}
