// The decoder-geometry scatter: each dictionary feature's decoder row projected to 2-D, coloured by
// how often the feature fires; hover names the feature, its density and its best-matching reference
// direction (e.g. a ground-truth feature).
import type { ActivationSet } from "../../../data/activation-set.js";
import type { Dictionary } from "../../../dictionaries/dictionary.js";
import { reconstructionStats } from "../../../metrics/reconstruction.js";
import { bestMatches, type Directions } from "../../../metrics/mmcs.js";
import { pca } from "../../../geometry/pca.js";
import { decoderNeighbors } from "../../../geometry/decoder-geometry.js";
import { escapeHtml } from "../../core/escape.js";
import { TokenIndex, featureCardHtml } from "./feature-card.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.geometry`. */
export interface GeometryPlotOptions {
  /** Activations to measure each feature's firing density on. */
  acts?: ActivationSet;
  /** …or the densities themselves (fraction of rows each feature fires on). */
  density?: ArrayLike<number>;
  /** Reference directions (rows), e.g. ground-truth features: hover shows the best match. */
  reference?: Directions;
  /** What to call the reference directions in hover text. */
  referenceName?: string;
  title?: string;
  /**
   * Clicking a point shows that feature's card (density, top examples from `acts` with their tokens,
   * nearest features) beside the plot, embedded in the page. Default: when `acts` is given and the
   * dictionary has at most 1024 features.
   */
  cards?: boolean;
  /** Token text per row of `acts` for the cards (default: its `token` column, if any). */
  tokens?: ArrayLike<unknown>;
}

const GEOMETRY_PLOT_OPTIONS = optionNames<GeometryPlotOptions>({ acts: true, density: true, reference: true, referenceName: true, title: true, cards: true, tokens: true });

/** Every feature's card from one pass over the codes of `acts`. */
function featureCards(dict: Dictionary, acts: ActivationSet, tokens?: ArrayLike<unknown>): Record<string, string> {
  const codes = dict.encode(acts);
  const n = dict.width;
  const fired = Array.from({ length: n }, () => ({ rows: [] as number[], values: [] as number[] }));
  for (let r = 0; r < codes.numRows; r++) {
    for (let k = codes.indptr[r]; k < codes.indptr[r + 1]; k++) {
      if (codes.values[k] > 0) {
        const f = fired[codes.indices[k]];
        f.rows.push(r);
        f.values.push(codes.values[k]);
      }
    }
  }
  const index = new TokenIndex(acts, tokens);
  const nb = n > 1 ? decoderNeighbors(dict, Math.min(5, n - 1)) : undefined;
  const cards: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const neighbors = nb ? Array.from({ length: nb.k }, (_, t) => ({ feature: nb.indices[i * nb.k + t], cosine: nb.cosine[i * nb.k + t] })) : [];
    cards[i] = featureCardHtml(i, fired[i], codes.numRows, index, neighbors, { examples: 5, context: 4 });
  }
  return cards;
}

/** Dictionaries wider than this are drawn with WebGL markers (scattergl). */
const WEBGL_ABOVE = 4096;

export function geometryPlot(dict: Dictionary, opts: GeometryPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.geometry", opts, GEOMETRY_PLOT_OPTIONS);
  const { values, dim } = dict.decoderDirections();
  const proj = pca(values, dim, 2);
  const n = dict.width;
  const density = opts.density ?? (opts.acts ? reconstructionStats(dict, opts.acts).density : undefined);
  if (density && density.length !== n) {
    throw new Error(`featurelab: geometry plot: ${density.length} densities for a dictionary of width ${n}`);
  }
  const match = opts.reference ? bestMatches({ values, dim }, opts.reference) : undefined;
  const refName = escapeHtml(opts.referenceName ?? "reference"); // plotly reads tags in text

  const alive: number[] = [];
  const dead: number[] = [];
  for (let i = 0; i < n; i++) (density && density[i] === 0 ? dead : alive).push(i);
  const custom = (ids: number[]) =>
    ids.map((i) => [i, density ? density[i] : null, match ? match.index[i] : null, match ? match.cosine[i] : null]);
  let hover = "<b>feature %{customdata[0]}</b>";
  if (density) hover += "<br>density %{customdata[1]:.4f}";
  if (match) hover += `<br>best ${refName}: #%{customdata[2]} (cos %{customdata[3]:.3f})`;
  hover += "<extra></extra>";
  // Past a few thousand points SVG markers make hover and selection sluggish; WebGL keeps them fluid.
  const type = n > WEBGL_ABOVE ? "scattergl" : "scatter";
  const xs = (ids: number[]) => ids.map((i) => proj.coords[2 * i]);
  const ys = (ids: number[]) => ids.map((i) => proj.coords[2 * i + 1]);

  const data: Record<string, unknown>[] = [
    {
      type,
      mode: "markers",
      name: "features",
      x: xs(alive),
      y: ys(alive),
      customdata: custom(alive),
      hovertemplate: hover,
      marker: density
        ? {
            size: 7,
            color: alive.map((i) => Math.log10(Math.max(density[i], 1e-8))),
            colorscale: "Viridis",
            colorbar: { title: { text: "log10 density" } },
            line: { width: 0 },
          }
        : { size: 7, color: "#1f77b4" },
    },
  ];
  if (dead.length > 0) {
    data.push({
      type,
      mode: "markers",
      name: "dead",
      x: xs(dead),
      y: ys(dead),
      customdata: custom(dead),
      hovertemplate: hover,
      marker: { size: 6, color: "rgba(150,150,150,0.6)", symbol: "x" },
    });
  }
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const withCards = opts.cards ?? (opts.acts !== undefined && n <= 1024);
  if (withCards && !opts.acts) throw new Error("featurelab: geometry plot: cards need { acts } (the rows whose examples they show)");
  return new Figure({
    cards: withCards ? featureCards(dict, opts.acts!, opts.tokens) : undefined,
    data,
    layout: {
      title: { text: opts.title ?? `Decoder geometry: ${n} features (PCA of W_dec rows)` },
      xaxis: { title: { text: `PC1 (${pct(proj.explained[0])} of variance)` }, zeroline: false },
      yaxis: { title: { text: `PC2 (${pct(proj.explained[1])})` }, zeroline: false },
      hovermode: "closest",
      showlegend: dead.length > 0,
    },
  });
}
