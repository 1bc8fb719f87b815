// Feature suppression (Wright & Sharkey 2024; REFERENCE.md, Dictionaries and Metrics): how much a
// dictionary shrinks its reconstructions, overall and broken down
//   - by activation strength: rows binned (quantiles) by the input's L2 norm ("norm") or by the sum of
//     their feature activations ("activation");
//   - by feature frequency: rows grouped by the firing frequency of their most active feature.
// Per group: γ = Σ‖x̂‖² / Σ x̂·x (= argmin_γ E‖x̂/γ − x‖²; γ < 1 is shrinkage), L2 ratio = mean ‖x̂‖/‖x‖
// (rows with ‖x‖ > 0), MSE per element, cosine. One tidy row per (grouping, bin).
import * as aq from "arquero";
import { tf, ensureEngine } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";
import type { Reconstructor } from "./reconstruction.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** What `suppression` bins rows by: nothing (overall), input norm, summed feature activation, or feature frequency. */
export type SuppressionGrouping = "overall" | "norm" | "activation" | "frequency";

/** Options of `suppression`. */
export interface SuppressionOptions {
  /** Breakdowns besides "overall" (default ["norm", "frequency"]). */
  by?: readonly Exclude<SuppressionGrouping, "overall">[];
  /** Number of quantile bins per breakdown (default 10: deciles). Tied values share a bin, so there may be fewer. */
  bins?: number;
  batchSize?: number;
}

const SUPPRESSION_OPTIONS = optionNames<SuppressionOptions>({ by: true, bins: true, batchSize: true });

/** One row of a `Suppression` table: a bin of one grouping and its measures. */
export interface SuppressionRow {
  grouping: SuppressionGrouping;
  /** 0, 1, … in increasing order of the binned quantity (-1: rows where no feature fires, for "frequency"). */
  bin: number;
  /** Smallest and largest binned value in the bin (the input norm, summed activation or log10 frequency). */
  lo: number;
  hi: number;
  /** Mean binned value over the bin's rows. */
  mean: number;
  rows: number;
  /** Σ‖x̂‖² / Σ x̂·x over the bin's rows. */
  gamma: number;
  /** Mean ‖x̂‖ / ‖x‖. */
  l2Ratio: number;
  /** Mean squared error per element. */
  mse: number;
  /** Mean cos(x, x̂). */
  cosine: number;
}

/** What each grouping bins by, for labels. */
export const GROUPING_LABELS: Record<SuppressionGrouping, string> = {
  overall: "all rows",
  norm: "input norm ‖x‖",
  activation: "summed feature activation Σf",
  frequency: "log10 frequency of the row's most active feature",
};

/**
 * Feature suppression measures of one dictionary on one set, as a tidy table (made by `fl.suppression`).
 * @example
 * const s = fl.suppression(sae, acts);
 * s.overall.gamma;                      // < 1: shrinkage
 * fl.show(fl.plot.suppression(s));
 */
export class Suppression {
  constructor(
    readonly rows: readonly SuppressionRow[],
    /** Firing frequency of each feature over the set. */
    readonly frequency: Float64Array,
  ) {}

  /**
   * The "overall" row.
   * @example
   * s.overall;
   */
  get overall(): SuppressionRow {
    return this.rows.find((r) => r.grouping === "overall")!;
  }

  /**
   * Rows of one breakdown, in bin order.
   * @example
   * console.table(s.by("norm"));
   */
  by(grouping: SuppressionGrouping): SuppressionRow[] {
    return this.rows.filter((r) => r.grouping === grouping);
  }

  /**
   * The tidy table as an arquero table.
   * @example
   * s.table().print();
   */
  table(): aq.ColumnTable {
    return aq.from(this.rows as SuppressionRow[]);
  }

  /** A text table of the rows. */
  toString(): string {
    const o = this.overall;
    return `Suppression(γ ${o.gamma.toFixed(4)}, L2 ratio ${o.l2Ratio.toFixed(4)}, ${o.rows} rows)`;
  }
}

/**
 * Bin edges at quantiles of `values`; a value goes to the last bin whose lower edge it reaches, so tied
 * values share a bin and empty bins are dropped. Returns each value's bin (0-based, consecutive).
 */
export function quantileBins(values: ArrayLike<number>, bins: number): Int32Array {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = sorted[Math.min(n - 1, Math.floor((k * n) / bins))];
    if (n > 0 && (edges.length === 0 || e > edges[edges.length - 1]) && e > sorted[0]) edges.push(e);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = 0, hi = edges.length; // number of edges ≤ value
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] <= values[i]) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

interface PerRow {
  xhat2: Float64Array;
  dot: Float64Array;
  normX: Float64Array;
  normXhat: Float64Array;
  sqErr: Float64Array;
  sumF: Float64Array;
  top: Int32Array;
}

