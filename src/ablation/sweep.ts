// fl.ablate(model, target, spec): ablate units one at a time — attention heads, MLP neurons, any
// hook's units, or a dictionary's features spliced in at a hook — and measure what each costs the
// model's outputs: cross-entropy, KL from the clean distribution, a logit difference. The result is
// a tidy table (unit, metric, clean, ablated, delta) plus the per-position effect of every unit.
import * as aq from "arquero";
import { tf, ready } from "../engine/backend.js";
import { Dictionary } from "../dictionaries/dictionary.js";
import { headAxis, positionAxis, unitAxis, type HookFn, type Hooks } from "../models/hook-points.js";
import type { HookedModel, ModelBatch } from "../models/hooked-model.js";
import { ablateUnitsStacked, checkMode, repeatRows, splice, spliceStacked, type AblationMode } from "./edits.js";
import { checkSpliceable, viewAt } from "./dictionary-at-hook.js";
import { asSequences, crossEntropy, klDivergence, logitDifference, METRICS, type MetricName } from "./logit-metrics.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Which (document, position) cells a metric averages over: a mask per document, positions, or a test. */
export type PositionSelector = readonly (readonly boolean[])[] | readonly number[] | ((document: number, position: number) => boolean);

/** Options of `ablate`: the input, the ablation mode, the metrics and where to measure them. */
export interface AblateSpec {
  /** What to run: token ids or text (transformer), an input tensor (LayersModel). */
  input: unknown;
  /** The hook a dictionary reads and is spliced into (dictionary targets). */
  hook?: string;
  /** Which units to ablate (default: all). */
  units?: readonly number[];
  /** Dictionary targets: the same as `units`. */
  features?: readonly number[];
  /** "zero" (default), "mean" (over every valid position of the input) or "resample" (another document's value, same position). */
  mode?: AblationMode;
  /** Default: ["ce", "kl"], or ["logit_diff", "kl"] when logitDiff is given. */
  metric?: MetricName | readonly MetricName[];
  /** Tokens (one for all documents or one per document) whose logit difference is measured. */
  logitDiff?: { correct: number | ArrayLike<number>; wrong: number | ArrayLike<number> };
  /** Cells the metrics average over (default: all; the last position for logit_diff). */
  positions?: PositionSelector;
  /** Dictionary targets: keep the error term so only the ablated feature's contribution changes (default true). */
  keepError?: boolean;
  batchSize?: number;
  seed?: number;
  /** Class labels per sample, for a classifier's cross-entropy. */
  labels?: ArrayLike<number>;
  prependBos?: boolean;
}

const ABLATE_OPTIONS = optionNames<AblateSpec>({ input: true, hook: true, units: true, features: true, mode: true, metric: true, logitDiff: true, positions: true, keepError: true, batchSize: true, seed: true, labels: true, prependBos: true });

/** One ablated unit (a head, a neuron, a feature) and where it sits. */
export interface AblationUnit {
  /** "L1H3", "L0N12", "f40", … */
  label: string;
  hook: string;
  index: number;
}

/** One row of an ablation sweep: a unit, a metric, and its change from the clean run. */
export interface AblationRow {
  unit: string;
  hook: string;
  index: number;
  metric: MetricName;
  /** Mean of the metric without the ablation (KL: 0). */
  clean: number;
  /** …with this unit ablated. */
  ablated: number;
  /** ablated − clean. */
  delta: number;
}

/** What `ablate` returns: a tidy table of each unit's effect (drawn by `fl.plot.ablation` and `fl.plot.ablationHeatmap`). */
export class AblationSweep {
  constructor(
    readonly mode: AblationMode,
    /** What was ablated, for titles: "attention heads", "features of … at blocks.0.hook_resid_post". */
    readonly target: string,
    readonly units: readonly AblationUnit[],
    readonly metrics: readonly MetricName[],
    /** The tidy table: one row per (unit, metric). */
    readonly rows: readonly AblationRow[],
    /** Per metric: for each unit, the mean delta at each position (NaN where no document has that position). */
    readonly byPosition: Readonly<Record<string, Float64Array[]>>,
    /** Documents evaluated. */
    readonly documents: number,
  ) {}

