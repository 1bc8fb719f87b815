// Figures of the toy model of superposition (Elhage et al. 2022): each model's feature directions
// (columns of W) in its 2-D hidden space — the pentagon — or WᵀW when m > 2; and every feature's
// dimensionality D_i against 1/(1 − S), with the fractions where it sticks (¾, ⅔, ½, ⅖, ⅜) marked.
import type { ToySuperposition } from "../../../models/toy-superposition.js";
import { Rng } from "../../../engine/random.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.superposition`. */
export interface SuperpositionPlotOptions {
  /** Which models (feature probabilities) to draw, one panel each (default all, up to 10). */
  models?: number[];
  /** Panels per row (default 5). */
  columns?: number;
  title?: string;
}

const SUPERPOSITION_PLOT_OPTIONS = optionNames<SuperpositionPlotOptions>({ models: true, columns: true, title: true });

const fmtP = (p: number) => (p >= 0.1 ? p.toFixed(2) : p.toPrecision(2));

/** Panel j's axis names and domain in a grid of `rows` × `cols`. */
function grid(j: number, count: number, cols: number) {
  const rows = Math.ceil(count / cols);
  const r = Math.floor(j / cols), c = j % cols;
  const gapX = 0.04, gapY = 0.12;
  const w = (1 - gapX * (cols - 1)) / cols, h = (1 - gapY * (rows - 1)) / rows;
  const x0 = c * (w + gapX), y1 = 1 - r * (h + gapY);
  const suffix = j === 0 ? "" : String(j + 1);
  return { xa: `x${suffix}`, ya: `y${suffix}`, xKey: `xaxis${suffix}`, yKey: `yaxis${suffix}`, x: [x0, x0 + w], y: [y1 - h, y1], rows };
}

/** The feature directions of toy models: arrows in 2-D (m = 2), else WᵀW heatmaps. */
export function superpositionPlot(model: ToySuperposition, opts: SuperpositionPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.superposition", opts, SUPERPOSITION_PLOT_OPTIONS);
  const models = opts.models ?? Array.from({ length: Math.min(model.models, 10) }, (_, k) => k);
  for (const k of models) if (!(k >= 0 && k < model.models)) throw new RangeError(`featurelab: superposition plot: model ${k} out of range 0..${model.models - 1}`);
  const cols = Math.min(opts.columns ?? 5, models.length);
  const n = model.features;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { showlegend: false, hovermode: "closest", annotations: [] as unknown[] };
  const annotations = layout.annotations as Record<string, unknown>[];
  let rows = 1;
  if (model.hidden === 2) {
    let reach = 0;
    for (const k of models) for (const v of model.norms(k)) reach = Math.max(reach, v);
    const r = Math.max(reach, 0.5) * 1.2;
    models.forEach((k, j) => {
      const g = grid(j, models.length, cols);
      rows = g.rows;
      const W = model.W(k), norms = model.norms(k), D = model.dimensionality(k);
      const ids = Array.from({ length: n }, (_, i) => i);
      // Tips first, so a feature's hover is what the pointer meets.
      data.push({
        type: "scatter",
        mode: n <= 12 ? "markers+text" : "markers",
        x: ids.map((i) => W[0][i]),
        y: ids.map((i) => W[1][i]),
        text: ids.map(String),
        textposition: "top right",
        textfont: { size: 10, color: "#555" },
        customdata: ids.map((i) => [i, norms[i], D[i], model.importance[i]]),
        hovertemplate: "<b>feature %{customdata[0]}</b><br>‖W_i‖ %{customdata[1]:.3f}<br>D_i %{customdata[2]:.3f}<br>importance %{customdata[3]:.3g}<extra></extra>",
        marker: { size: 9, color: ids.map((i) => model.importance[i]), colorscale: "Viridis", cmin: Math.min(...model.importance), cmax: Math.max(...model.importance) + 1e-9 },
        xaxis: g.xa,
        yaxis: g.ya,
      });
      data.push({
        type: "scatter",
        mode: "lines",
        x: ids.flatMap((i) => [0, W[0][i], null]),
        y: ids.flatMap((i) => [0, W[1][i], null]),
        line: { color: "rgba(80,80,80,0.6)", width: 2 },
        hoverinfo: "skip",
        xaxis: g.xa,
        yaxis: g.ya,
      });
      const axis = { range: [-r, r], zeroline: true, zerolinecolor: "#ddd", showticklabels: false, showgrid: false };
      layout[g.xKey] = { ...axis, domain: g.x, anchor: g.ya };
      layout[g.yKey] = { ...axis, domain: g.y, anchor: g.xa, scaleanchor: g.xa, constrain: "domain" };
      annotations.push({ text: `1−S = ${fmtP(model.featureProbability[k])}`, x: (g.x[0] + g.x[1]) / 2, y: g.y[1], xref: "paper", yref: "paper", yanchor: "bottom", showarrow: false, font: { size: 12 } });
    });
  } else {
    // m > 2: WᵀW, the paper's other view — features sharing dimensions show off the diagonal.
    let zmax = 0;
    const grams = models.map((k) => {
      const W = model.W(k);
      const G = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => W.reduce((s, row) => s + row[i] * row[j], 0)));
      for (const row of G) for (const v of row) zmax = Math.max(zmax, Math.abs(v));
      return G;
    });
    models.forEach((k, j) => {
      const g = grid(j, models.length, cols);
      rows = g.rows;
      data.push({
        type: "heatmap",
        z: grams[j],
        zmin: -zmax,
        zmax,
        colorscale: "RdBu",
        reversescale: true,
        showscale: j === 0,
        colorbar: { title: { text: "WᵀW" } },
        hovertemplate: "feature %{y} · feature %{x}: %{z:.3f}<extra></extra>",
        xaxis: g.xa,
        yaxis: g.ya,
      });
      layout[g.xKey] = { domain: g.x, anchor: g.ya, showticklabels: false };
      layout[g.yKey] = { domain: g.y, anchor: g.xa, autorange: "reversed", showticklabels: false, scaleanchor: g.xa, constrain: "domain" };
      annotations.push({ text: `1−S = ${fmtP(model.featureProbability[k])}`, x: (g.x[0] + g.x[1]) / 2, y: g.y[1], xref: "paper", yref: "paper", yanchor: "bottom", showarrow: false, font: { size: 12 } });
    });
  }
  layout.title = { text: opts.title ?? `Toy model of superposition: ${n} features in ${model.hidden} dimensions${model.hidden === 2 ? " (columns of W)" : " (WᵀW)"}` };
  layout.height = Math.max(300, rows * (cols >= 4 ? 230 : 320) + 90);
  layout.margin = { l: 20, r: 20, t: 80, b: 20 };
  return new Figure({ data, layout });
}

