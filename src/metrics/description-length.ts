// Description length of a sparse code, as the MDL-SAE paper defines it (Ayonrinde, Pearce & Sharkey
// 2024, "Interpretability as Compression: Reconsidering SAE Explanations of Neural Activations with
// MDL-SAEs"). The SAE is a lossy compressor of the (network, dataset) activations; what it sends per
// token is its code, and the cost of the code in bits per token is
//
//     DL = Σ_i [ H_b(p_i) + p_i · H(q_i) ]
//
// p_i the fraction of tokens feature i fires on, H_b the binary entropy of "does it fire", q_i the
// distribution of its activation, given that it fires, quantised to a grid of step Δ. The decoder is
// sent once and amortised over the dataset, so it is not counted (the paper's argument). Δ is the
// paper's "effective precision": one step for all features, as coarse as keeps the loss (FVU of the
// reconstruction here; spliced-in CE in ../ablation/description-length.ts) within a bound.
//
// Where the paper is not explicit, we chose (and say so in the code): the grid's origin (0), the value
// a bin decodes to (its midpoint, as SAEBench's MDL eval does, so a firing feature never quantises to
// zero and the firing pattern — hence H_b — is unchanged by quantisation), the ladder of candidate
// steps (the largest activation halved repeatedly, then 4 bisections in log step), and the loss
// measured (FVU, REFERENCE.md, for reconstruction).
import { tf, ready } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";
import { InputError } from "../io/errors.js";
import type { Reconstructor } from "./reconstruction.js";

/** H_b(p) = −p log₂ p − (1−p) log₂(1−p), in bits (0 at p = 0 or 1). */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
}

/** Entropy in bits of the distribution given by counts (zero counts ignored). */
export function countsEntropy(counts: Iterable<number>): number {
  counts = [...counts];
  let total = 0;
  for (const c of counts) total += c;
  if (total <= 0) return 0;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log2(c / total);
  return h;
}

/**
 * The grid bin of a (nonzero) activation: floor(f/Δ). Bins start at 0 (our choice; the paper does not
 * say where its grid starts), so on a ReLU-style code bin k holds [kΔ, (k+1)Δ).
 */
export function quantizeBin(f: number, step: number): number {
  return Math.floor(f / step);
}

/** The value a bin decodes to: its midpoint (k + ½)Δ, as SAEBench's MDL eval decodes its histogram bins. */
export function quantizeValue(f: number, step: number): number {
  return (Math.floor(f / step) + 0.5) * step;
}

/** One feature's share of the description length. */
export interface FeatureBits {
  feature: number;
  /** p_i: fraction of tokens it fires on. */
  p: number;
  /** H_b(p_i): bits for whether it fires. */
  firingBits: number;
  /** H(q_i): bits for its quantised activation when it fires. */
  magnitudeEntropy: number;
  /** p_i·H(q_i). */
  magnitudeBits: number;
  /** H_b(p_i) + p_i·H(q_i). */
  bits: number;
  /** Number of distinct grid levels it used. */
  levels: number;
}

/** The definition on a code matrix: bits per token of codes [rows, width] (row-major) on a grid of step Δ. */
export interface CodeBits {
  bitsPerToken: number;
  firingBits: number;
  magnitudeBits: number;
  l0: number;
  features: FeatureBits[];
}

/**
 * Σ_i [H_b(p_i) + p_i·H(q_i)] of a code matrix, from per-feature firing counts and per-feature
 * histograms of grid bins over the rows it fires on.
 */
export function codeBits(codes: Float32Array | readonly (readonly number[])[], width: number, step: number): CodeBits {
  const acc = new BitsAccumulator(width);
  if (Array.isArray(codes)) for (const row of codes as readonly (readonly number[])[]) acc.add(Float32Array.from(row), 1, step);
  else acc.add(codes as Float32Array, (codes as Float32Array).length / width, step);
  return acc.result();
}

