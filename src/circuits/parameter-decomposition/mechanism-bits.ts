// The description length of (network, dataset) in terms of a parameter decomposition's mechanisms.
// A dictionary's code must carry each feature's magnitude, because the decoder rebuilds the activation
// from the code alone (../../metrics/description-length.ts). A parameter decomposition is different:
// the network still runs on the input and computes every magnitude itself; what the decomposition
// adds is *which* mechanisms (subcomponents) the input needs. So the cost per input is the firing
// part alone: Σ_c H_b(p_c) over every subcomponent of every matrix, where subcomponent c "fires" on an
// input when its causal importance exceeds a threshold τ, and τ is as high (as few mechanisms as
// possible) as keeps the output of the network, run with only the firing subcomponents, within a
// tolerance of the output with all of them — the same role the quantisation grid plays for MDL-SAEs.
// Coding each subcomponent independently overcounts mechanisms that always fire together (SPD's
// subcomponents are per matrix: one feature's subcomponent in W and in Wᵀ fire on the same inputs), so
// the empirical entropy of the whole firing pattern (the joint code) is reported beside it.
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import { binaryEntropy, coarsestWithin, countsEntropy } from "../../metrics/description-length.js";

/** What a decomposition must answer for its description length (per layer: [rows][C]). */
export interface MechanismSource {
  readonly layerNames: readonly string[];
  readonly components: number;
  /** Causal importances g ∈ [0, 1] of every subcomponent of every layer, per layer [rows][C]. */
  importances(x: number[][]): number[][][];
  /** The decomposed model's outputs with each subcomponent kept (1) or ablated (0), masks per layer [rows][C]. */
  maskedOutput(x: number[][], masks: number[][][]): number[][];
  /** The target model's outputs. */
  targetOutput(x: number[][]): number[][];
}

/** Options of `dec.descriptionLength`. */
export interface MechanismBitsOptions {
  /** FVU (of the target's output) allowed above that of all subcomponents kept (default 0.01). */
  tolerance?: number;
  /** An FVU bound to meet instead of the tolerance. */
  target?: number;
  /** Fix the causal-importance threshold instead of searching for it. */
  threshold?: number;
}

const OPTIONS = optionNames<MechanismBitsOptions>({ tolerance: true, target: true, threshold: true });

/** One subcomponent's share. */
export interface SubcomponentBits {
  layer: string;
  component: number;
  /** Fraction of inputs it fires on (causal importance > τ). */
  p: number;
  /** H_b(p). */
  bits: number;
}

/** What `dec.descriptionLength` returns. */
export class MechanismDescriptionLength {
  constructor(
    /** Σ_c H_b(p_c) over every subcomponent of every layer: bits per input, each subcomponent coded on its own. */
    readonly bitsPerInput: number,
    /** Empirical entropy of the firing pattern as a whole: bits per input when mechanisms that fire together are coded together. A plug-in estimate over `rows` inputs, so at most log₂ rows and biased low when most patterns are rare (TMS 40-10: 8.5 bits on 4,000 rows, where the inputs' own firing entropy is 11.5). */
    readonly jointBits: number,
    /** Mean number of firing subcomponents per input, all layers. */
    readonly l0: number,
    /** Per layer: its bits and mean firing subcomponents. */
    readonly perLayer: readonly { layer: string; bits: number; l0: number }[],
    /** τ, the causal-importance threshold chosen. */
    readonly threshold: number,
    /** FVU of the target's output with only the firing subcomponents. */
    readonly loss: number,
    /** FVU with every subcomponent kept (what faithfulness leaves). */
    readonly lossAllKept: number,
    /** The bound the loss had to stay within. */
    readonly bound: number,
    readonly meetsTarget: boolean,
    readonly subcomponents: readonly SubcomponentBits[],
    readonly rows: number,
  ) {}

  /**
   * The numbers as a plain record (fl.show draws it as a card).
   * @example
   * fl.show((await dec.descriptionLength(target.sample(4000))).toRecord());
   */
  toRecord(): Record<string, number | boolean> {
    return { bitsPerInput: this.bitsPerInput, jointBits: this.jointBits, l0: this.l0, threshold: this.threshold, fvu: this.loss, fvuAllKept: this.lossAllKept, bound: this.bound, meetsTarget: this.meetsTarget, rows: this.rows };
  }

  /**
   * The subcomponents that fire at all, most expensive first.
   * @example
   * console.table((await dec.descriptionLength(target.sample(4000))).perSubcomponent(10));
   */
  perSubcomponent(limit = Infinity): SubcomponentBits[] {
    return this.subcomponents.filter((s) => s.p > 0).sort((a, b) => b.bits - a.bits).slice(0, limit).map((s) => ({ ...s }));
  }

