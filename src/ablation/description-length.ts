// fl.descriptionLength and fl.descriptionLengthSweep: the MDL-SAE description length of a dictionary's
// code (../metrics/description-length.ts has the definition), with the quantisation grid chosen by the
// reconstruction's FVU or — given a model and hook — by the next-token CE with the quantised
// reconstruction spliced in at the hook (spliceEval), as the paper allows either ("reconstruction or
// cross-entropy loss"). The sweep scores several dictionaries against one target loss: the paper's
// comparison of description lengths at matched loss.
import { tf } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";
import { Dictionary } from "../dictionaries/dictionary.js";
import type { HookedModel } from "../models/hooked-model.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import {
  checkActs, checkGrid, describe, disposeEncoded, encodeSet, quantizeCodes, reconstructionLoss,
  type DescriptionLength, type GridChoice, type QuantizedLoss,
} from "../metrics/description-length.js";
import { spliceEval } from "./splice-eval.js";

/** Options of `fl.descriptionLength`. */
export interface DescriptionLengthOptions extends GridChoice {
  /** Choose the grid by the spliced-in next-token CE of this model (with `hook` and `input`) instead of the reconstruction's FVU. */
  model?: HookedModel;
  /** The hook the dictionary reads and is spliced into. */
  hook?: string;
  /** Token ids or text the spliced CE is measured on (acts should be the hook's activations on it). */
  input?: unknown;
  /** Positions left alone in the spliced run (default [0], as spliceEval). */
  ignorePositions?: readonly number[];
  batchSize?: number;
}

const DL_OPTIONS = optionNames<DescriptionLengthOptions>({
  tolerance: true, target: true, step: true, model: true, hook: true, input: true, ignorePositions: true, batchSize: true,
});

function checkOptions(entry: string, opts: DescriptionLengthOptions): void {
  rejectUnknownOptions(entry, opts, DL_OPTIONS);
  checkGrid(entry, opts);
  if (opts.model !== undefined) {
    if (typeof opts.hook !== "string" || !opts.hook) throw new InputError(undefined, `${entry}: option 'model' needs option 'hook' — the hook point the dictionary is spliced into`);
    if (opts.input === undefined) throw new InputError(undefined, `${entry}: option 'model' needs option 'input' — the tokens the spliced CE is measured on`);
  } else {
    for (const key of ["hook", "input", "ignorePositions"] as const) {
      if (opts[key] !== undefined) throw new InputError(undefined, `${entry}: option '${key}' is read only with option 'model' (the grid is chosen by spliced CE only when a model is given)`);
    }
  }
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) {
    throw new InputError(undefined, `${entry}: option 'batchSize' must be a positive integer, got ${String(opts.batchSize)}`);
  }
}

/** The dictionary with its code quantised to `step` (bin midpoints), for splicing: the same weights, another encoder output. */
function quantizedDictionary(dict: Dictionary, step: number): Dictionary {
  const q = Object.create(dict) as Dictionary;
  Object.defineProperty(q, "encodeTensor", {
    value: (x: tf.Tensor2D): tf.Tensor2D => {
      const f = dict.encodeTensor(x);
      const codes = quantizeCodes(f.dataSync() as Float32Array, step);
      const shape = f.shape;
      f.dispose();
      return tf.tensor2d(codes, shape);
    },
  });
  return q;
}

async function measure(entry: string, dict: Dictionary, acts: ActivationSet, opts: DescriptionLengthOptions): Promise<DescriptionLength> {
  if (!(dict instanceof Dictionary)) throw new InputError(undefined, `${entry}: expected a dictionary (fl.dictionary(…).fit, fl.loadDictionary), got ${dict === null ? "null" : typeof dict}`);
  checkActs(entry, dict, acts);
  if (dict.weights.W_dec.shape[1] !== dict.dIn) {
    throw new InputError(undefined, `${entry}: the dictionary predicts vectors of dim ${dict.weights.W_dec.shape[1]} from inputs of dim ${dict.dIn} (a transcoder); description length here scores dictionaries that reconstruct their input`);
  }
  const set = await encodeSet(dict, acts, opts.batchSize);
  try {
    const grid = { tolerance: opts.tolerance, target: opts.target, step: opts.step };
    if (!opts.model) return await describe(set, reconstructionLoss(dict, set), "fvu", grid);
    const { model, hook, input, ignorePositions, batchSize } = opts;
    const spliced: QuantizedLoss = async (step) => {
      const d = step === undefined ? dict : quantizedDictionary(dict, step);
      return (await spliceEval(model, d, { hook: hook!, input, ignorePositions, batchSize })).ceSpliced;
    };
    return await describe(set, spliced, "ce", grid);
  } finally {
    disposeEncoded(set);
  }
}

/**
 * The description length of a dictionary's code in bits per token, as the MDL-SAE paper defines it:
 * Σ_i [H_b(p_i) + p_i·H(q_i)] — for each feature, the binary entropy of whether it fires plus, when
 * it fires, the entropy of its activation on a grid of step Δ. Δ is the coarsest that keeps the
 * reconstruction's FVU (or, with `model`, `hook` and `input`, the spliced-in CE) within `tolerance`
 * (default 0.01) of the unquantised code's, or within `target`. Reports bits/token, the per-feature
 * breakdown, L0, Δ and the loss at Δ.
 * @example
 * const dl = await fl.descriptionLength(sae, acts, { tolerance: 0.01 });
 * fl.show(dl.toRecord());
 * const atHook = await fl.descriptionLength(sae, acts, { model, hook: "blocks.0.hook_resid_post", input: tokens, tolerance: 0.02 });
 */