/** Firing counts and per-feature histograms of grid bins, accumulated over batches. */
class BitsAccumulator {
  private readonly fires: Float64Array;
  private readonly bins: Map<number, number>[];
  private rows = 0;
  constructor(private readonly width: number) {
    this.fires = new Float64Array(width);
    this.bins = Array.from({ length: width }, () => new Map());
  }
  add(codes: Float32Array, rows: number, step: number): void {
    const w = this.width;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < w; i++) {
        const f = codes[r * w + i];
        if (f === 0) continue;
        this.fires[i]++;
        const k = quantizeBin(f, step);
        this.bins[i].set(k, (this.bins[i].get(k) ?? 0) + 1);
      }
    }
    this.rows += rows;
  }
  result(): CodeBits {
    const n = this.rows;
    let firingBits = 0, magnitudeBits = 0, l0 = 0;
    const features: FeatureBits[] = [];
    for (let i = 0; i < this.width; i++) {
      const p = n > 0 ? this.fires[i] / n : 0;
      const hb = binaryEntropy(p);
      const hq = countsEntropy(this.bins[i].values());
      firingBits += hb;
      magnitudeBits += p * hq;
      l0 += p;
      features.push({ feature: i, p, firingBits: hb, magnitudeEntropy: hq, magnitudeBits: p * hq, bits: hb + p * hq, levels: this.bins[i].size });
    }
    return { bitsPerToken: firingBits + magnitudeBits, firingBits, magnitudeBits, l0, features };
  }
}

/** What `fl.descriptionLength` returns: bits per token of the dictionary's code at the chosen grid, and how the grid was chosen. */
export class DescriptionLength {
  constructor(
    /** Σ_i [H_b(p_i) + p_i·H(q_i)]: bits per token (row) to send the code. */
    readonly bitsPerToken: number,
    /** Σ_i H_b(p_i): the part that says which features fire. */
    readonly firingBits: number,
    /** Σ_i p_i·H(q_i): the part that says how strongly. */
    readonly magnitudeBits: number,
    /** Mean number of firing features per token (= Σ_i p_i). */
    readonly l0: number,
    /** Δ, the quantisation step chosen (NaN when no feature fires). */
    readonly step: number,
    /** log₂(max activation / Δ): the effective precision, bits to name a level of the largest activation's range. */
    readonly precisionBits: number,
    /** "fvu" (reconstruction) or "ce" (spliced-in next-token loss, nats). */
    readonly lossName: "fvu" | "ce",
    /** The loss with the code quantised to Δ. */
    readonly loss: number,
    /** The loss with the code unquantised. */
    readonly lossUnquantized: number,
    /** The bound the quantised loss had to stay within (target, or unquantised + tolerance). */
    readonly bound: number,
    /** Whether the loss at Δ is within the target (false: even the finest grid, or the unquantised code, misses it). */
    readonly meetsTarget: boolean,
    /** Per-feature breakdown. */
    readonly features: readonly FeatureBits[],
    readonly rows: number,
    readonly width: number,
  ) {}

  /** L0·(log₂ width + precisionBits): the paper's naive upper bound (send each active feature's index and its value). */
  get upperBound(): number {
    return this.l0 * (Math.log2(this.width) + Math.max(0, this.precisionBits));
  }

  /**
   * The numbers as a plain record (fl.show displays it as a card).
   * @example
   * fl.show((await fl.descriptionLength(sae, acts)).toRecord());
   */
  toRecord(): Record<string, number | string | boolean> {
    return {
      bitsPerToken: this.bitsPerToken,
      firingBits: this.firingBits,
      magnitudeBits: this.magnitudeBits,
      l0: this.l0,
      step: this.step,
      precisionBits: this.precisionBits,
      [this.lossName]: this.loss,
      [`${this.lossName}Unquantized`]: this.lossUnquantized,
      bound: this.bound,
      meetsTarget: this.meetsTarget,
      upperBound: this.upperBound,
      width: this.width,
      rows: this.rows,
    };
  }

  /**
   * The per-feature breakdown, most expensive first (records fl.show draws as a table).
   * @example
   * fl.show((await fl.descriptionLength(sae, acts)).perFeature(10));
   */
  perFeature(limit = Infinity): Record<string, number>[] {
    return [...this.features]
      .sort((a, b) => b.bits - a.bits)
      .slice(0, limit)
      .map((f) => ({ ...f }));
  }

