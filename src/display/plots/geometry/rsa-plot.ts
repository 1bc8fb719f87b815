// Displays of RSA results: a many-vs-many comparison as a table, a model evaluation as a bar chart
// with the noise ceiling as a grey band and bootstrap intervals as error bars (rsatoolbox's
// plot_model_comparison), and short cards for the evaluation and the permutation test.
import type { RdmComparisons } from "../../../geometry/compare-rdms.js";
import type { ModelComparison, PermutationTest } from "../../../geometry/rsa-inference.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { TableView, type Cell } from "../../core/table.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";
import { bootstrapPairTests, significantPairs, type MultipleTesting } from "../../../geometry/rsa-tests.js";
import { InputError } from "../../../io/errors.js";

/** The comparison matrix as a table (rows × columns), or the tidy records when it is wide. */
export function comparisonTable(c: RdmComparisons): TableView {
  const caption = `compareRdms (${c.method}): ${c.rows.length} × ${c.columns.length}`;
  if (c.columns.length > 12) return TableView.fromRecords(c.records(), caption);
  const columns = ["", ...c.columns];
  return new TableView(columns, c.rows.map((r, i) => [r, ...c.values[i]] as Cell[]), caption);
}

/** Options of `fl.plot.modelComparison`. */
export interface ModelComparisonPlotOptions {
  title?: string;
  /** "descending" or "ascending" to sort the bars by value (default: the order given). */
  sort?: "descending" | "ascending";
  /** Show each subject's value as a dot on its bar (default true). */
  subjects?: boolean;
  /**
   * Pairwise model tests drawn above the bars (rsatoolbox's test_pair_comparisons): "golan" (for each
   * model a wing reaching the models it beats, dots on them), "nili" (a bar per significant pair) or
   * false (default). Bootstrap tests (rsatoolbox's bootstrap_pair_tests); needs bootstrap samples.
   */
  testPairComparisons?: "golan" | "nili" | false;
  /** Mark models significantly above 0 (one-sided bootstrap test) with a triangle at the base. Default false. */
  testAbove0?: boolean;
  /** Mark models significantly below the lower noise ceiling with a triangle at the ceiling. Default false. */
  testBelowNoiseCeil?: boolean;
  /** Multiple-comparison control of the pairwise tests: "fdr" (default), "bonferroni", "uncorrected". */
  multiplePairTesting?: MultipleTesting;
  /** Significance level (default 0.05). */
  alpha?: number;
}

const MODEL_COMPARISON_PLOT_OPTIONS = optionNames<ModelComparisonPlotOptions>({
  title: true, sort: true, subjects: true, testPairComparisons: true, testAbove0: true, testBelowNoiseCeil: true, multiplePairTesting: true, alpha: true,
});

