// Heatmap of an ablation sweep, units × positions: the mean change in a metric at each position when
// each unit is ablated — where in the sequence a head, neuron or feature matters.
import type { AblationSweep } from "../../../ablation/sweep.js";
import { METRIC_LABELS, type MetricName } from "../../../ablation/logit-metrics.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.ablationHeatmap`. */
export interface AblationHeatmapOptions {
  title?: string;
  /** Which metric (default the sweep's first). */
  metric?: MetricName;
  /** Only the n units with the largest effect (default all). */
  top?: number;
}

const HEATMAP_OPTIONS = optionNames<AblationHeatmapOptions>({ title: true, metric: true, top: true });

export function ablationHeatmap(sweep: AblationSweep, opts: AblationHeatmapOptions = {}): Figure {
  rejectUnknownOptions("plot.ablationHeatmap", opts, HEATMAP_OPTIONS);
  const metric = opts.metric ?? sweep.metrics[0];
  const perUnit = sweep.byPosition[metric];
  if (!perUnit) throw new Error(`featurelab: this sweep measured ${sweep.metrics.join(", ")}, not ${metric}`);
  let order = sweep.units.map((_, k) => k);
  if (opts.top !== undefined) order = sweep.top(opts.top, metric).map((u) => sweep.units.indexOf(u));
  const width = perUnit[0]?.length ?? 0;
  const z = order.map((k) => Array.from(perUnit[k], (v) => (Number.isFinite(v) ? v : null)));
  const finite = z.flat().filter((v): v is number => v !== null);
  const extent = Math.max(1e-12, ...finite.map(Math.abs));
  const labels = order.map((k) => escapeHtml(sweep.units[k].label)); // plotly reads tags in text
  return new Figure({
    data: [
      {
        type: "heatmap",
        z,
        x: Array.from({ length: width }, (_, t) => t),
        y: labels,
        colorscale: "RdBu",
        // plotly's RdBu runs blue → red: red where the ablation hurts (higher loss/KL, lower logit difference).
        reversescale: metric === "logit_diff",
        zmin: -extent,
        zmax: extent,
        zmid: 0,
        colorbar: { title: { text: `Δ ${metric === "logit_diff" ? "logit diff" : metric.toUpperCase()}` } },
        hovertemplate: `<b>%{y}</b> at position %{x}<br>Δ ${METRIC_LABELS[metric]} %{z:.4f}<extra></extra>`,
        hoverongaps: false,
      },
    ],
    layout: {
      title: { text: opts.title ?? `Where it matters: Δ ${METRIC_LABELS[metric]} by position (${sweep.mode}-ablation)` },
      xaxis: { title: { text: "position" } },
      yaxis: { title: { text: "unit" }, type: "category", autorange: "reversed", automargin: true },
      height: Math.max(320, 120 + 22 * order.length),
    },
  });
}
