// Hook functions that edit activations (pass them in `run(input, { hooks: { [name]: fn } })`):
// splice a dictionary's reconstruction in, add or scale a direction (steering), and zero-, mean- or
// resample-ablate units — heads (hook_z/q/k/v/pattern), neurons (mlp.hook_post), any axis, or a
// dictionary's features.
import { tf } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import type { Dictionary } from "../dictionaries/dictionary.js";
import { positionAxis, unitAxis, type HookContext, type HookFn } from "../models/hook-points.js";
import { checkSpliceable, inputScale, viewAt } from "./dictionary-at-hook.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** How units are ablated: set to zero, to their mean over the input, or to their value on another (shuffled) input. */
export type AblationMode = "zero" | "mean" | "resample";
export const MODES: readonly AblationMode[] = ["zero", "mean", "resample"];

export function checkMode(mode: string): asserts mode is AblationMode {
  if (!MODES.includes(mode as AblationMode)) throw new Error(`featurelab: ablation mode must be one of ${MODES.map((m) => `"${m}"`).join(", ")}, got '${mode}'`);
}

/** 1 at valid (document, position) cells, 0 at padding, shaped to broadcast against an activation. */
export function validMask(x: tf.Tensor, ctx: HookContext): tf.Tensor | undefined {
  const p = positionAxis(ctx.name, x.rank);
  if (p === undefined) return undefined;
  const B = x.shape[0], T = x.shape[p];
  const m = new Float32Array(B * T);
  ctx.lengths.forEach((len, b) => m.fill(1, b * T, b * T + Math.min(len, T)));
  const shape = x.shape.map((_, i) => (i === 0 ? B : i === p ? T : 1));
  return tf.tensor(m, shape);
}

/** Mean of an activation over the batch's valid (document, position) cells, keeping dims to broadcast. */
export function batchMean(x: tf.Tensor, ctx: HookContext): tf.Tensor {
  const p = positionAxis(ctx.name, x.rank);
  const mask = validMask(x, ctx);
  if (p === undefined || !mask) return tf.mean(x, 0, true);
  const count = ctx.lengths.reduce((s, l) => s + Math.min(l, x.shape[p]), 0);
  return tf.div(tf.sum(tf.mul(x, mask), [0, p], true), count);
}

/** A derangement of 0..n−1 when n > 1: every document takes its replacement from another one. */
export function resampleOrder(n: number, seed: number): Int32Array {
  if (n < 2) throw new Error("featurelab: resample ablation takes values from other documents of the batch; it needs at least 2 documents per batch");
  const rng = new Rng(seed);
  for (;;) {
    const p = rng.permutation(n);
    if (p.every((v, i) => v !== i)) return p;
  }
}

/** Options of `fl.hooks.ablate`. */
export interface UnitAblationOptions {
  /** Indices along the unit axis (heads for hook_z/q/k/v/pattern, else the last axis). */
  units: readonly number[];
  mode?: AblationMode;
  /** Unit axis, when the hook's name does not say it. */
  axis?: number;
  /** Replacement for "mean" (broadcastable to the activation); default: the batch's mean over valid positions. */
  mean?: tf.Tensor;
  /** Seed of the resample order. */
  seed?: number;
}

const UNIT_ABLATION_OPTIONS = optionNames<UnitAblationOptions>({ units: true, mode: true, axis: true, mean: true, seed: true });

/**
 * Units removed per copy of a batch stacked `perCopy.length` times along axis 0 (a sweep runs many
 * single-unit ablations in one forward pass this way): copy g loses perCopy[g]. 1 = kept. [G·n]
 */
function keepRows(n: number, perCopy: readonly (readonly number[])[], where: () => string): Float32Array {
  const keep = new Float32Array(perCopy.length * n).fill(1);
  perCopy.forEach((units, g) => {
    for (const u of units) {
      if (!Number.isInteger(u) || u < 0 || u >= n) throw new RangeError(`featurelab: unit ${u} out of range 0..${n - 1} ${where()}`);
      keep[g * n + u] = 0;
    }
  });
  return keep;
}

/** `t` repeated `copies` times along axis 0 (concat: tfjs-wasm's Tile kernel is ~16× slower). */
export function repeatRows<T extends tf.Tensor>(t: T, copies: number): T {
  return (copies === 1 ? t : tf.concat(new Array(copies).fill(t), 0)) as T;
}

/** Resample order over stacked copies: every copy of the batch is deranged the same way. */
function stackedOrder(rows: number, copies: number, seed: number): tf.Tensor1D {
  const B = rows / copies;
  const p = resampleOrder(B, seed);
  const out = new Int32Array(rows);
  for (let g = 0; g < copies; g++) for (let i = 0; i < B; i++) out[g * B + i] = g * B + p[i];
  return tf.tensor1d(out, "int32");
}

