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
}

const MODEL_COMPARISON_PLOT_OPTIONS = optionNames<ModelComparisonPlotOptions>({ title: true, sort: true, subjects: true });

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
  const how = hasCi ? `${pct}% bootstrap CI over ${result.options.over}, ${result.options.n} samples` : "no bootstrap";
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? `Model comparison (${result.method}; ${how})` },
      yaxis: { title: { text: `${result.method} with the data RDMs` }, zeroline: true, range: yRange(result) },
      xaxis: { type: "category" },
      shapes,
      annotations: Number.isFinite(nc.lower)
        ? [{ xref: "paper", x: 1, xanchor: "right", yref: "y", y: nc.upper, yanchor: "bottom", text: "noise ceiling", showarrow: false, font: { size: 11, color: "#666" } }]
        : [],
      boxmode: "overlay",
      bargap: 0.45,
      showlegend: false,
    },
  });
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