  /**
   * The rows as an arquero table.
   * @example
   * sweep.table().print();
   */
  table(): aq.ColumnTable {
    return aq.from(this.rows as AblationRow[]);
  }

  /**
   * The rows of one metric, largest delta first.
   * @example
   * sweep.ranked("ce").slice(0, 5);
   */
  ranked(metric: MetricName = this.metrics[0]): AblationRow[] {
    return this.rows.filter((r) => r.metric === metric).sort((a, b) => b.delta - a.delta);
  }

  /**
   * The rows of one metric, most harmful ablation first (largest delta; for logit_diff, most negative).
   * @example
   * sweep.byHarm("ce").slice(0, 5);
   */
  byHarm(metric: MetricName = this.metrics[0]): AblationRow[] {
    const rows = this.ranked(metric);
    return metric === "logit_diff" ? rows.reverse() : rows;
  }

  /**
   * The n units whose ablation hurts most (see byHarm).
   * @example
   * const heads = sweep.top(3, "ce");
   */
  top(n: number, metric: MetricName = this.metrics[0]): AblationUnit[] {
    return this.byHarm(metric).slice(0, n).map((r) => this.units.find((u) => u.label === r.unit)!);
  }

  /** A text table of the strongest effects. */
  toString(): string {
    return `AblationSweep(${this.mode}-ablation of ${this.units.length} ${this.target}; ${this.metrics.join(", ")})`;
  }
}

function resolveMetrics(spec: AblateSpec): MetricName[] {
  const m = spec.metric === undefined ? (spec.logitDiff ? ["logit_diff", "kl"] : ["ce", "kl"]) : Array.isArray(spec.metric) ? [...spec.metric] : [spec.metric];
  for (const x of m) if (!METRICS.includes(x as MetricName)) throw new Error(`featurelab: unknown metric '${x}'; metrics: ${METRICS.join(", ")}`);
  if (m.includes("logit_diff") && !spec.logitDiff) throw new Error('featurelab: metric "logit_diff" needs { logitDiff: { correct, wrong } } (token ids)');
  return m as MetricName[];
}

function perDocument(v: number | ArrayLike<number>, n: number, what: string): Int32Array {
  if (typeof v === "number") return new Int32Array(n).fill(v);
  if (v.length !== n) throw new Error(`featurelab: logitDiff.${what} has ${v.length} values for ${n} documents`);
  return Int32Array.from(v);
}

/** 1 where a cell counts for a metric. */
function countedCells(batch: ModelBatch, selector: PositionSelector | undefined, lastOnly: boolean): Uint8Array {
  const { size, width, lengths, start } = batch;
  const m = new Uint8Array(size * width);
  for (let b = 0; b < size; b++) {
    const len = Math.min(lengths[b], width);
    for (let t = 0; t < len; t++) {
      let on: boolean;
      if (selector === undefined) on = !lastOnly || t === len - 1;
      else if (typeof selector === "function") on = Boolean(selector(start + b, t));
      else if (selector.length > 0 && Array.isArray(selector[0])) on = Boolean((selector as readonly (readonly boolean[])[])[start + b]?.[t]);
      else on = (selector as readonly number[]).includes(t);
      m[b * width + t] = on ? 1 : 0;
    }
  }
  return m;
}

function layerOf(hook: string): string {
  return /^blocks\.(\d+)\./.exec(hook)?.[1] ?? "";
}

function unitLabel(hook: string, i: number): string {
  const l = layerOf(hook);
  if (headAxis(hook) !== undefined && l) return `L${l}H${i}`;
  if (/mlp\.hook_(pre|post)$/.test(hook) && l) return `L${l}N${i}`;
  return `${hook}[${i}]`;
}