/** Bars of each model's mean comparison with the data, bootstrap intervals, and the noise ceiling band. */
export function modelComparisonPlot(result: ModelComparison, opts: ModelComparisonPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.modelComparison", opts, MODEL_COMPARISON_PLOT_OPTIONS);
  const values = result.values, iv = result.intervals;
  let order = result.models.map((_, i) => i);
  if (opts.sort) order = order.sort((a, b) => (opts.sort === "ascending" ? values[a] - values[b] : values[b] - values[a]));
  const names = order.map((i) => escapeHtml(result.models[i]));
  const pct = Math.round(result.options.ci * 100);
  const hasCi = result.options.n > 0;
  const data: Record<string, unknown>[] = [
    {
      type: "bar",
      name: "models",
      x: names,
      y: order.map((i) => values[i]),
      marker: { color: "#4c78a8" },
      customdata: order.map((i) => [iv[i][0], iv[i][1]]),
      error_y: hasCi
        ? {
            type: "data",
            symmetric: false,
            array: order.map((i) => iv[i][1] - values[i]),
            arrayminus: order.map((i) => values[i] - iv[i][0]),
            color: "#333",
            thickness: 1.5,
            width: 6,
          }
        : undefined,
      hovertemplate: `<b>%{x}</b><br>${result.method}: %{y:.4f}${hasCi ? `<br>${pct}% CI [%{customdata[0]:.4f}, %{customdata[1]:.4f}]` : ""}<extra></extra>`,
    },
  ];
  if (opts.subjects ?? true) {
    const xs: string[] = [], ys: number[] = [], who: string[] = [];
    for (const i of order) {
      result.perSubject[i].forEach((v, s) => {
        xs.push(escapeHtml(result.models[i]));
        ys.push(v);
        who.push(escapeHtml(result.subjects[s]));
      });
    }
    data.push({
      type: "box", // a box trace with no box: jittered points, one per subject
      name: "subjects",
      x: xs,
      y: ys,
      text: who,
      boxpoints: "all",
      jitter: 0.4,
      pointpos: 0,
      fillcolor: "rgba(0,0,0,0)",
      line: { color: "rgba(0,0,0,0)" },
      marker: { color: "rgba(30,30,30,0.55)", size: 5 },
      hoveron: "points",
      hovertemplate: "%{text}: %{y:.4f}<extra></extra>",
      showlegend: true,
    });
  }
  const nc = result.noiseCeiling;
  const shapes = Number.isFinite(nc.lower)
    ? [
        {
          type: "rect",
          xref: "paper",
          x0: 0,
          x1: 1,
          yref: "y",
          y0: nc.lower,
          y1: nc.upper,
          fillcolor: "rgba(128,128,128,0.3)",
          line: { width: 0 },
          layer: "below",
        },
      ]
    : [];
  const sig = significanceDisplay(result, order, opts);
  data.push(...sig.traces);
  const how = hasCi ? `${pct}% bootstrap CI over ${result.options.over}, ${result.options.n} samples` : "no bootstrap";
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? `Model comparison (${result.method}; ${how})` },
      yaxis: { title: { text: `${result.method} with the data RDMs` }, zeroline: true, range: yRange(result), domain: sig.shapes.length ? [0, 0.72] : [0, 1] },
      xaxis: { type: "category" },
      shapes: [...shapes, ...sig.shapes],
      annotations: Number.isFinite(nc.lower)
        ? [{ xref: "paper", x: 1, xanchor: "right", yref: "y", y: nc.upper, yanchor: "bottom", text: "noise ceiling", showarrow: false, font: { size: 11, color: "#666" } }]
        : [],
      boxmode: "overlay",
      bargap: 0.45,
      showlegend: false,
    },
  });
}

