// A 2-D embedding (MDS, UMAP, PCA) as a scatter: points coloured by metadata — one trace per
// category for text values, a colour scale for numbers — labelled (an RDM's conditions, drawn next
// to the points when there are few) and with hover fields from the data.
import type { ActivationSet } from "../../../data/activation-set.js";
import type { Embedding } from "../../../geometry/embedding.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.embedding`. */
export interface EmbeddingPlotOptions {
  /** Colour by: one value per point (numbers → colour scale, text → categories) or a metadata column of `acts`. */
  color?: ArrayLike<unknown> | string;
  /** The rows the points came from, for metadata columns named in `color` and `hover`. */
  acts?: ActivationSet;
  /** A label per point (default: the embedding's own, e.g. an RDM's conditions). */
  labels?: ArrayLike<unknown>;
  /** Draw labels next to the points (default: when there are labels and at most 60 points). */
  showLabels?: boolean;
  /** Extra hover fields: metadata columns of `acts`, or { name: values }. */
  hover?: string[] | Record<string, ArrayLike<unknown>>;
  /** Name of the colour in the legend or colour bar (default: the column name, or "value"). */
  colorTitle?: string;
  title?: string;
  /** Marker size (default 7, or 4 above 2 000 points). */
  size?: number;
}

const EMBEDDING_PLOT_OPTIONS = optionNames<EmbeddingPlotOptions>({ color: true, acts: true, labels: true, showLabels: true, hover: true, colorTitle: true, title: true, size: true });

type EmbeddingInput = Embedding | { coords: ArrayLike<number>; k: number; method?: string; labels?: string[]; explained?: number[]; stress1?: number } | ArrayLike<number>[];

function normalise(e: EmbeddingInput) {
  if (Array.isArray(e)) {
    const k = e[0]?.length ?? 0;
    const coords = new Float64Array(e.length * k);
    e.forEach((r, i) => {
      for (let c = 0; c < k; c++) coords[i * k + c] = r[c];
    });
    return { coords, k, n: e.length, method: "", labels: undefined as string[] | undefined, explained: undefined as number[] | undefined, stress1: undefined as number | undefined };
  }
  const o = e as { coords: ArrayLike<number>; k: number; method?: string; labels?: string[]; explained?: number[]; stress1?: number };
  return { coords: o.coords, k: o.k, n: o.coords.length / o.k, method: o.method ?? "", labels: o.labels, explained: o.explained, stress1: o.stress1 };
}

export function embeddingPlot(embedding: EmbeddingInput, opts: EmbeddingPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.embedding", opts, EMBEDDING_PLOT_OPTIONS);
  const e = normalise(embedding);
  const { n } = e;
  if (e.k < 2) throw new Error(`featurelab: embedding plot needs at least 2 dimensions, got ${e.k}`);
  const column = (name: string) => {
    if (!opts.acts) throw new Error(`featurelab: embedding plot: '${name}' names a metadata column; pass { acts } too`);
    return opts.acts.column(name);
  };
  const perPoint = (v: ArrayLike<unknown>, what: string) => {
    if (v.length !== n) throw new Error(`featurelab: embedding plot: ${v.length} ${what} for ${n} points`);
    return v;
  };
  if (opts.acts && opts.acts.numRows !== n) throw new Error(`featurelab: embedding plot: the set has ${opts.acts.numRows} rows, the embedding ${n} points`);
  const colorValues = typeof opts.color === "string" ? perPoint(column(opts.color), "colours") : opts.color ? perPoint(opts.color, "colours") : undefined;
  const colorTitle = opts.colorTitle ?? (typeof opts.color === "string" ? opts.color : "value");
  const labels = opts.labels ? perPoint(opts.labels, "labels") : e.labels;
  const hoverFields: [string, ArrayLike<unknown>][] = Array.isArray(opts.hover)
    ? opts.hover.map((name) => [name, perPoint(column(name), name)])
    : Object.entries(opts.hover ?? {}).map(([name, v]) => [name, perPoint(v, name)]);
  const showLabels = opts.showLabels ?? (labels !== undefined && n <= 60);
  const size = opts.size ?? (n > 2000 ? 4 : 7);
  const x = (ids: number[]) => ids.map((i) => e.coords[i * e.k]);
  const y = (ids: number[]) => ids.map((i) => e.coords[i * e.k + 1]);
  const text = (v: unknown) => escapeHtml(typeof v === "number" ? +v.toPrecision(6) : v);

  let hover = labels ? "<b>%{customdata[1]}</b> (#%{customdata[0]})" : "<b>#%{customdata[0]}</b>";
  if (colorValues) hover += `<br>${escapeHtml(colorTitle)}: %{customdata[2]}`;
  hoverFields.forEach(([name], f) => (hover += `<br>${escapeHtml(name)}: %{customdata[${3 + f}]}`));
  hover += "<extra></extra>";
  const custom = (ids: number[]) =>
    ids.map((i) => [i, labels ? text(labels[i]) : null, colorValues ? text(colorValues[i]) : null, ...hoverFields.map(([, v]) => text(v[i]))]);
  const base = (ids: number[]) => ({
    type: n > 5000 ? "scattergl" : "scatter",
    mode: showLabels ? "markers+text" : "markers",
    x: x(ids),
    y: y(ids),
    customdata: custom(ids),
    hovertemplate: hover,
    ...(showLabels ? { text: ids.map((i) => text(labels![i])), textposition: "top center", textfont: { size: 11 } } : {}),
  });

  const all = Array.from({ length: n }, (_, i) => i);
  const data: Record<string, unknown>[] = [];
  const numeric = colorValues && Array.from(colorValues).every((v) => typeof v === "number" || typeof v === "bigint");
  if (!colorValues) {
    data.push({ ...base(all), marker: { size, color: "#1f77b4" }, showlegend: false });
  } else if (numeric) {
    data.push({
      ...base(all),
      marker: { size, color: Array.from(colorValues, Number), colorscale: "Viridis", colorbar: { title: { text: escapeHtml(colorTitle) } }, line: { width: 0 } },
      showlegend: false,
    });
  } else {
    const groups = new Map<string, number[]>();
    all.forEach((i) => {
      const key = String(colorValues[i]);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(i);
    });
    for (const [key, ids] of groups) data.push({ ...base(ids), name: escapeHtml(key), marker: { size } });
  }

  const method = e.method || "dimension";
  const axis = (c: number) => {
    const share = e.explained?.[c];
    return `${escapeHtml(method)} ${c + 1}${share !== undefined ? ` (${(100 * share).toFixed(1)}%)` : ""}`;
  };
  // Distances mean something in MDS and PCA: keep one unit the same length on both axes.
  const metric = /MDS|PCA/i.test(method);
  const subtitle = e.stress1 !== undefined ? ` — stress-1 ${e.stress1.toFixed(3)}` : "";
  return new Figure({
    data,
    layout: {
      title: { text: opts.title ?? `${escapeHtml(e.method || "Embedding")} of ${n} point${n === 1 ? "" : "s"}${subtitle}` },
      xaxis: { title: { text: axis(0) }, zeroline: false },
      yaxis: { title: { text: axis(1) }, zeroline: false, ...(metric ? { scaleanchor: "x", scaleratio: 1 } : {}) },
      hovermode: "closest",
      showlegend: Boolean(colorValues && !numeric),
      legend: colorValues && !numeric ? { title: { text: escapeHtml(colorTitle) } } : undefined,
      height: 520,
    },
  });
}