export async function descriptionLength(sae: Dictionary, acts: ActivationSet, opts: DescriptionLengthOptions = {}): Promise<DescriptionLength> {
  checkOptions("descriptionLength", opts);
  return measure("descriptionLength", sae, acts, opts);
}

/** One dictionary's row of a description-length sweep. */
export interface DescriptionLengthRow {
  name: string;
  /** Architecture and, for TopK-style dictionaries, k: one line per family in the figure. */
  family: string;
  architecture: string;
  width: number;
  /** k of TopK / BatchTopK dictionaries, else undefined. */
  k: number | undefined;
  l0: number;
  bitsPerToken: number;
  firingBits: number;
  magnitudeBits: number;
  step: number;
  precisionBits: number;
  /** "fvu" or "ce". */
  lossName: string;
  loss: number;
  lossUnquantized: number;
  meetsTarget: boolean;
}

/** What `fl.descriptionLengthSweep` returns: one row per dictionary, scored against one loss bound. */
export class DescriptionLengthSweep {
  constructor(
    readonly rows: readonly DescriptionLengthRow[],
    /** The shared target loss, if one was given (matched-loss comparison). */
    readonly target: number | undefined,
    /** The full results by name. */
    readonly results: Readonly<Record<string, DescriptionLength>>,
  ) {}

  /** The row of least description length among those meeting the target. */
  get best(): DescriptionLengthRow | undefined {
    return this.rows.filter((r) => r.meetsTarget).reduce<DescriptionLengthRow | undefined>((b, r) => (b === undefined || r.bitsPerToken < b.bitsPerToken ? r : b), undefined);
  }

  /**
   * The rows as plain records (fl.show draws them as a table).
   * @example
   * fl.show(sweep.table());
   */
  table(): Record<string, number | string | boolean>[] {
    return this.rows.map((r) => ({
      name: r.name, family: r.family, width: r.width, k: r.k ?? "", l0: r.l0, bitsPerToken: r.bitsPerToken,
      firingBits: r.firingBits, magnitudeBits: r.magnitudeBits, step: r.step, precisionBits: r.precisionBits,
      [r.lossName]: r.loss, [`${r.lossName}Unquantized`]: r.lossUnquantized, meetsTarget: r.meetsTarget,
    }));
  }

  /** A one-line summary: how many dictionaries, the target, and the least description length. */
  toString(): string {
    const b = this.best;
    return `DescriptionLengthSweep(${this.rows.length} dictionaries${this.target === undefined ? "" : `, target ${this.target}`}${b ? `; least: ${b.name}, ${b.bitsPerToken.toFixed(2)} bits/token` : ""})`;
  }
}

/**
 * Description lengths of several dictionaries on the same activations, each with the grid chosen
 * against the same `target` loss (FVU, or spliced CE with `model`): the comparison at matched loss.
 * Description length against width traces a U: too narrow, the loss misses the target or each active
 * feature's magnitude costs many bits; too wide, many features each cost firing entropy.
 * @example
 * const sweep = await fl.descriptionLengthSweep({ w512: sae512, w4096: sae4096 }, acts, { target: 0.05 });
 * fl.show(sweep.table());
 * fl.show(fl.plot.descriptionLength(sweep));
 */
export async function descriptionLengthSweep(dictionaries: Readonly<Record<string, Dictionary>>, acts: ActivationSet, opts: DescriptionLengthOptions = {}): Promise<DescriptionLengthSweep> {
  checkOptions("descriptionLengthSweep", opts);
  if (typeof dictionaries !== "object" || dictionaries === null || Array.isArray(dictionaries) || dictionaries instanceof Dictionary || Object.keys(dictionaries).length === 0) {
    throw new InputError(undefined, "descriptionLengthSweep: the first argument must be a non-empty record of dictionaries by name, { name: sae, … }");
  }
  const rows: DescriptionLengthRow[] = [];
  const results: Record<string, DescriptionLength> = {};
  for (const [name, dict] of Object.entries(dictionaries)) {
    const r = await measure(`descriptionLengthSweep: '${name}'`, dict, acts, opts);
    results[name] = r;
    const k = typeof dict.cfg.k === "number" ? dict.cfg.k : undefined;
    const architecture = String(dict.cfg.architecture);
    rows.push({
      name, family: k === undefined ? architecture : `${architecture} k=${k}`, architecture, width: dict.width, k,
      l0: r.l0, bitsPerToken: r.bitsPerToken, firingBits: r.firingBits, magnitudeBits: r.magnitudeBits, step: r.step,
      precisionBits: r.precisionBits, lossName: r.lossName, loss: r.loss, lossUnquantized: r.lossUnquantized, meetsTarget: r.meetsTarget,
    });
  }
  return new DescriptionLengthSweep(rows, opts.target, results);
}