/** Replace some units of an activation: by zero, by their mean, or by their value in another document. */
export function ablateUnits(opts: UnitAblationOptions): HookFn {
  rejectUnknownOptions("hooks.ablate", opts, UNIT_ABLATION_OPTIONS);
  return ablateUnitsStacked([opts.units], opts);
}

/** ablateUnits on a batch stacked perCopy.length times: copy g ablates perCopy[g]. */
export function ablateUnitsStacked(perCopy: readonly (readonly number[])[], opts: Omit<UnitAblationOptions, "units">): HookFn {
  const mode = opts.mode ?? "zero";
  checkMode(mode);
  const G = perCopy.length;
  return (x, ctx) => {
    const axis = opts.axis ?? unitAxis(ctx.name, x.rank);
    const n = x.shape[axis];
    const keep = keepRows(n, perCopy, () => `on axis ${axis} of ${ctx.name} [${x.shape}]`);
    let k: tf.Tensor;
    if (G === 1) k = tf.tensor(keep, x.shape.map((_, i) => (i === axis ? n : 1)));
    else {
      const rows = x.shape[0], B = rows / G;
      const full = new Float32Array(rows * n);
      for (let r = 0; r < rows; r++) full.set(keep.subarray(Math.floor(r / B) * n, (Math.floor(r / B) + 1) * n), r * n);
      k = tf.tensor(full, x.shape.map((d, i) => (i === 0 ? rows : i === axis ? n : 1)));
    }
    const kept = tf.mul(x, k);
    if (mode === "zero") return kept;
    const other = mode === "mean" ? (opts.mean ?? batchMean(x, ctx)) : tf.gather(x, stackedOrder(x.shape[0], G, (opts.seed ?? 0) + ctx.batchStart), 0);
    return tf.add(kept, tf.mul(other, tf.sub(1, k)));
  };
}

/** Options of `fl.hooks.splice`. */
export interface SpliceOptions {
  /**
   * Keep the dictionary's error term x − x̂, so the model sees x exactly unless features are edited
   * (feature ablation then changes only those features' contributions). Default false: x̂ replaces x.
   */
  keepError?: boolean;
  /** Features to ablate inside the splice. */
  features?: readonly number[];
  mode?: AblationMode;
  /** Replacement feature values for "mean" [d_sae] (default: the batch's mean over rows). */
  mean?: ArrayLike<number>;
  seed?: number;
  /** Positions left untouched (SAELens leaves BOS tokens alone). */
  skipPositions?: readonly number[];
}

const SPLICE_OPTIONS = optionNames<SpliceOptions>({ keepError: true, features: true, mode: true, mean: true, seed: true, skipPositions: true });

/** Replace an activation by a dictionary's reconstruction, optionally with features ablated. */
export function splice(dict: Dictionary, opts: SpliceOptions = {}): HookFn {
  rejectUnknownOptions("hooks.splice", opts, SPLICE_OPTIONS);
  return spliceStacked(dict, [opts.features ?? []], opts);
}

/**
 * splice on a batch stacked perCopy.length times: copy g ablates features perCopy[g]. The copies are
 * the same batch up to this hook, so the dictionary encodes one copy and the features are repeated.
 */
export function spliceStacked(dict: Dictionary, perCopy: readonly (readonly number[])[], opts: Omit<SpliceOptions, "features"> = {}): HookFn {
  const mode = opts.mode ?? "zero";
  checkMode(mode);
  const G = perCopy.length;
  const keep = keepRows(dict.width, perCopy.map((fs) => fs.map((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= dict.width) throw new RangeError(`featurelab: feature ${i} out of range 0..${dict.width - 1}`);
    return i;
  })), () => "");
  const edits = perCopy.some((fs) => fs.length > 0);
  return (x, ctx) => {
    checkSpliceable(dict, ctx.name);
    const one = G > 1 ? tf.slice(x, 0, x.shape[0] / G) : x;
    const view = viewAt(dict, one, ctx.name);
    const copies = <T extends tf.Tensor>(t: T): T => repeatRows(t, G);
    const rows = copies(view.rows);
    const decode = (ff: tf.Tensor2D) => tf.reshape(tf.div(dict.reconstructTensor(rows, ff), inputScale(dict)), x.shape);
    let f = copies(view.features);
    if (edits) {
      const R = f.shape[0], W = dict.width;
      const k = tf.tensor3d(keep, [G, 1, W]);
      const f3 = tf.reshape(f, [G, R / G, W]);
      let other: tf.Tensor | undefined;
      if (mode === "mean") other = opts.mean ? tf.tensor2d(Float32Array.from(opts.mean), [1, W]) : validRowMean(f, x, ctx);
      if (mode === "resample") {
        // Another document's features at the same position.
        const perDoc = tf.reshape(f, [x.shape[0], -1, W]);
        other = tf.reshape(tf.gather(perDoc, stackedOrder(x.shape[0], G, (opts.seed ?? 0) + ctx.batchStart), 0), [G, R / G, W]);
      }
      const edited = other ? tf.add(tf.mul(f3, k), tf.mul(other, tf.sub(1, k))) : tf.mul(f3, k);
      f = tf.reshape(edited, [R, W]) as tf.Tensor2D;
    }
    const decoded = decode(f);
    const out = opts.keepError ? tf.add(x, tf.sub(decoded, copies(view.decode(view.features)))) : decoded;
    return keepPositions(out, x, ctx, opts.skipPositions);
  };
}

