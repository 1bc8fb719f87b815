// An RDM's heatmap beside its classical MDS, linked in the page: hovering a cell highlights that pair
// of conditions in the MDS panel, hovering a condition outlines its row in the heatmap
// (widgets/rdm-mds-link.js). The teaching view of RSA: a distance in the matrix is a distance in the plane.
import type { RDM } from "../../../geometry/rdm.js";
import { classicalMds } from "../../../geometry/mds.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.rdmMds`. */
export interface RdmMdsOptions {
  title?: string;
  /** Embed √value, for squared "euclidean" RDMs (see classicalMds). */
  sqrt?: boolean;
  /** A colour per condition, e.g. its category (labels of the legend). */
  groups?: readonly string[];
}

const RDM_MDS_OPTIONS = optionNames<RdmMdsOptions>({ title: true, sqrt: true, groups: true });

export function rdmMdsPlot(rdm: RDM, opts: RdmMdsOptions = {}): Figure {
  rejectUnknownOptions("plot.rdmMds", opts, RDM_MDS_OPTIONS);
  const K = rdm.nConditions;
  if (opts.groups && opts.groups.length !== K) throw new Error(`featurelab: plot.rdmMds: ${opts.groups.length} groups for ${K} conditions`);
  const mds = classicalMds(rdm, { k: 2, sqrt: opts.sqrt });
  const x = Array.from({ length: K }, (_, i) => mds.coords[2 * i]);
  const y = Array.from({ length: K }, (_, i) => mds.coords[2 * i + 1]);
  const labels = rdm.labels.map((l) => escapeHtml(l));
  const m = rdm.matrix;
  const size = K > 60 ? 6 : 10;
  const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const groupNames = opts.groups ? [...new Set(opts.groups)] : [];
  const colour = (i: number) => (opts.groups ? palette[groupNames.indexOf(opts.groups[i]) % palette.length] : "#1f77b4");
  const measure = escapeHtml(rdm.dissimilarityMeasure);
  return new Figure({
    data: [
      {
        type: "heatmap",
        z: m.map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
        x: labels,
        y: labels,
        xaxis: "x",
        yaxis: "y",
        colorscale: "Viridis",
        colorbar: { title: { text: measure }, x: 0.45, len: 0.9, thickness: 12 },
        hovertemplate: `<b>%{y}</b> vs <b>%{x}</b><br>${measure}: %{z:.4g}<extra></extra>`,
      },
      {
        type: "scatter",
        mode: K <= 40 ? "markers+text" : "markers",
        x,
        y,
        text: labels,
        textposition: "top center",
        textfont: { size: 10 },
        xaxis: "x2",
        yaxis: "y2",
        marker: { size: Array(K).fill(size), color: Array.from({ length: K }, (_, i) => colour(i)), line: { width: Array(K).fill(0.5), color: "#333" } },
        hovertemplate: "<b>%{text}</b><extra></extra>",
        showlegend: false,
      },
      { type: "scatter", mode: "lines", x: [], y: [], xaxis: "x2", yaxis: "y2", line: { color: "#d62728", width: 2 }, hoverinfo: "skip", showlegend: false },
      ...groupNames.map((g, k) => ({ type: "scatter", mode: "markers", x: [null], y: [null], xaxis: "x2", yaxis: "y2", name: escapeHtml(g), marker: { color: palette[k % palette.length], size: 10 }, hoverinfo: "skip" })),
    ],
    layout: {
      title: { text: opts.title ?? `${rdm.name ? escapeHtml(rdm.name) + " — " : ""}RDM and its classical MDS (hover a cell or a point)` },
      height: 520,
      xaxis: { domain: [0, 0.44], type: "category", showticklabels: K <= 40, tickangle: -60, tickfont: { size: 9 }, constrain: "domain" },
      yaxis: { domain: [0, 1], type: "category", autorange: "reversed", showticklabels: K <= 40, tickfont: { size: 9 }, scaleanchor: "x", constrain: "domain" },
      xaxis2: { domain: [0.6, 1], title: { text: "MDS 1" }, zeroline: false },
      yaxis2: { anchor: "x2", title: { text: "MDS 2" }, zeroline: false, scaleanchor: "x2" },
      margin: { l: 80, r: 20, t: 60, b: 80 },
      legend: { x: 1, y: 1, xanchor: "right" },
      hovermode: "closest",
    },
    behaviour: { widget: "rdm-mds-link", fn: "featurelabRdmMdsLink", args: { n: K, x, y, size } },
  });
}