// The tests of rsatoolbox's plot_model_comparison with test_type="bootstrap": pairwise lines in the
// band above the bars (paper y 0.75…1), triangles for "above 0" and "below the noise ceiling".
function significanceDisplay(result: ModelComparison, order: number[], opts: ModelComparisonPlotOptions): { shapes: Record<string, unknown>[]; traces: Record<string, unknown>[] } {
  const pair = opts.testPairComparisons ?? false, above = opts.testAbove0 ?? false, below = opts.testBelowNoiseCeil ?? false;
  if (pair !== false && pair !== "golan" && pair !== "nili") throw new InputError(undefined, `plot.modelComparison: testPairComparisons must be "golan", "nili" or false, got ${String(pair)}`);
  const shapes: Record<string, unknown>[] = [], traces: Record<string, unknown>[] = [];
  if (!pair && !above && !below) return { shapes, traces };
  const B = result.options.n;
  if (B === 0) throw new InputError(undefined, "plot.modelComparison: significance tests need bootstrap samples (bootstrapCompare with n > 0)");
  const alpha = opts.alpha ?? 0.05;
  // samples × models, in display order, NaN samples (too few conditions) dropped.
  const rows: number[][] = [];
  for (let b = 0; b < result.samples[0].length; b++) {
    const row = order.map((i) => result.samples[i][b]);
    if (row.every((v) => !Number.isNaN(v))) rows.push(row);
  }
  const n = rows.length;
  const names = order.map((i) => escapeHtml(result.models[i]));
  if (above) {
    // rsatoolbox: p = (#{evaluation ≤ 0} + 1) / n, one-sided, uncorrected.
    const xs = names.filter((_, k) => (rows.filter((r) => r[k] <= 0).length + 1) / n < alpha);
    traces.push({ type: "scatter", mode: "markers", x: xs, y: xs.map(() => 0), marker: { symbol: "triangle-up", size: 10, color: "#fff", line: { color: "#333", width: 1 } }, hovertemplate: `%{x}: above 0 (p < ${alpha})<extra></extra>` });
  }
  if (below && Number.isFinite(result.noiseCeiling.lower)) {
    const nc = result.noiseCeiling.lower;
    const xs = names.filter((_, k) => (rows.filter((r) => nc - r[k] <= 0).length + 1) / n < alpha);
    traces.push({ type: "scatter", mode: "markers", x: xs, y: xs.map(() => nc), marker: { symbol: "triangle-down", size: 10, color: "#888" }, hovertemplate: `%{x}: below the noise ceiling (p < ${alpha})<extra></extra>` });
  }
  if (pair && order.length > 1) {
    const sig = significantPairs(bootstrapPairTests(rows), alpha, opts.multiplePairTesting ?? "fdr");
    const M = order.length;
    const means = order.map((_, k) => rows.reduce((s, r) => s + r[k], 0) / n);
    const line = (x0: number, x1: number, y: number, color: string) => ({ type: "line", xref: "x", yref: "paper", x0, x1, y0: y, y1: y, line: { color, width: 2 } });
    const dot = (x: number, y: number, color: string) => ({ type: "circle", xref: "x", yref: "paper", x0: x - 0.025, x1: x + 0.025, y0: y - 0.012, y1: y + 0.012, fillcolor: color, line: { width: 0 } });
    if (pair === "nili") {
      let level = 0;
      const pairs: [number, number][] = [];
      for (let i = 0; i < M; i++) for (let j = i + 1; j < M; j++) if (sig[i][j]) pairs.push([i, j]);
      const step = pairs.length ? Math.min(0.03, 0.24 / pairs.length) : 0;
      for (const [i, j] of pairs) shapes.push(line(i, j, 0.76 + step * level++, "#333"));
    } else {
      // Golan wings: one row per model that beats at least one other, darker for the better models.
      const step = 0.24 / M;
      order.forEach((_, i) => {
        const beaten = order.map((__, j) => j).filter((j) => sig[i][j] && means[i] > means[j]);
        if (!beaten.length) return;
        const y = 0.76 + step * i, color = `hsl(210, 60%, ${25 + (40 * i) / M}%)`;
        shapes.push(line(Math.min(i, ...beaten), Math.max(i, ...beaten), y, color), dot(i, y, color));
        for (const j of beaten) shapes.push({ ...dot(j, y, "#fff"), line: { color, width: 1.5 } });
      });
    }
    // Keep the band visible even when nothing is significant.
    if (!shapes.length) shapes.push({ type: "line", xref: "paper", yref: "paper", x0: 0, x1: 1, y0: 0.74, y1: 0.74, line: { color: "rgba(0,0,0,0.15)", width: 1 } });
  }
  return { shapes, traces };
}

/** Room for the bars, their intervals, the subjects' dots and the noise ceiling. */
function yRange(result: ModelComparison): [number, number] {
  const values = [0, ...result.values, ...result.intervals.flat(), ...result.perSubject.flat(), result.noiseCeiling.lower, result.noiseCeiling.upper].filter(Number.isFinite);
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = 0.06 * (hi - lo || 1);
  return [lo < 0 ? lo - pad : 0, hi + pad];
}

/** A model evaluation as a table: value, interval, standard error, and the noise ceiling. */
export function modelComparisonBundle(result: ModelComparison): MimeBundle {
  const caption =
    `${result.models.length} models vs ${result.subjects.length} subjects (${result.method}); noise ceiling ` +
    `[${result.noiseCeiling.lower.toFixed(4)}, ${result.noiseCeiling.upper.toFixed(4)}]`;
  const records = result.records().map(({ "ceiling low": _l, "ceiling high": _h, method: _m, ...rest }) => rest);
  return TableView.fromRecords(records as Record<string, Cell>[], caption).toMimeBundle();
}

export function permutationTestBundle(t: PermutationTest): MimeBundle {
  return TableView.fromRecords(
    [{ method: t.method, observed: t.observed, p: t.p, permutations: t.n, seed: t.seed }],
    "Permutation test of condition labels",
  ).toMimeBundle();
}
