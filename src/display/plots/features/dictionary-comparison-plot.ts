// Braun et al.'s Pareto plots for a DictionaryComparison: ΔCE against L0 (log axis) and against the
// number of alive features, one line per method (its λ sweep), lower left better. And the end-to-end
// training curves of trainE2E dictionaries: KL, L1, local and downstream MSE, L0 by step.
import type { DictionaryComparison, ComparisonRow } from "../../../circuits/e2e/dictionary-comparison.js";
import type { E2ETrainingRecord } from "../../../circuits/e2e/sae.js";
import type { Dictionary } from "../../../dictionaries/dictionary.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapePlotlyText } from "../../core/escape.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import type { Cell } from "../../core/table.js";
import { figureWithTable } from "../../core/figure-table.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";


/** Options of `fl.plot.dictionaryComparison`. */
export interface ComparisonPlotOptions {
  title?: string;
  /** ΔCE on a log axis (default: when every ΔCE is positive — they span orders of magnitude along a λ sweep). */
  logY?: boolean;
}

const COMPARISON_PLOT_OPTIONS = optionNames<ComparisonPlotOptions>({ title: true, logY: true });

/** Two panels, ΔCE vs L0 and ΔCE vs alive features; hover a point for its name, λ, KL and L2 ratio. */
export function comparisonPlot(cmp: DictionaryComparison, opts: ComparisonPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.dictionaryComparison", opts, COMPARISON_PLOT_OPTIONS);
  const data: Record<string, unknown>[] = [];
  cmp.methods.forEach((method, i) => {
    const pts = cmp.curve(method);
    const color = PALETTE[i % PALETTE.length];
    const custom = pts.map((r) => [escapePlotlyText(r.name), escapePlotlyText(method), r.l1, r.kl, r.l2Ratio, r.alive, r.l0]);
    const hover = "<b>%{customdata[0]}</b> (%{customdata[1]}, λ %{customdata[2]:.3g})<br>L0 %{customdata[6]:.2f}, alive %{customdata[5]}<br>ΔCE %{y:.4f}, KL %{customdata[3]:.4f}<br>L2 ratio %{customdata[4]:.3f}<extra></extra>";
    for (const [k, x] of [[1, pts.map((r) => r.l0)], [2, pts.map((r) => r.alive)]] as const) {
      data.push({
        type: "scatter", mode: "lines+markers", name: escapePlotlyText(method), legendgroup: escapePlotlyText(method), showlegend: k === 1,
        xaxis: k === 1 ? "x" : "x2", yaxis: k === 1 ? "y" : "y2",
        x, y: pts.map((r) => r.ceDelta), customdata: custom, hovertemplate: hover,
        marker: { size: 9, color }, line: { color },
      });
    }
  });
  const logY = opts.logY ?? cmp.rows.every((r) => r.ceDelta > 0);
  const y = logY ? { type: "log" } : { rangemode: "tozero" };
  return new Figure({
    data,
    layout: {
      title: { text: escapePlotlyText(opts.title ?? `Spliced in at ${cmp.hook}: CE increase against sparsity (lower left is better)`) },
      xaxis: { domain: [0, 0.46], type: "log", title: { text: "L0 (active features per token)" } },
      yaxis: { title: { text: "ΔCE (spliced − clean, nats)" }, ...y },
      xaxis2: { domain: [0.54, 1], anchor: "y2", title: { text: "alive features (fired on the evaluation tokens)" } },
      yaxis2: { anchor: "x2", ...y },
      hovermode: "closest",
      height: 420,
      margin: { l: 60, r: 30, t: 80, b: 60 },
      legend: { orientation: "h", y: -0.2 },
    },
  });
}

const COLUMNS: [keyof ComparisonRow, string][] = [
  ["name", "dictionary"], ["method", "loss"], ["l1", "λ"], ["l0", "L0"], ["alive", "alive"], ["ceDelta", "ΔCE"],
  ["ceScore", "CE score"], ["kl", "KL"], ["l2Ratio", "L2 ratio"], ["width", "width"],
];

/** How fl.show draws a DictionaryComparison: the two panels above its table. */
export function comparisonBundle(cmp: DictionaryComparison): MimeBundle {
  const columns = COLUMNS.map(([, label]) => label);
  const rows = cmp.rows.map((r) => COLUMNS.map(([k]) => r[k] as Cell));
  const clean = cmp.rows[0]?.ceClean;
  const caption = `${cmp.rows.length} dictionaries at ${cmp.hook}, ${cmp.tokens} tokens; clean CE ${clean?.toFixed(4)} (.table() → arquero, .atL0() → matched L0)`;
  return figureWithTable(comparisonPlot(cmp), { columns, rows, caption, maxRows: 100 });
}

const CURVES: [keyof E2ETrainingRecord, string, "log" | "linear"][] = [
  ["kl", "KL(p_orig ‖ p_sae)", "log"],
  ["mse", "MSE(â, a)", "log"],
  ["downstreamMse", "downstream MSE", "log"],
  ["l0", "L0", "linear"],
];

/** Training curves of trainE2E dictionaries by name: KL, local MSE, downstream MSE and L0 against the step. */
export function e2eTrainingPlot(dicts: Record<string, Dictionary>, opts: { title?: string } = {}): Figure {
  rejectUnknownOptions("plot.e2eTraining", opts, optionNames<typeof opts>({ title: true }));
  const named = Object.entries(dicts);
  if (named.length === 0) throw new Error("featurelab: plot.e2eTraining needs at least one dictionary");
  for (const [name, d] of named) {
    if (!d.history.length || !("kl" in d.history[0])) throw new Error(`featurelab: plot.e2eTraining: '${name}' has no end-to-end training record (train it with fl.trainE2E)`);
  }
  const layout: Record<string, unknown> = {
    title: { text: escapePlotlyText(opts.title ?? "End-to-end training: each loss term by step (every run logs all of them)") },
    grid: { rows: 1, columns: CURVES.length, pattern: "independent", xgap: 0.4 },
    height: 380,
    hovermode: "closest",
    legend: { orientation: "h", y: -0.25 },
  };
  const data: Record<string, unknown>[] = [];
  CURVES.forEach(([key, label, scale], ci) => {
    const ax = ci === 0 ? "" : String(ci + 1);
    layout[`xaxis${ax}`] = { title: { text: "step" } };
    layout[`yaxis${ax}`] = { title: { text: label }, type: scale };
    named.forEach(([name, d], i) => {
      const h = d.history as readonly E2ETrainingRecord[];
      data.push({
        type: "scatter", mode: "lines", name: escapePlotlyText(name), legendgroup: escapePlotlyText(name), showlegend: ci === 0,
        xaxis: `x${ax}`, yaxis: `y${ax}`, x: h.map((r) => r.step), y: h.map((r) => r[key] as number),
        hovertemplate: `${escapePlotlyText(name)}<br>${label} %{y:.4g}<br>step %{x}<extra></extra>`,
        line: { color: PALETTE[i % PALETTE.length] },
      });
    });
  });
  return new Figure({ data, layout });
}
