// The sparsity–fidelity frontier: L0 against FVU for several dictionaries, one line per family
// (architecture), as papers compare SAE architectures.
import { escapeHtml } from "../../core/escape.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** One dictionary's point on `fl.plot.frontier`: its family, L0 and FVU. */
export interface FrontierPoint {
  /** The family the point belongs to (e.g. the architecture); one line each. */
  name: string;
  l0: number;
  fvu: number;
  /** Shown on hover (e.g. "k=16" or "λ=0.1"). */
  label?: string;
}


export function frontierPlot(points: FrontierPoint[], opts: { title?: string; logX?: boolean } = {}): Figure {
  rejectUnknownOptions("plot.frontier", opts, optionNames<typeof opts>({ title: true, logX: true }));
  const families = [...new Set(points.map((p) => p.name))];
  const data = families.map((name, i) => {
    const pts = points.filter((p) => p.name === name).sort((a, b) => a.l0 - b.l0);
    return {
      type: "scatter",
      mode: "lines+markers",
      name: escapeHtml(name), // plotly reads tags in text; entities show as the characters
      x: pts.map((p) => p.l0),
      y: pts.map((p) => p.fvu),
      customdata: pts.map((p) => [escapeHtml(name), escapeHtml(p.label ?? "")]),
      hovertemplate: "<b>%{customdata[0]}</b> %{customdata[1]}<br>L0 %{x:.2f}<br>FVU %{y:.4f}<extra></extra>",
      marker: { size: 8, color: PALETTE[i % PALETTE.length] },
      line: { color: PALETTE[i % PALETTE.length] },
    };
  });
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? "Sparsity–fidelity frontier (lower left is better)" },
      xaxis: { title: { text: "L0 (active features per row)" }, type: opts.logX ? "log" : "linear" },
      yaxis: { title: { text: "FVU (fraction of variance unexplained)" }, rangemode: "tozero" },
      hovermode: "closest",
    },
  });
}