  /** A one-line summary: bits per token, its two parts, L0, Δ and the loss. */
  toString(): string {
    return `DescriptionLength(${this.bitsPerToken.toFixed(2)} bits/token: ${this.firingBits.toFixed(2)} firing + ${this.magnitudeBits.toFixed(2)} magnitude; L0 ${this.l0.toFixed(2)}, Δ ${this.step.toPrecision(3)}, ${this.lossName} ${this.loss.toPrecision(4)})`;
  }
}

/** How the grid is chosen. Exactly one of: a fixed `step`; a `target` loss; a `tolerance` over the unquantised loss (the default, 0.01). */
export interface GridChoice {
  /** Largest allowed increase of the loss over the unquantised code's (FVU, or CE in nats). Default 0.01. */
  tolerance?: number;
  /** Largest allowed loss (matched-loss comparisons across dictionaries). */
  target?: number;
  /** A fixed step Δ (no search). */
  step?: number;
}

/** Loss of the code quantised to a step (undefined: unquantised). */
export type QuantizedLoss = (step: number | undefined) => Promise<number>;

/** Halvings of the largest activation tried before giving up (2⁻²⁴ is below float32's relative precision). */
const MAX_HALVINGS = 24;
/** Bisections in log step between the last failing and first passing power of two: Δ to within 2^(1/16). */
const REFINEMENTS = 4;

export function checkGrid(entry: string, opts: GridChoice): void {
  for (const key of ["tolerance", "target", "step"] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    const ok = typeof v === "number" && Number.isFinite(v) && (key === "tolerance" ? v >= 0 : v > 0);
    if (!ok) throw new InputError(undefined, `${entry}: option '${key}' must be a finite number ${key === "tolerance" ? "≥ 0" : "> 0"}, got ${String(v)}`);
  }
  if (opts.step !== undefined && (opts.target !== undefined || opts.tolerance !== undefined)) {
    throw new InputError(undefined, `${entry}: option 'step' fixes the grid; 'target' and 'tolerance' choose it — give one or the other`);
  }
}

/** The dictionary's codes of every row, kept (dense, per batch) so each candidate step re-quantises without re-encoding. */
export interface EncodedSet {
  batches: { x: tf.Tensor2D; codes: Float32Array; rows: number }[];
  width: number;
  rows: number;
  /** Largest |activation| over the set. */
  maxAbs: number;
  /** Σ(x − x̄)² over the set, per-dimension mean (FVU's denominator). */
  centred: number;
}

export function checkActs(entry: string, model: Reconstructor & { dIn?: number }, acts: ActivationSet): void {
  if (!acts || typeof (acts as ActivationSet).rowBatches !== "function") throw new InputError(undefined, `${entry}: 'acts' must be an ActivationSet (fl.load, fl.fromVectors, fl.toy.sharkey …)`);
  if (acts.numRows === 0) throw new InputError(undefined, `${entry}: 'acts' has no rows`);
  if (model.dIn !== undefined && acts.dim !== model.dIn) {
    throw new InputError(undefined, `${entry}: 'acts' has vectors of dim ${acts.dim}, but the dictionary reads vectors of dim ${model.dIn} (shape [${acts.numRows}, ${acts.dim}] vs [rows, ${model.dIn}])`);
  }
}

export async function encodeSet(model: Reconstructor, acts: ActivationSet, batchSize = 2048): Promise<EncodedSet> {
  await ready();
  const batches: EncodedSet["batches"] = [];
  let maxAbs = 0;
  const sum = new Float64Array(acts.dim), sum2 = new Float64Array(acts.dim);
  for (const b of acts.rowBatches({ size: batchSize })) {
    const x = tf.keep(tf.tensor2d(b.vectors, [b.rows, acts.dim]));
    const f = tf.tidy(() => model.encodeTensor(x));
    const codes = f.dataSync() as Float32Array;
    f.dispose();
    for (const v of codes) if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    for (let r = 0; r < b.rows; r++) {
      for (let j = 0; j < acts.dim; j++) {
        const v = b.vectors[r * acts.dim + j];
        sum[j] += v;
        sum2[j] += v * v;
      }
    }
    batches.push({ x, codes, rows: b.rows });
  }
  const n = acts.numRows;
  let centred = 0;
  for (let j = 0; j < acts.dim; j++) centred += sum2[j] - (sum[j] * sum[j]) / n;
  return { batches, width: model.width, rows: n, maxAbs, centred };
}

