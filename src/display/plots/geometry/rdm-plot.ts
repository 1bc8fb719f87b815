// An RDM as a labelled heatmap (rsatoolbox's show_rdm): condition labels on both axes, the first
// condition at the top left, hover naming the pair and its dissimilarity. Several RDMs share one
// figure as a grid of panels.
import type { RDM } from "../../../geometry/rdm.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.rdm`. */
export interface RdmPlotOptions {
  title?: string;
  /** Condition order: "cluster" (average linkage), or the labels in the order wanted. */
  order?: "cluster" | readonly string[];
  /** Colour by percentile of the dissimilarities (rsatoolbox's rank-transformed display), 0–100. */
  percentile?: boolean;
  /** A plotly colorscale name (default "Viridis"). */
  colorscale?: string;
}

const RDM_PLOT_OPTIONS = optionNames<RdmPlotOptions>({ title: true, order: true, percentile: true, colorscale: true });

/** One RDM, or several side by side (up to four per row). */
export function rdmPlot(rdms: RDM | readonly RDM[], opts: RdmPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.rdm", opts, RDM_PLOT_OPTIONS);
  const list = (Array.isArray(rdms) ? rdms : [rdms]) as RDM[];
  if (list.length === 0) throw new Error("featurelab: plot.rdm: no RDMs to show");
  const ordered = list.map((r) => (opts.order ? r.reorder(opts.order === "cluster" ? "cluster" : opts.order) : r));
  // One colour scale for all panels if they measure the same thing; otherwise percentiles.
  const measures = new Set(ordered.map((r) => r.dissimilarityMeasure));
  const percentile = opts.percentile ?? (ordered.length > 1 && measures.size > 1);
  const cols = Math.min(ordered.length, 4), rows = Math.ceil(ordered.length / cols);
  const gap = 0.06;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  ordered.forEach((r, k) => {
    const K = r.nConditions;
    const labels = r.labels.map((l) => escapeHtml(l)); // plotly reads tags in text; entities display as the characters
    const m = r.matrix;
    const z = percentile ? percentileMatrix(r) : m;
    const ax = k === 0 ? "" : String(k + 1);
    const col = k % cols, row = Math.floor(k / cols);
    const x0 = col / cols + (col > 0 ? gap / 2 : 0), x1 = (col + 1) / cols - (col < cols - 1 ? gap / 2 : 0);
    const y1 = 1 - row / rows - (row > 0 ? gap : 0), y0 = 1 - (row + 1) / rows + (row < rows - 1 ? gap : 0);
    const ticks = K <= 60;
    data.push({
      type: "heatmap",
      z: z.map((rowv) => rowv.map((v) => (Number.isNaN(v) ? null : v))),
      x: labels,
      y: labels,
      customdata: m.map((rowv) => rowv.map((v) => (Number.isNaN(v) ? "missing" : formatValue(v)))),
      xaxis: `x${ax}`,
      yaxis: `y${ax}`,
      coloraxis: "coloraxis",
      hovertemplate: `<b>%{y}</b> vs <b>%{x}</b><br>${escapeHtml(r.dissimilarityMeasure)}: %{customdata}${percentile ? "<br>percentile %{z:.1f}" : ""}<extra>${escapeHtml(r.name ?? "")}</extra>`,
    });
    layout[`xaxis${ax}`] = { type: "category", domain: [x0, x1], showticklabels: ticks, tickangle: -60, tickfont: { size: K > 30 ? 8 : 11 }, constrain: "domain", anchor: `y${ax}` };
    layout[`yaxis${ax}`] = {
      type: "category", // labels such as "0", "1" stay names, not numbers
      domain: [y0, y1],
      autorange: "reversed",
      showticklabels: ticks,
      tickfont: { size: K > 30 ? 8 : 11 },
      scaleanchor: `x${ax}`,
      constrain: "domain",
      anchor: `x${ax}`,
    };
    if (ordered.length > 1) {
      annotations.push({ text: escapeHtml(r.name ?? `RDM ${k + 1}`), x: (x0 + x1) / 2, y: y1, xref: "paper", yref: "paper", yanchor: "bottom", showarrow: false, font: { size: 13 } });
    }
  });
  const first = ordered[0];
  const title =
    opts.title ??
    (ordered.length === 1
      ? `${first.name ? escapeHtml(first.name) + " — " : ""}RDM of ${first.nConditions} conditions (${escapeHtml(first.dissimilarityMeasure)})`
      : `${ordered.length} RDMs`);
  const colorTitle = percentile ? "percentile" : escapeHtml(measures.size === 1 ? first.dissimilarityMeasure : "dissimilarity");
  return new Figure({
    data,
    layout: {
      ...layout,
      title: { text: title },
      annotations,
      coloraxis: { colorscale: opts.colorscale ?? "Viridis", colorbar: { title: { text: colorTitle } } },
      height: rows === 1 ? (ordered.length === 1 ? 560 : 420) : 360 * rows,
      // One square heatmap: a fixed width keeps the colour bar next to it instead of at the page's edge.
      ...(ordered.length === 1 ? { width: 700, autosize: false } : {}),
      margin: { l: 90, r: 30, t: 70, b: 90 },
      plot_bgcolor: "rgba(0,0,0,0)",
    },
  });
}

/** Each dissimilarity's percentile among the RDM's finite ones (diagonal 0). */
function percentileMatrix(r: RDM): number[][] {
  const finite = Float64Array.from(Array.from(r.vector).filter((v) => !Number.isNaN(v))).sort();
  const below = (v: number) => {
    let lo = 0, hi = finite.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (finite[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    let e = lo;
    while (e < finite.length && finite[e] === v) e++;
    return (lo + e) / 2; // ties share the middle
  };
  return r.matrix.map((row, i) => row.map((v, j) => (i === j ? 0 : Number.isNaN(v) ? NaN : (100 * below(v)) / Math.max(1, finite.length))));
}

function formatValue(v: number): string {
  return v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}
