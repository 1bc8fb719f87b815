// Feature suppression by bin: γ and the L2 ratio (rows of panels) against activation strength and
// feature frequency (columns), one line per dictionary, with the no-shrinkage level 1 dashed.
import { Suppression, GROUPING_LABELS, type SuppressionGrouping } from "../../../metrics/suppression.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import type { Cell } from "../../core/table.js";
import { figureWithTable } from "../../core/figure-table.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** A measure `fl.plot.suppression` draws: shrinkage γ, L2 ratio, MSE or cosine. */
export type SuppressionMetric = "gamma" | "l2Ratio" | "mse" | "cosine";

/** Options of `fl.plot.suppression`. */
export interface SuppressionPlotOptions {
  /** Rows of panels (default ["gamma", "l2Ratio"]). */
  metrics?: readonly SuppressionMetric[];
  title?: string;
}

const SUPPRESSION_PLOT_OPTIONS = optionNames<SuppressionPlotOptions>({ metrics: true, title: true });

const AXIS_LABELS: Record<SuppressionGrouping, string> = { overall: "all rows", norm: "input norm ‖x‖ (bin mean)", activation: "summed activation Σf (bin mean)", frequency: "log10 frequency of top feature (bin mean)" };
const METRIC_LABELS: Record<SuppressionMetric, string> = { gamma: "γ (shrinkage)", l2Ratio: "L2 ratio ‖x̂‖/‖x‖", mse: "MSE", cosine: "cos(x, x̂)" };

/** One Suppression, or several by name (e.g. before and after fine-tuning). */
export function suppressionPlot(input: Suppression | Record<string, Suppression>, opts: SuppressionPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.suppression", opts, SUPPRESSION_PLOT_OPTIONS);
  const named: [string, Suppression][] = input instanceof Suppression ? [["dictionary", input]] : Object.entries(input);
  const metrics = opts.metrics ?? ["gamma", "l2Ratio"];
  const groupings = [...new Set(named.flatMap(([, s]) => s.rows.map((r) => r.grouping)))].filter((g) => g !== "overall") as SuppressionGrouping[];
  const cols = Math.max(1, groupings.length), rowsN = metrics.length;
  const gap = 0.08;
  const w = (1 - gap * (cols - 1)) / cols, h = (1 - gap * (rowsN - 1)) / rowsN;
  const layout: Record<string, unknown> = {
    title: { text: opts.title ?? "Feature suppression by activation strength and feature frequency (1 = no shrinkage)" },
    height: 300 * rowsN + 120,
    hovermode: "closest",
    margin: { l: 60, r: 30, t: 90, b: 60 },
    legend: { orientation: "h", y: -0.12 },
    shapes: [] as unknown[],
  };
  const data: Record<string, unknown>[] = [];
  metrics.forEach((m, ri) => {
    groupings.forEach((g, ci) => {
      const k = ri * cols + ci + 1;
      const xa = `xaxis${k === 1 ? "" : k}`, ya = `yaxis${k === 1 ? "" : k}`;
      const y0 = 1 - (ri + 1) * h - ri * gap;
      layout[xa] = { domain: [ci * (w + gap), ci * (w + gap) + w], anchor: `y${k === 1 ? "" : k}`, title: ri === rowsN - 1 ? { text: AXIS_LABELS[g] } : undefined };
      layout[ya] = { domain: [y0, y0 + h], anchor: `x${k === 1 ? "" : k}`, title: ci === 0 ? { text: METRIC_LABELS[m] } : undefined };
      if (m === "gamma" || m === "l2Ratio" || m === "cosine") {
        (layout.shapes as unknown[]).push({ type: "line", xref: `x${k === 1 ? "" : k} domain`, yref: `y${k === 1 ? "" : k}`, x0: 0, x1: 1, y0: 1, y1: 1, line: { dash: "dash", color: "gray", width: 1 } });
      }
      named.forEach(([name, s], i) => {
        const pts = s.by(g).filter((r) => r.bin >= 0);
        data.push({
          type: "scatter",
          mode: "lines+markers",
          name: escapeHtml(name),
          legendgroup: escapeHtml(name),
          showlegend: ri === 0 && ci === 0,
          xaxis: `x${k === 1 ? "" : k}`,
          yaxis: `y${k === 1 ? "" : k}`,
          x: pts.map((r) => r.mean),
          y: pts.map((r) => r[m]),
          customdata: pts.map((r) => [escapeHtml(name), r.bin, r.lo, r.hi, r.rows]),
          hovertemplate: `<b>%{customdata[0]}</b><br>bin %{customdata[1]}: ${escapeHtml(GROUPING_LABELS[g])} %{customdata[2]:.3g}–%{customdata[3]:.3g}<br>%{customdata[4]} rows<br>${METRIC_LABELS[m]} %{y:.4f}<extra></extra>`,
          marker: { size: 7, color: PALETTE[i % PALETTE.length] },
          line: { color: PALETTE[i % PALETTE.length] },
        });
      });
    });
  });
  return new Figure({ data, layout });
}

/** How fl.show draws a Suppression: the figure above its tidy table. */
export function suppressionBundle(s: Suppression): MimeBundle {
  const columns = ["grouping", "bin", "lo", "hi", "mean", "rows", "gamma", "l2Ratio", "mse", "cosine"];
  const rows = s.rows.map((r) => columns.map((c) => (r as unknown as Record<string, Cell>)[c]));
  const caption = `Feature suppression: γ = ${s.overall.gamma.toFixed(4)}, L2 ratio = ${s.overall.l2Ratio.toFixed(4)} over ${s.overall.rows} rows (.table() → arquero)`;
  return figureWithTable(suppressionPlot(s), { columns, rows, caption, maxRows: 60 });
}