  /** "MechanismDescriptionLength(2.86 bits/input, joint 1.43; L0 0.50, τ 0.12, FVU 0.003)". */
  toString(): string {
    return `MechanismDescriptionLength(${this.bitsPerInput.toFixed(2)} bits/input, joint ${this.jointBits.toFixed(2)}; L0 ${this.l0.toFixed(2)}, τ ${this.threshold.toPrecision(3)}, FVU ${this.loss.toPrecision(3)})`;
  }
}

/** FVU of outputs y against the target t: Σ(y − t)² / Σ(t − t̄)², t̄ per output dimension. */
export function outputFvu(y: number[][], t: number[][]): number {
  const n = t.length, d = t[0]?.length ?? 0;
  let err = 0, centred = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += t[r][j];
    mean /= n;
    for (let r = 0; r < n; r++) {
      err += (y[r][j] - t[r][j]) ** 2;
      centred += (t[r][j] - mean) ** 2;
    }
  }
  return centred > 0 ? err / centred : err === 0 ? 0 : Infinity;
}

/** Halvings of τ tried from 1 down, then bisections in log τ between the last failing and first passing (as the MDL grid). */
const MAX_HALVINGS = 30;
const REFINEMENTS = 8;

/**
 * Bits per input of a decomposition's firing mechanisms on inputs x, with τ chosen by the output FVU
 * (see the file comment).
 */
export async function mechanismDescriptionLength(entry: string, src: MechanismSource, x: number[][], opts: MechanismBitsOptions = {}): Promise<MechanismDescriptionLength> {
  rejectUnknownOptions(entry, opts, OPTIONS);
  for (const key of ["tolerance", "target", "threshold"] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    const ok = typeof v === "number" && Number.isFinite(v) && (key === "target" ? v > 0 : v >= 0) && (key !== "threshold" || v <= 1);
    if (!ok) throw new InputError(undefined, `${entry}: option '${key}' must be a finite number ${key === "target" ? "> 0" : key === "threshold" ? "in [0, 1]" : "≥ 0"}, got ${String(v)}`);
  }
  if (opts.threshold !== undefined && (opts.target !== undefined || opts.tolerance !== undefined)) {
    throw new InputError(undefined, `${entry}: option 'threshold' fixes τ; 'target' and 'tolerance' choose it — give one or the other`);
  }
  if (!Array.isArray(x) || x.length === 0) throw new InputError(undefined, `${entry}: the inputs must be a non-empty array of rows`);
  const C = src.components, n = x.length;
  const g = src.importances(x);
  const target = src.targetOutput(x);
  const masksAt = (tau: number) => g.map((layer) => layer.map((row) => row.map((v) => (v > tau ? 1 : 0))));
  const lossAt = (tau: number) => outputFvu(src.maskedOutput(x, masksAt(tau)), target);
  const allKept = outputFvu(src.maskedOutput(x, g.map((layer) => layer.map((row) => row.map(() => 1)))), target);
  let bound = opts.target ?? allKept + (opts.tolerance ?? 0.01);
  let meetsTarget = true;
  if (opts.target !== undefined && allKept > opts.target) {
    meetsTarget = false;
    bound = allKept + (opts.tolerance ?? 0.01);
  }
  let tau: number, loss: number;
  if (opts.threshold !== undefined) {
    tau = opts.threshold;
    loss = lossAt(tau);
    meetsTarget = loss <= bound;
  } else {
    const found = await coarsestWithin((e) => lossAt(2 ** -e), bound, MAX_HALVINGS, REFINEMENTS);
    if (!found.within) meetsTarget = false;
    tau = 2 ** -found.e;
    loss = found.loss;
  }
  const masks = masksAt(tau);
  const subcomponents: SubcomponentBits[] = [];
  const perLayer = src.layerNames.map((layer, l) => {
    let bits = 0, fired = 0;
    for (let c = 0; c < C; c++) {
      let k = 0;
      for (let r = 0; r < n; r++) k += masks[l][r][c];
      const p = k / n;
      subcomponents.push({ layer, component: c, p, bits: binaryEntropy(p) });
      bits += binaryEntropy(p);
      fired += k;
    }
    return { layer, bits, l0: fired / n };
  });
  const patterns = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const key = masks.map((layer) => layer[r].join("")).join("|");
    patterns.set(key, (patterns.get(key) ?? 0) + 1);
  }
  return new MechanismDescriptionLength(
    perLayer.reduce((s, p) => s + p.bits, 0),
    countsEntropy(patterns.values()),
    perLayer.reduce((s, p) => s + p.l0, 0),
    perLayer,
    tau,
    loss,
    allKept,
    bound,
    meetsTarget,
    subcomponents,
    n,
  );
}
