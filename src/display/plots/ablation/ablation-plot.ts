// Bar chart of an ablation: how much each ablated unit moves a metric. For fl.ablateFeatures, the
// increase in reconstruction error per feature; for fl.ablate sweeps, the change in CE loss, KL or
// logit difference per head, neuron or feature.
import type { FeatureAblation } from "../../../ablation/feature-ablation.js";
import { AblationSweep } from "../../../ablation/sweep.js";
import { METRIC_LABELS, type MetricName } from "../../../ablation/logit-metrics.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.ablation`. */
export interface AblationPlotOptions {
  title?: string;
  /** Sweeps: which metric (default the sweep's first). */
  metric?: MetricName;
  /** Sweeps: only the n units with the largest effect, in that order. */
  top?: number;
}

const ABLATION_PLOT_OPTIONS = optionNames<AblationPlotOptions>({ title: true, metric: true, top: true });

export function ablationPlot(result: FeatureAblation | AblationSweep, opts: AblationPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.ablation", opts, ABLATION_PLOT_OPTIONS);
  if (result instanceof AblationSweep) return sweepPlot(result, opts);
  const rows = result.rows;
  return new Figure({
    data: [
      {
        type: "bar",
        x: rows.map((r) => `f${r.feature}`),
        y: rows.map((r) => r.delta),
        customdata: rows.map((r) => [r.feature, r.density, r.mseClean, r.mseAblated]),
        hovertemplate:
          "<b>feature %{customdata[0]}</b><br>density %{customdata[1]:.4f}<br>MSE %{customdata[2]:.3e} → %{customdata[3]:.3e}" +
          "<br>Δ %{y:.3e}<extra></extra>",
        marker: { color: "#d62728" },
      },
    ],
    layout: {
      title: { text: opts.title ?? `${result.mode === "zero" ? "Zero" : "Mean"}-ablation: increase in reconstruction MSE` },
      xaxis: { title: { text: "feature (most frequent first)" }, type: "category" },
      yaxis: { title: { text: "Δ MSE per element" } },
    },
  });
}

const MODE_NAMES = { zero: "Zero", mean: "Mean", resample: "Resample" };

function sweepPlot(sweep: AblationSweep, opts: AblationPlotOptions): Figure {
  const metric = opts.metric ?? sweep.metrics[0];
  if (!sweep.metrics.includes(metric)) throw new Error(`featurelab: this sweep measured ${sweep.metrics.join(", ")}, not ${metric}`);
  let rows = sweep.rows.filter((r) => r.metric === metric);
  if (opts.top !== undefined) rows = sweep.byHarm(metric).slice(0, opts.top);
  // Hurting the model is red: a higher loss or KL, a lower logit difference.
  const hurts = (d: number) => (metric === "logit_diff" ? d < 0 : d > 0);
  return new Figure({
    data: [
      {
        type: "bar",
        x: rows.map((r) => escapeHtml(r.unit)), // plotly reads tags in text; entities show as the characters
        y: rows.map((r) => r.delta),
        customdata: rows.map((r) => [escapeHtml(r.hook), r.index, r.clean, r.ablated]),
        hovertemplate: `<b>%{x}</b> (%{customdata[0]}, unit %{customdata[1]})<br>${METRIC_LABELS[metric]} %{customdata[2]:.4f} → %{customdata[3]:.4f}<br>Δ %{y:.4f}<extra></extra>`,
        marker: { color: rows.map((r) => (hurts(r.delta) ? "#d62728" : "#1f77b4")) },
      },
    ],
    layout: {
      title: { text: opts.title ?? `${MODE_NAMES[sweep.mode]}-ablation of ${escapeHtml(sweep.target)}: change in ${METRIC_LABELS[metric]}` },
      xaxis: { title: { text: opts.top !== undefined ? `unit (largest effect first)` : "unit" }, type: "category", automargin: true },
      yaxis: { title: { text: `Δ ${METRIC_LABELS[metric]}` }, zeroline: true },
    },
  });
}
