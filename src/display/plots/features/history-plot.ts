// Training curves of a dictionary: loss, L0, FVU and dead fraction against the step.
import type { Dictionary, TrainingRecord } from "../../../dictionaries/dictionary.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

export function historyPlot(dict: Dictionary, opts: { title?: string } = {}): Figure {
  rejectUnknownOptions("plot.history", opts, optionNames<typeof opts>({ title: true }));
  if (dict.history.length === 0) throw new Error("featurelab: this dictionary has no training history (was it loaded from disk?)");
  return historyFigure(dict.history, opts.title ?? `Training: ${dict.cfg.architecture}, width ${dict.width}`);
}

/** Loss, L0, FVU and dead fraction against the step, in four panels (also the live view during `fit`). */
export function historyFigure(h: readonly TrainingRecord[], title: string): Figure {
  const steps = h.map((r) => r.step);
  const panels: [string, number[], string][] = [
    ["loss", h.map((r) => r.loss), "log"],
    ["L0", h.map((r) => r.l0), "linear"],
    ["FVU", h.map((r) => r.fvu), "linear"],
    ["dead fraction", h.map((r) => r.deadFraction), "linear"],
  ];
  const layout: Record<string, unknown> = {
    title: { text: title },
    showlegend: false,
    height: 520,
    grid: { rows: 2, columns: 2, pattern: "independent" },
  };
  const data = panels.map(([name, ys, scale], i) => {
    const axis = i === 0 ? "" : String(i + 1);
    layout[`xaxis${axis}`] = { title: { text: "step" } };
    layout[`yaxis${axis}`] = { title: { text: name }, type: scale };
    return {
      type: "scatter",
      mode: "lines",
      name,
      x: steps,
      y: ys,
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
      hovertemplate: `${name} %{y:.4g}<br>step %{x}<extra></extra>`,
      line: { color: "#1f77b4" },
    };
  });
  return new Figure({ data, layout });
}