/** Shape of every hook's activation on a batch (a read-only pass). */
function probeShapes(model: HookedModel, batch: ModelBatch, hooks: string[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const read: Hooks = Object.fromEntries(hooks.map((h) => [h, (x: tf.Tensor) => void shapes.set(h, x.shape)]));
  model.runBatch(batch, read).dispose();
  return shapes;
}

/**
 * Means over every valid (document, position) of the input, at each hook (or of a dictionary's
 * features there), for mean ablation. Kept tensors: the caller disposes them.
 */
function inputMeans(model: HookedModel, batches: ModelBatch[], hooks: string[], dict?: Dictionary): Map<string, tf.Tensor> {
  const sums = new Map<string, tf.Tensor>();
  const counts = new Map<string, number>();
  for (const batch of batches) {
    const read: Hooks = {};
    for (const h of hooks) {
      read[h] = (x, ctx) => {
        const p = positionAxis(h, x.rank);
        const B = x.shape[0], T = p === undefined ? 1 : x.shape[p];
        const mask = new Float32Array(B * T);
        ctx.lengths.forEach((len, b) => mask.fill(1, b * T, b * T + (p === undefined ? 1 : Math.min(len, T))));
        counts.set(h, (counts.get(h) ?? 0) + mask.reduce((a, v) => a + v, 0));
        let s: tf.Tensor;
        if (dict) {
          const f = viewAt(dict, x, h).features; // rows are (document, position) in order
          s = tf.sum(tf.mul(f, tf.tensor2d(mask, [B * T, 1])), 0);
        } else {
          const m = tf.tensor(mask, x.shape.map((_, i) => (i === 0 ? B : i === p ? T : 1)));
          s = tf.sum(tf.mul(x, m), p === undefined ? [0] : [0, p], true);
        }
        const old = sums.get(h);
        sums.set(h, tf.keep(old ? tf.add(old, s) : s));
        old?.dispose();
      };
    }
    model.runBatch(batch, read).dispose();
  }
  const means = new Map<string, tf.Tensor>();
  for (const [h, s] of sums) {
    means.set(h, tf.div(s, counts.get(h)!));
    s.dispose();
  }
  return means;
}

/**
 * Ablate each unit of `target` in turn and measure the effect on the model's outputs.
 * @example
 * const sweep = await fl.ablate(model, "blocks.1.attn.hook_z", { input: tokens, mode: "mean", metric: ["ce", "kl"] });
 * fl.show(fl.plot.ablation(sweep));
 */
export async function ablate(model: HookedModel, target: Dictionary | string | readonly string[], spec: AblateSpec): Promise<AblationSweep> {
  rejectUnknownOptions("ablate", spec, ABLATE_OPTIONS);
  rejectUnknownOptions("ablate: logitDiff", spec?.logitDiff, optionNames<NonNullable<AblateSpec["logitDiff"]>>({ correct: true, wrong: true }));
  await ready();
  if (!spec || spec.input === undefined) throw new Error("featurelab: ablate(model, target, { input, … }) needs the input to run");
  const mode = spec.mode ?? "zero";
  checkMode(mode);
  const metrics = resolveMetrics(spec);
  const seed = spec.seed ?? 0;
  const { batches, documents } = model.batches(spec.input, { batchSize: spec.batchSize ?? 32, prependBos: spec.prependBos, labels: spec.labels });
  const nDocs = batches.reduce((s, b) => s + b.size, 0);
  if (mode === "resample" && batches.some((b) => b.size < 2)) throw new Error("featurelab: resample ablation needs at least 2 documents in every batch (check batchSize and the number of documents)");
  const correct = spec.logitDiff ? perDocument(spec.logitDiff.correct, nDocs, "correct") : undefined;
  const wrong = spec.logitDiff ? perDocument(spec.logitDiff.wrong, nDocs, "wrong") : undefined;

  // The units, and the hook function that ablates each.
  const units: AblationUnit[] = [];
  let baseline: Hooks = {};
  // Ablations run many units at once: the batch is stacked once per unit, copy g ablating unit g.
  let edit: (chunk: AblationUnit[]) => HookFn;
  let description: string;
  const means = new Map<string, tf.Tensor>();
  try {
    if (target instanceof Dictionary) {
      const hook = spec.hook ?? (typeof target.cfg.hook_name === "string" ? target.cfg.hook_name : undefined);
      if (!hook) throw new Error("featurelab: ablating a dictionary's features needs { hook } — the hook point it reads");
      model.checkHooks([hook]);
      checkSpliceable(target, hook);
      if (spec.units && spec.features) throw new Error("featurelab: give { features } or { units }, not both");
      const ids = spec.features ?? spec.units ?? Array.from({ length: target.width }, (_, i) => i);
      for (const i of ids) {
        if (!Number.isInteger(i) || i < 0 || i >= target.width) throw new RangeError(`featurelab: feature ${i} out of range 0..${target.width - 1}`);
        units.push({ label: `f${i}`, hook, index: i });
      }
      const keepError = spec.keepError ?? true;
      if (!keepError) baseline = { [hook]: splice(target, {}) };
      let featureMeans: Float32Array | undefined;
      if (mode === "mean") {
        const m = inputMeans(model, batches, [hook], target);
        featureMeans = m.get(hook)!.dataSync() as Float32Array;
        tf.dispose([...m.values()]);
      }
      edit = (chunk) => spliceStacked(target, chunk.map((u) => [u.index]), { keepError, mode, mean: featureMeans, seed });
      description = `features at ${hook}${keepError ? "" : " (spliced, no error term)"}`;
    } else {
      if (spec.features) throw new Error("featurelab: { features } selects a dictionary's features; for heads or neurons use { units }");
      const hooks = target === "heads" ? model.hookNames.filter((n) => /\.attn\.hook_z$/.test(n)) : typeof target === "string" ? [target] : [...target];
      if (hooks.length === 0) throw new Error(`featurelab: ${model.name} has no attention heads (no blocks.{l}.attn.hook_z)`);
      model.checkHooks(hooks);
      const shapes = probeShapes(model, batches[0], hooks);
      for (const h of hooks) {
        const shape = shapes.get(h);
        if (!shape) throw new Error(`featurelab: hook ${h} did not fire in a forward pass`);
        const n = shape[unitAxis(h, shape.length)];
        const ids = spec.units ?? Array.from({ length: n }, (_, i) => i);
        for (const i of ids) {
          if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`featurelab: unit ${i} out of range 0..${n - 1} at ${h}`);
          units.push({ label: unitLabel(h, i), hook: h, index: i });
        }
      }
      if (mode === "mean") for (const [h, t] of inputMeans(model, batches, hooks)) means.set(h, t);
      edit = (chunk) => ablateUnitsStacked(chunk.map((u) => [u.index]), { mode, mean: means.get(chunk[0].hook), seed });
      description = target === "heads" ? "attention heads" : hooks.every((h) => headAxis(h) !== undefined) ? `heads at ${hooks.join(", ")}` : /mlp\.hook_(pre|post)$/.test(hooks[0]) ? `neurons at ${hooks.join(", ")}` : `units at ${hooks.join(", ")}`;
    }

    const width = Math.max(...batches.map((b) => b.width));
    const acc = (n: number) => ({ sum: new Float64Array(n), count: new Float64Array(n) });
    const clean = Object.fromEntries(metrics.map((m) => [m, acc(1)]));
    const ablated = Object.fromEntries(metrics.map((m) => [m, acc(units.length)]));
    const pos = Object.fromEntries(metrics.map((m) => [m, units.map(() => acc(width))]));

    for (const batch of batches) {
      const counted = Object.fromEntries(metrics.map((m) => [m, countedCells(batch, spec.positions, m === "logit_diff")]));
      const valid = countedCells(batch, undefined, false);
      const ids = (arr: Int32Array | undefined) => (arr ? arr.subarray(batch.start, batch.start + batch.size) : undefined);
      // The clean pass also records, unhooked, the activation each unit's pass can resume from.
      const starts = new Map<string, tf.Tensor>();
      const cleanHooks: Hooks = { ...baseline };
      for (const name of new Set(units.map((u) => model.startPoint(u.hook)).filter((n): n is string => n !== undefined))) {
        const capture: HookFn = (x) => void starts.set(name, tf.keep(x.clone()));
        cleanHooks[name] = [capture, ...asArray(baseline[name])];
      }
      const cleanOut = asSequences(model.runBatch(batch, cleanHooks));
      // A metric on `copies` stacked copies of the batch (KL against the clean logits tiled as many times).
      const values = (out: tf.Tensor3D, m: MetricName, copies = 1, clean = cleanOut): Float32Array =>
        m === "ce" ? crossEntropy(out, repeat(batch.targets, copies)) : m === "kl" ? klDivergence(clean, out) : logitDifference(out, repeat(ids(correct)!, copies), repeat(ids(wrong)!, copies));
      try {
        const cleanValues = Object.fromEntries(metrics.map((m) => [m, m === "kl" ? undefined : values(cleanOut, m)]));
        for (const m of metrics) {
          const v = cleanValues[m];
          if (!v) continue;
          for (let i = 0; i < v.length; i++) {
            if (counted[m][i] && !Number.isNaN(v[i])) {
              clean[m].sum[0] += v[i];
              clean[m].count[0]++;
            }
          }
        }
        const cells = batch.size * batch.width;
        const copies = Math.max(1, Math.min(MAX_COPIES, Math.floor(LOGIT_BUDGET / (cells * cleanOut.shape[2]))));
        for (let k0 = 0; k0 < units.length; ) {
          let k1 = k0 + 1;
          while (k1 < units.length && k1 - k0 < copies && units[k1].hook === units[k0].hook) k1++;
          const chunk = units.slice(k0, k1);
          const hook = chunk[0].hook;
          const stacked = stackBatch(batch, chunk.length);
          const startName = model.startPoint(hook);
          const start = startName ? { name: startName, value: repeatRows(starts.get(startName)!, chunk.length) } : undefined;
          const out = asSequences(model.runBatch(stacked, { ...baseline, [hook]: [...asArray(baseline[hook]), edit(chunk)] }, start));
          if (start && chunk.length > 1) start.value.dispose();
          const tiledClean = metrics.includes("kl") ? repeatRows(cleanOut, chunk.length) : undefined;
          try {
            for (const m of metrics) {
              const v = values(out, m, chunk.length, tiledClean);
              const base = cleanValues[m];
              chunk.forEach((_, g) => {
                const k = k0 + g;
                for (let i = 0; i < cells; i++) {
                  const value = v[g * cells + i];
                  if (Number.isNaN(value)) continue;
                  if (counted[m][i]) {
                    ablated[m].sum[k] += value;
                    ablated[m].count[k]++;
                  }
                  if (valid[i]) {
                    const t = i % batch.width;
                    pos[m][k].sum[t] += value - (base ? base[i] : 0);
                    pos[m][k].count[t]++;
                  }
                }
              });
            }
          } finally {
            tf.dispose([out, ...(tiledClean && tiledClean !== cleanOut ? [tiledClean] : [])]);
          }
          k0 = k1;
        }
      } finally {
        tf.dispose([cleanOut, ...starts.values()]);
      }
    }

    const rows: AblationRow[] = [];
    units.forEach((u, k) => {
      for (const m of metrics) {
        const c = clean[m].count[0] ? clean[m].sum[0] / clean[m].count[0] : 0;
        const a = ablated[m].count[k] ? ablated[m].sum[k] / ablated[m].count[k] : NaN;
        rows.push({ unit: u.label, hook: u.hook, index: u.index, metric: m, clean: c, ablated: a, delta: a - c });
      }
    });
    const byPosition = Object.fromEntries(metrics.map((m) => [m, pos[m].map((p) => p.sum.map((s, t) => (p.count[t] ? s / p.count[t] : NaN)))]));
    return new AblationSweep(mode, description, units, metrics, rows, byPosition, documents?.length ?? nDocs);
  } finally {
    tf.dispose([...means.values()]);
  }
}

/** Logits a stacked forward pass may produce at once (elements), and the most copies of a batch. */
const LOGIT_BUDGET = 1 << 22;
const MAX_COPIES = 64;

/** The batch repeated `copies` times along axis 0 (documents keep their index for seeds and masks). */
function stackBatch(batch: ModelBatch, copies: number): ModelBatch {
  if (copies === 1) return batch;
  return {
    ...batch,
    size: batch.size * copies,
    lengths: repeatArray(batch.lengths, copies),
    tokens: batch.tokens ? repeatArray(batch.tokens, copies) : undefined,
    targets: repeat(batch.targets, copies),
    input: () => repeatRows(batch.input(), copies),
  };
}

function repeat(a: Int32Array, copies: number): Int32Array {
  if (copies === 1) return a;
  const out = new Int32Array(a.length * copies);
  for (let g = 0; g < copies; g++) out.set(a, g * a.length);
  return out;
}

function repeatArray<T>(a: readonly T[], copies: number): T[] {
  return Array.from({ length: copies }, () => a).flat() as T[];
}

function asArray(h: HookFn | HookFn[] | undefined): HookFn[] {
  return h === undefined ? [] : Array.isArray(h) ? h : [h];
}