function perRow(model: Reconstructor, acts: ActivationSet, batchSize: number): { r: PerRow; fires: Float64Array } {
  const n = acts.numRows, d = acts.dim;
  const r: PerRow = {
    xhat2: new Float64Array(n), dot: new Float64Array(n), normX: new Float64Array(n), normXhat: new Float64Array(n),
    sqErr: new Float64Array(n), sumF: new Float64Array(n), top: new Int32Array(n),
  };
  const fires = new Float64Array(model.width);
  let row = 0;
  for (const b of acts.rowBatches({ size: batchSize })) {
    const parts = tf.tidy(() => {
      const x = tf.tensor2d(b.vectors, [b.rows, d]);
      const f = model.encodeTensor(x);
      const xHat = model.reconstructTensor ? model.reconstructTensor(x, f) : model.decodeTensor(f);
      return [
        tf.sum(tf.square(xHat), 1), tf.sum(tf.mul(xHat, x), 1), tf.sum(tf.square(x), 1),
        tf.sum(tf.square(tf.sub(xHat, x)), 1), tf.sum(f, 1), tf.argMax(f, 1), tf.max(f, 1),
        tf.sum(tf.cast(tf.greater(f, 0), "float32"), 0),
      ];
    });
    const [h2, dot, x2, e2, sf, top, mx, fc] = parts.map((t) => t.dataSync());
    tf.dispose(parts);
    for (let i = 0; i < b.rows; i++, row++) {
      r.xhat2[row] = h2[i];
      r.dot[row] = dot[i];
      r.normX[row] = Math.sqrt(x2[i]);
      r.normXhat[row] = Math.sqrt(h2[i]);
      r.sqErr[row] = e2[i];
      r.sumF[row] = sf[i];
      r.top[row] = mx[i] > 0 ? top[i] : -1;
    }
    for (let i = 0; i < fc.length; i++) fires[i] += fc[i];
  }
  return { r, fires: fires.map((v) => v / Math.max(1, n)) };
}

function summarise(grouping: SuppressionGrouping, bin: number, idx: number[], r: PerRow, value: ArrayLike<number>, d: number): SuppressionRow {
  let xhat2 = 0, dot = 0, ratio = 0, cos = 0, counted = 0, err = 0, lo = Infinity, hi = -Infinity, sum = 0;
  for (const i of idx) {
    xhat2 += r.xhat2[i];
    dot += r.dot[i];
    err += r.sqErr[i];
    const v = value[i];
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
    if (r.normX[i] > 0) {
      counted++;
      ratio += r.normXhat[i] / r.normX[i];
      cos += r.normXhat[i] > 0 ? r.dot[i] / (r.normX[i] * r.normXhat[i]) : 0;
    }
  }
  return {
    grouping, bin, lo, hi, mean: sum / idx.length, rows: idx.length,
    gamma: xhat2 / dot, l2Ratio: ratio / counted, mse: err / (idx.length * d), cosine: cos / counted,
  };
}

/**
 * γ, L2 ratio, MSE and cosine overall and by strength and feature-frequency bins (a tidy table).
 * @example
 * fl.show(fl.suppression(sae, acts, { by: ["norm", "frequency"], bins: 10 }));
 */
export function suppression(model: Reconstructor, acts: ActivationSet, opts: SuppressionOptions = {}): Suppression {
  rejectUnknownOptions("suppression", opts, SUPPRESSION_OPTIONS);
  ensureEngine();
  const by = opts.by ?? ["norm", "frequency"];
  const bins = opts.bins ?? 10;
  for (const g of by) if (!["norm", "activation", "frequency"].includes(g)) throw new Error(`featurelab: suppression: unknown breakdown '${g}'; use "norm", "activation" or "frequency"`);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`featurelab: suppression: bins must be a positive integer, got ${bins}`);
  if (acts.numRows < 1) throw new Error("featurelab: suppression: the activation set has no rows");
  const { r, fires } = perRow(model, acts, opts.batchSize ?? 1024);
  const n = acts.numRows, d = acts.dim;
  const all = Array.from({ length: n }, (_, i) => i);
  const rows: SuppressionRow[] = [summarise("overall", 0, all, r, r.normX, d)];
  for (const g of by) {
    let value: Float64Array;
    let members = all;
    if (g === "frequency") {
      value = Float64Array.from(r.top, (t) => (t >= 0 ? Math.log10(fires[t]) : NaN));
      members = all.filter((i) => r.top[i] >= 0);
      const silent = all.filter((i) => r.top[i] < 0);
      if (silent.length) rows.push({ ...summarise(g, -1, silent, r, new Float64Array(n), d), lo: NaN, hi: NaN, mean: NaN });
    } else value = g === "norm" ? r.normX : r.sumF;
    const assigned = quantileBins(members.map((i) => value[i]), bins);
    const groups: number[][] = [];
    members.forEach((i, k) => (groups[assigned[k]] ??= []).push(i));
    groups.forEach((idx, b) => rows.push(summarise(g, b, idx, r, value, d)));
  }
  return new Suppression(rows, fires);
}