export function disposeEncoded(set: EncodedSet): void {
  for (const b of set.batches) b.x.dispose();
}

/** Every nonzero activation replaced by its bin's midpoint (zeros stay zero: the firing pattern is kept). */
export function quantizeCodes(codes: Float32Array, step: number): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) if (codes[i] !== 0) out[i] = quantizeValue(codes[i], step);
  return out;
}

/** FVU of the reconstruction from the codes, quantised to `step` (undefined: as they are). */
export function reconstructionLoss(model: Reconstructor, set: EncodedSet): QuantizedLoss {
  return async (step) => {
    let err = 0;
    for (const b of set.batches) {
      const e = tf.tidy(() => {
        const f = tf.tensor2d(step === undefined ? b.codes : quantizeCodes(b.codes, step), [b.rows, set.width]);
        const xhat = model.reconstructTensor ? model.reconstructTensor(b.x, f) : model.decodeTensor(f);
        return tf.sum(tf.square(tf.sub(b.x, xhat)));
      });
      err += (await e.data())[0];
      e.dispose();
    }
    return err / set.centred;
  };
}

/**
 * The least e ≥ 0 (the coarsest setting 2^−e) whose loss is within the bound: e = 0, 1, … up to
 * `halvings`, then `refinements` bisections between the last failing and the first passing e. When no
 * e passes, the finest (`halvings`) with `within` false.
 */
export async function coarsestWithin(lossAt: (e: number) => number | Promise<number>, bound: number, halvings: number, refinements: number): Promise<{ e: number; loss: number; within: boolean }> {
  for (let e = 0; e <= halvings; e++) {
    const l = await lossAt(e);
    if (l > bound) continue;
    let lo = e - 1, hi = e, at = l;
    if (e > 0) {
      for (let r = 0; r < refinements; r++) {
        const mid = (lo + hi) / 2;
        const m = await lossAt(mid);
        if (m <= bound) {
          hi = mid;
          at = m;
        } else lo = mid;
      }
    }
    return { e: hi, loss: at, within: true };
  }
  return { e: halvings, loss: await lossAt(halvings), within: false };
}

/**
 * The description length of an encoded set, the grid chosen by `loss`: the coarsest step of the ladder
 * maxAbs·2^(−b), b = 0, 1, …, whose loss is within the bound, refined by bisection in log step
 * between it and the next coarser (failing) one. The bound is `target` if given, else the unquantised
 * loss + `tolerance` (default 0.01). When the target cannot be met (the unquantised loss misses it),
 * the grid falls back to the tolerance rule and `meetsTarget` is false.
 */
export async function describe(set: EncodedSet, loss: QuantizedLoss, lossName: "fvu" | "ce", grid: GridChoice): Promise<DescriptionLength> {
  const lossUnq = await loss(undefined);
  const tolerance = grid.tolerance ?? 0.01;
  let bound = grid.target ?? lossUnq + tolerance;
  let meetsTarget = true;
  if (grid.target !== undefined && lossUnq > grid.target) {
    meetsTarget = false;
    bound = lossUnq + tolerance;
  }
  let step: number;
  let at: number;
  if (set.maxAbs === 0) {
    step = NaN;
    at = lossUnq;
  } else if (grid.step !== undefined) {
    step = grid.step;
    at = await loss(step);
    meetsTarget = at <= bound;
  } else {
    const stepAt = (e: number) => set.maxAbs * 2 ** -e;
    const found = await coarsestWithin((e) => loss(stepAt(e)), bound, MAX_HALVINGS, REFINEMENTS);
    // Not even the finest grid stays within the bound (float noise at the bound): the finest is kept.
    if (!found.within) meetsTarget = false;
    step = stepAt(found.e);
    at = found.loss;
  }
  const acc = new BitsAccumulator(set.width);
  for (const b of set.batches) acc.add(b.codes, b.rows, Number.isNaN(step) ? 1 : step);
  const bits = acc.result();
  return new DescriptionLength(
    bits.bitsPerToken,
    bits.firingBits,
    bits.magnitudeBits,
    bits.l0,
    step,
    Number.isNaN(step) ? 0 : Math.log2(set.maxAbs / step),
    lossName,
    at,
    lossUnq,
    bound,
    meetsTarget,
    bits.features,
    set.rows,
    set.width,
  );
}
