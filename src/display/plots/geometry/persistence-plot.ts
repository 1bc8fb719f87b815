// The two usual views of a persistence result: the barcode (one horizontal bar per class, from birth
// to death, grouped by dimension) and the persistence diagram (a point (birth, death) per class over
// the diagonal; distance from the diagonal is persistence). Essential classes (death ∞) are drawn up
// to a line marked ∞ just past the largest finite value.
import type { PersistencePair, PersistenceResult } from "../../../geometry/persistence.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import { InputError } from "../../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.barcode` and `fl.plot.persistenceDiagram`. */
export interface PersistencePlotOptions {
  title?: string;
  /** Leave out classes that persist less than this (default 0: all of them). */
  minPersistence?: number;
}

const PERSISTENCE_PLOT_OPTIONS = optionNames<PersistencePlotOptions>({ title: true, minPersistence: true });

/** The diagrams to draw, the value that stands for ∞, and the axis end. */
function prepare(entry: string, result: PersistenceResult, opts: PersistencePlotOptions): { diagrams: PersistencePair[][]; inf: number; top: number } {
  rejectUnknownOptions(entry, opts, PERSISTENCE_PLOT_OPTIONS);
  if (!result || !Array.isArray(result.diagrams)) {
    throw new InputError(undefined, `${entry}: expected a persistence result { diagrams: [H0 pairs, H1 pairs, …] }`);
  }
  const min = opts.minPersistence ?? 0;
  if (typeof min !== "number" || !(min >= 0)) throw new InputError(undefined, `${entry}: minPersistence must be a number ≥ 0, got ${min}`);
  const diagrams = result.diagrams.map((d, dim) => {
    if (!Array.isArray(d)) throw new InputError(undefined, `${entry}: diagram ${dim} is not an array of [birth, death] pairs`);
    return d.filter((p) => p[1] - p[0] >= min);
  });
  let finite = 0;
  for (const d of diagrams) for (const [b, e] of d) finite = Math.max(finite, b, Number.isFinite(e) ? e : 0);
  if (Number.isFinite(result.threshold) && result.threshold > 0) finite = Math.max(finite, result.threshold);
  const inf = finite > 0 ? finite * 1.08 : 1;
  return { diagrams, inf, top: inf * 1.04 };
}

const deathText = (e: number): string => (Number.isFinite(e) ? e.toPrecision(4) : "∞");

/**
 * The barcode of a persistence result: one bar per class from birth to death, H0 at the top, one
 * colour per dimension; essential classes run to the ∞ line.
 * @example
 * fl.show(fl.plot.barcode(fl.persistence(points, { maxDim: 2 }), { minPersistence: 0.01 }));
 */
export function barcodePlot(result: PersistenceResult, opts: PersistencePlotOptions = {}): Figure {
  const { diagrams, inf, top } = prepare("plot.barcode", result, opts);
  const traces: Record<string, unknown>[] = [];
  let row = 0;
  diagrams.forEach((d, dim) => {
    // Longest bars first within a dimension, so the features stand at the top of each group.
    const bars = [...d].sort((a, b) => b[1] - b[0] - (a[1] - a[0]) || a[0] - b[0]);
    // Horizontal bars from birth (base) to death: the whole bar hovers, not only its ends.
    traces.push({
      type: "bar",
      orientation: "h",
      name: `H${dim} (${bars.length})`,
      y: bars.map((_, i) => row + i),
      base: bars.map(([b]) => b),
      x: bars.map(([b, e]) => (Number.isFinite(e) ? e : inf) - b),
      text: bars.map(([b, e]) => `H${dim} [${b.toPrecision(4)}, ${deathText(e)})`),
      textposition: "none",
      width: 0.7,
      marker: { color: PALETTE[dim % PALETTE.length] },
      hovertemplate: "%{text}<extra></extra>",
    });
    row += bars.length;
  });
  traces.push(infinityLine([inf, inf], [-0.5, Math.max(row - 0.5, 0.5)]));
  return new Figure({
    data: traces,
    layout: {
      title: { text: opts.title ?? `Barcode (${result.nPoints} points)` },
      xaxis: { title: { text: "filtration value (edge length)" }, range: [0, top], zeroline: false },
      yaxis: { autorange: "reversed", showticklabels: false, zeroline: false, showgrid: false },
      barmode: "overlay",
      bargap: 0,
      // Above the plot: below it, the ∞ mark would sit among the axis tick labels.
      annotations: [{ x: inf, y: 1, yref: "paper", yanchor: "bottom", text: "∞", showarrow: false }],
      height: Math.max(320, Math.min(900, 120 + 4 * row)),
    },
  });
}

/**
 * The persistence diagram of a persistence result: a point (birth, death) per class, one colour per
 * dimension, over the diagonal; essential classes sit on the ∞ line.
 * @example
 * fl.show(fl.plot.persistenceDiagram(fl.persistence(points, { maxDim: 2 })));
 */
export function persistenceDiagramPlot(result: PersistenceResult, opts: PersistencePlotOptions = {}): Figure {
  const { diagrams, inf, top } = prepare("plot.persistenceDiagram", result, opts);
  const traces: Record<string, unknown>[] = [
    { type: "scatter", mode: "lines", x: [0, top], y: [0, top], line: { color: "#888", width: 1 }, hoverinfo: "skip", showlegend: false },
    infinityLine([0, top], [inf, inf]),
  ];
  diagrams.forEach((d, dim) => {
    traces.push({
      type: "scatter",
      mode: "markers",
      name: `H${dim} (${d.length})`,
      x: d.map((p) => p[0]),
      y: d.map((p) => (Number.isFinite(p[1]) ? p[1] : inf)),
      text: d.map((p) => `H${dim} [${p[0].toPrecision(4)}, ${deathText(p[1])}), persistence ${deathText(p[1] - p[0])}`),
      marker: { size: 8, color: PALETTE[dim % PALETTE.length], opacity: 0.8, line: { width: 0.5, color: "#333" } },
      hovertemplate: "%{text}<extra></extra>",
    });
  });
  return new Figure({
    data: traces,
    layout: {
      title: { text: opts.title ?? `Persistence diagram (${result.nPoints} points)` },
      // Equal scales by narrowing the plot, not by widening the birth axis into negative values.
      // (The axes start a little below 0 so that H0's points, all born at 0, are not cut in half.)
      xaxis: { title: { text: "birth" }, range: [-0.02 * top, top], zeroline: false, constrain: "domain" },
      yaxis: { title: { text: "death" }, range: [-0.02 * top, top], zeroline: false, scaleanchor: "x", constrain: "domain" },
      annotations: [{ x: -0.02 * top, xanchor: "right", xshift: -4, y: inf, text: "∞", showarrow: false }],
      height: 520,
    },
  });
}

function infinityLine(x: number[], y: number[]): Record<string, unknown> {
  return { type: "scatter", mode: "lines", x, y, line: { color: "#888", width: 1, dash: "dash" }, hoverinfo: "skip", showlegend: false };
}