/** Mean of feature rows (document-major, as viewAt flattens [batch, pos, …]) over valid positions only. */
function validRowMean(f: tf.Tensor2D, x: tf.Tensor, ctx: HookContext): tf.Tensor {
  if (positionAxis(ctx.name, x.rank) !== 1) return tf.mean(f, 0, true);
  const B = x.shape[0], T = x.shape[1]!, rows = f.shape[0], perCell = rows / (B * T);
  const m = new Float32Array(rows);
  ctx.lengths.forEach((len, b) => m.fill(1, b * T * perCell, (b * T + Math.min(len, T)) * perCell));
  const count = m.reduce((s, v) => s + v, 0);
  return tf.div(tf.sum(tf.mul(f, tf.tensor2d(m, [rows, 1])), 0, true), count);
}

/** `edited` everywhere except at the given positions, where `x` stays. */
export function keepPositions(edited: tf.Tensor, x: tf.Tensor, ctx: HookContext, positions: readonly number[] | undefined): tf.Tensor {
  if (!positions || positions.length === 0) return edited;
  const p = positionAxis(ctx.name, x.rank);
  if (p === undefined) return edited;
  const T = x.shape[p];
  const m = new Float32Array(T).fill(1);
  for (const t of positions) if (t >= 0 && t < T) m[t] = 0;
  const mask = tf.tensor(m, x.shape.map((_, i) => (i === p ? T : 1)));
  return tf.add(tf.mul(edited, mask), tf.mul(x, tf.sub(1, mask)));
}

/** Options of `fl.hooks.steer`. */
export interface SteerOptions {
  /** Multiplier of the direction (default 1). */
  scale?: number;
  /** Only at these positions (default all). */
  positions?: readonly number[];
}

const STEER_OPTIONS = optionNames<SteerOptions>({ scale: true, positions: true });

/** Add scale·direction to the activation at every (or the given) position — activation steering. */
export function steer(direction: ArrayLike<number> | tf.Tensor, opts: SteerOptions = {}): HookFn {
  rejectUnknownOptions("hooks.steer", opts, STEER_OPTIONS);
  const values = direction instanceof tf.Tensor ? (direction.dataSync() as Float32Array) : Float32Array.from(direction);
  const scale = opts.scale ?? 1;
  return (x, ctx) => {
    const last = x.shape[x.rank - 1];
    const heads = x.rank === 4 ? x.shape[2]! : 0;
    const v = values.length === last ? tf.tensor1d(values) : heads && values.length === last * heads ? tf.tensor2d(values, [heads, last]) : undefined;
    if (!v) throw new Error(`featurelab: steering direction has ${values.length} values; '${ctx.name}' [${x.shape}] needs ${last}`);
    const added = tf.add(x, tf.mul(v, scale));
    if (!opts.positions) return added;
    const p = positionAxis(ctx.name, x.rank);
    const all = Array.from({ length: p === undefined ? 0 : x.shape[p] }, (_, t) => t);
    return keepPositions(added, x, ctx, all.filter((t) => !opts.positions!.includes(t)));
  };
}

/** Multiply an activation (or some of its units) by a factor. */
export function scale(factor: number, opts: { units?: readonly number[]; axis?: number } = {}): HookFn {
  rejectUnknownOptions("hooks.scale", opts, optionNames<typeof opts>({ units: true, axis: true }));
  return (x, ctx) => {
    if (!opts.units) return tf.mul(x, factor);
    const axis = opts.axis ?? unitAxis(ctx.name, x.rank);
    const n = x.shape[axis];
    const f = new Float32Array(n).fill(1);
    for (const u of opts.units) {
      if (!Number.isInteger(u) || u < 0 || u >= n) throw new RangeError(`featurelab: unit ${u} out of range 0..${n - 1} on axis ${axis} of ${ctx.name}`);
      f[u] = factor;
    }
    return tf.mul(x, tf.tensor(f, x.shape.map((_, i) => (i === axis ? n : 1))));
  };
}