/** Sticky fractions of the feature dimensionality and the geometry each belongs to. */
const FRACTIONS: [number, string, string][] = [
  [1, "1", "a dimension of its own"],
  [3 / 4, "3/4", "tetrahedron"],
  [2 / 3, "2/3", "triangle"],
  [1 / 2, "1/2", "antipodal pair"],
  [2 / 5, "2/5", "pentagon"],
  [3 / 8, "3/8", "square antiprism"],
];

/** Options of `fl.plot.dimensionality`. */
export interface DimensionalityPlotOptions {
  title?: string;
  /** Horizontal spread of the points of one model, as a fraction of a log10 unit (default 0.03). */
  jitter?: number;
}

const DIMENSIONALITY_PLOT_OPTIONS = optionNames<DimensionalityPlotOptions>({ title: true, jitter: true });

/** Every feature's D_i against 1/(1 − S), one column of points per model, with m/‖W‖²_F. */
export function dimensionalityPlot(model: ToySuperposition, opts: DimensionalityPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.dimensionality", opts, DIMENSIONALITY_PLOT_OPTIONS);
  const rng = new Rng(0); // the jitter is decoration; keep the figure the same every run
  const spread = opts.jitter ?? 0.03;
  const xs: number[] = [], ys: number[] = [], custom: unknown[] = [];
  const perFeature: number[] = [];
  for (let k = 0; k < model.models; k++) {
    const inv = 1 / model.featureProbability[k];
    const D = model.dimensionality(k);
    D.forEach((d, i) => {
      xs.push(inv * 10 ** (spread * (2 * rng.uniform() - 1)));
      ys.push(d);
      custom.push([i, inv, d, model.featureProbability[k]]);
    });
    perFeature.push(model.dimensionsPerFeature(k));
  }
  const invs = model.featureProbability.map((p) => 1 / p);
  const data: Record<string, unknown>[] = [
    {
      type: xs.length > 5000 ? "scattergl" : "scatter",
      mode: "markers",
      name: "D_i of a feature",
      x: xs,
      y: ys,
      customdata: custom,
      hovertemplate: "<b>feature %{customdata[0]}</b><br>1/(1−S) = %{customdata[1]:.3g} (1−S = %{customdata[3]:.3g})<br>D_i = %{customdata[2]:.3f}<extra></extra>",
      marker: { size: 4, color: "rgba(20,20,20,0.45)" },
    },
    {
      type: "scatter",
      mode: "lines+markers",
      name: "m/‖W‖²_F (dimensions per feature)",
      x: invs,
      y: perFeature,
      hovertemplate: "1/(1−S) = %{x:.3g}<br>m/‖W‖²_F = %{y:.3f}<extra></extra>",
      line: { color: "#d62728", width: 2 },
      marker: { size: 6, color: "#d62728" },
    },
  ];
  const shapes = FRACTIONS.map(([v]) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: v, y1: v, line: { color: "rgba(31,119,180,0.45)", width: 1, dash: "dot" } }));
  const annotations = FRACTIONS.map(([v, label, name]) => ({
    text: `${label} ${name}`,
    xref: "paper",
    x: 1.01,
    y: v,
    xanchor: "left",
    // ⅖ and ⅜ sit 0.025 apart: one label above its line, the other below.
    yanchor: v === 2 / 5 ? "bottom" : v === 3 / 8 ? "top" : "middle",
    showarrow: false,
    font: { size: 11, color: "#1f77b4" },
  }));
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? `Feature dimensionality: ${model.features} features in ${model.hidden} dimensions` },
      xaxis: { type: "log", title: { text: "1/(1−S)   ← dense | sparse →" }, tickvals: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], ticktext: ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "5000", "10⁴"] },
      yaxis: { title: { text: "dimensions per feature" }, range: [-0.03, 1.1], zeroline: false },
      shapes,
      annotations,
      hovermode: "closest",
      legend: { orientation: "h", y: -0.2 },
      margin: { l: 60, r: 170, t: 60, b: 90 },
      height: 520,
    },
  });
}
