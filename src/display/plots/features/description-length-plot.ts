// Description length against dictionary width (fl.descriptionLengthSweep): bits per token in the top
// panel, one line per family (architecture, k); the loss at the chosen grid in the bottom panel with
// the target drawn across. Dictionaries that miss the target are drawn hollow: their bits are not
// comparable (they describe a worse reconstruction).
import { escapeHtml } from "../../core/escape.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";
import type { DescriptionLengthRow, DescriptionLengthSweep } from "../../../ablation/description-length.js";

/** Options of `fl.plot.descriptionLength`. */
export interface DescriptionLengthPlotOptions {
  title?: string;
  /** Draw the x axis (width) on a log₂ scale (default true). */
  logX?: boolean;
  /** Mark a width on the x axis (e.g. the known number of true features). */
  markWidth?: number;
  /** Draw only these families (as in the sweep's rows: "topk k=4", "relu", …). */
  families?: readonly string[];
}

const PLOT_OPTIONS = optionNames<DescriptionLengthPlotOptions>({ title: true, logX: true, markWidth: true, families: true });

export function descriptionLengthPlot(sweep: DescriptionLengthSweep, opts: DescriptionLengthPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.descriptionLength", opts, PLOT_OPTIONS);
  const shown = opts.families === undefined ? sweep.rows : sweep.rows.filter((r) => opts.families!.includes(r.family));
  const families = [...new Set(shown.map((r) => r.family))];
  const lossName = shown[0]?.lossName ?? "fvu";
  const lossLabel = lossName === "ce" ? "spliced CE (nats)" : "FVU";
  const data: Record<string, unknown>[] = [];
  const bitsHover = `<b>%{customdata[0]}</b><br>width %{x}<br>%{y:.2f} bits/token (%{customdata[4]:.2f} firing + %{customdata[5]:.2f} magnitude)<br>L0 %{customdata[1]:.2f}<br>${lossLabel} %{customdata[2]:.4f} at Δ %{customdata[3]:.3g}%{customdata[6]}<extra></extra>`;
  const lossHover = `<b>%{customdata[0]}</b><br>width %{x}<br>${lossLabel} %{y:.4f} at Δ %{customdata[3]:.3g}%{customdata[6]}<extra></extra>`;
  const allFamilies = [...new Set(sweep.rows.map((r) => r.family))]; // colours stay the same when `families` picks some
  families.forEach((family) => {
    const rows = shown.filter((r) => r.family === family).sort((a, b) => a.width - b.width);
    const color = PALETTE[allFamilies.indexOf(family) % PALETTE.length];
    const custom = (r: DescriptionLengthRow) => [escapeHtml(r.name), r.l0, r.loss, r.step, r.firingBits, r.magnitudeBits, r.meetsTarget ? "" : "<br><i>misses the loss target</i>"];
    const group = escapeHtml(family);
    // The line joins the dictionaries that meet the target; those that miss it are hollow markers off the line.
    for (const meets of [true, false]) {
      const part = rows.filter((r) => r.meetsTarget === meets);
      if (part.length === 0) continue;
      const marker = { size: meets ? 9 : 8, color, symbol: meets ? "circle" : "circle-open", line: { color, width: 2 } };
      const common = { type: "scatter", mode: meets ? "lines+markers" : "markers", name: group, legendgroup: group, x: part.map((r) => r.width), customdata: part.map(custom), marker, line: { color } };
      data.push({ ...common, showlegend: meets, y: part.map((r) => r.bitsPerToken), hovertemplate: bitsHover, xaxis: "x", yaxis: "y" });
      data.push({ ...common, showlegend: false, y: part.map((r) => r.loss), hovertemplate: lossHover, line: { color, dash: "dot" }, xaxis: "x", yaxis: "y2" });
    }
  });
  const widths = [...new Set(shown.map((r) => r.width))].sort((a, b) => a - b);
  const shapes: Record<string, unknown>[] = [];
  if (sweep.target !== undefined) {
    shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y2", y0: sweep.target, y1: sweep.target, line: { color: "#888", dash: "dash", width: 1 } });
  }
  if (opts.markWidth !== undefined) {
    shapes.push({ type: "line", xref: "x", x0: opts.markWidth, x1: opts.markWidth, yref: "paper", y0: 0, y1: 1, line: { color: "#2ca02c", dash: "dot", width: 1 } });
  }
  const best = shown.filter((r) => r.meetsTarget).reduce<DescriptionLengthRow | undefined>((b, r) => (b === undefined || r.bitsPerToken < b.bitsPerToken ? r : b), undefined);
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? `Description length at ${sweep.target === undefined ? "each dictionary's tolerance" : `${lossLabel} ≤ ${sweep.target}`}` },
      xaxis: { title: { text: "width (features)" }, type: opts.logX === false ? "linear" : "log", anchor: "y2", tickvals: widths, ticktext: widths.map(String) },
      yaxis: { title: { text: "bits per token" }, domain: [0.38, 1] },
      yaxis2: { title: { text: lossLabel }, domain: [0, 0.28], rangemode: "tozero" },
      shapes,
      annotations: best ? [{ x: opts.logX === false ? best.width : Math.log10(best.width), y: best.bitsPerToken, xref: "x", yref: "y", text: `least: ${escapeHtml(best.name)}`, showarrow: true, arrowhead: 2, ax: 40, ay: 35 }] : [],
      hovermode: "closest",
      height: 520,
    },
  });
}
