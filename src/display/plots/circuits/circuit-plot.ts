// Transcoder circuits drawn: a layered graph of the strongest feature-to-feature edges (one column per
// traced MLP layer, line width ∝ |attribution|, blue excites, red inhibits; hover a node for its
// frequency and top tokens, an edge's midpoint for its numbers), and one feature's per-token
// decomposition as bars. Token text comes from data: escaped before it reaches plotly or HTML.
import type { TranscoderCircuit, CircuitEdge, CircuitFeature } from "../../../circuits/transcoders/circuit.js";
import type { FeatureContributions, ContributionKind } from "../../../circuits/transcoders/feature-contributions.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapePlotlyText } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import type { Cell } from "../../core/table.js";
import { figureWithTable } from "../../core/figure-table.js";
import { circuitCards, nodeName } from "./circuit-cards.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `fl.plot.circuit`. */
export interface CircuitGraphOptions {
  /** Edges drawn, strongest first (default 40). */
  maxEdges?: number;
  title?: string;
  /** Feature cards beside the graph on hover/click (default true). */
  cards?: boolean;
}

const CIRCUIT_GRAPH_OPTIONS = optionNames<CircuitGraphOptions>({ maxEdges: true, title: true, cards: true });

const POSITIVE = "#1f77b4", NEGATIVE = "#d62728";
const name = nodeName;
const tokensText = (f: CircuitFeature | undefined) => (f ? f.topTokens.map((t) => JSON.stringify(t)).join(", ") : "");

/** Rows of nodes per layer, ordered to keep lines short: targets by strength, sources by where their targets sit. */
function layout(edges: readonly CircuitEdge[]): Map<string, { layer: number; feature: number; x: number; y: number }> {
  const layers = [...new Set(edges.flatMap((e) => [e.sourceLayer, e.targetLayer]))].sort((a, b) => a - b);
  const strength = new Map<string, number>();
  for (const e of edges) {
    for (const k of [name(e.sourceLayer, e.source), name(e.targetLayer, e.target)]) strength.set(k, (strength.get(k) ?? 0) + Math.abs(e.meanWhenActive));
  }
  const nodes = new Map<string, { layer: number; feature: number; x: number; y: number }>();
  for (let li = layers.length - 1; li >= 0; li--) {
    const layer = layers[li];
    const here = new Map<string, number>();
    for (const e of edges) {
      if (e.targetLayer === layer) here.set(name(layer, e.target), e.target);
      if (e.sourceLayer === layer) here.set(name(layer, e.source), e.source);
    }
    // Barycentre of already placed neighbours (later layers), else strength.
    const key = (k: string) => {
      const ys = edges.filter((e) => name(e.sourceLayer, e.source) === k && nodes.has(name(e.targetLayer, e.target))).map((e) => nodes.get(name(e.targetLayer, e.target))!.y);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : -(strength.get(k) ?? 0);
    };
    const placedLater = li < layers.length - 1;
    const order = [...here.keys()].sort((a, b) => (placedLater ? key(a) - key(b) : (strength.get(b) ?? 0) - (strength.get(a) ?? 0)));
    order.forEach((k, i) => nodes.set(k, { layer, feature: here.get(k)!, x: li, y: order.length === 1 ? 0.5 : i / (order.length - 1) }));
  }
  return nodes;
}

export function circuitGraph(circuit: TranscoderCircuit, opts: CircuitGraphOptions = {}): Figure {
  rejectUnknownOptions("plot.circuit", opts, CIRCUIT_GRAPH_OPTIONS);
  const edges = circuit.top(opts.maxEdges ?? 40);
  const nodes = layout(edges);
  const maxAbs = Math.max(1e-12, ...edges.map((e) => Math.abs(e.meanWhenActive)));
  const data: Record<string, unknown>[] = [];
  for (const e of edges) {
    const a = nodes.get(name(e.sourceLayer, e.source))!, b = nodes.get(name(e.targetLayer, e.target))!;
    data.push({ type: "scatter", mode: "lines", x: [a.x, b.x], y: [a.y, b.y], hoverinfo: "skip", showlegend: false, line: { width: 0.5 + 7 * (Math.abs(e.meanWhenActive) / maxAbs), color: e.meanWhenActive >= 0 ? POSITIVE : NEGATIVE }, opacity: 0.55 });
  }
  data.push({
    type: "scatter",
    mode: "markers",
    name: "edges",
    showlegend: false,
    x: edges.map((e) => (nodes.get(name(e.sourceLayer, e.source))!.x + nodes.get(name(e.targetLayer, e.target))!.x) / 2),
    y: edges.map((e) => (nodes.get(name(e.sourceLayer, e.source))!.y + nodes.get(name(e.targetLayer, e.target))!.y) / 2),
    marker: { size: 6, color: edges.map((e) => (e.meanWhenActive >= 0 ? POSITIVE : NEGATIVE)), opacity: 0.35 },
    // customdata[0] names the edge (no card has that name: hovering an edge keeps the side panel as it is).
    customdata: edges.map((e) => [`${name(e.sourceLayer, e.source)} → ${name(e.targetLayer, e.target)}`, e.meanWhenActive, 100 * e.share, e.mean, e.virtualWeight, e.targetFires]),
    hovertemplate: "<b>%{customdata[0]}</b><br>mean when the target fires %{customdata[1]:.4g} (%{customdata[2]:.1f}% of its activation)<br>mean over all tokens %{customdata[3]:.4g}<br>virtual weight %{customdata[4]:.4g}<br>target fires on %{customdata[5]} tokens<extra></extra>",
  });
  const list = [...nodes.values()];
  data.push({
    type: "scatter",
    mode: "markers+text",
    name: "features",
    showlegend: false,
    x: list.map((n) => n.x),
    y: list.map((n) => n.y),
    text: list.map((n) => `F${n.feature}`),
    textposition: list.map((n) => (n.x === 0 ? "middle left" : "middle right")),
    marker: { size: 13, color: "#444", line: { color: "white", width: 1 } },
    customdata: list.map((n) => {
      const f = circuit.feature(n);
      return [name(n.layer, n.feature), 100 * (f?.frequency ?? 0), f?.meanWhenActive ?? 0, escapePlotlyText(tokensText(f))];
    }),
    hovertemplate: "<b>%{customdata[0]}</b><br>fires on %{customdata[1]:.2f}% of tokens, mean %{customdata[2]:.3g}<br>top tokens: %{customdata[3]}<extra></extra>",
  });
  const layers = [...new Set(list.map((n) => n.layer))].sort((a, b) => a - b);
  return new Figure({
    cards: opts.cards === false ? undefined : circuitCards(circuit, list),
    cardsHint: "Hover over a feature to see its top activations and edges; click to keep it.",
    data,
    layout: {
      title: { text: opts.title ?? `Transcoder circuit: the ${edges.length} strongest edges over ${circuit.tokens} tokens<br><sup>blue excites, red inhibits; width ∝ |mean attribution when the target fires|</sup>` },
      height: Math.max(380, 26 * Math.max(...layers.map((l) => list.filter((n) => n.layer === l).length)) + 140),
      hovermode: "closest",
      xaxis: { tickmode: "array", tickvals: layers.map((_, i) => i), ticktext: layers.map((l) => `layer ${l} MLP transcoder`), range: [-0.4, layers.length - 0.6], zeroline: false, showgrid: false },
      yaxis: { visible: false, range: [-0.06, 1.06] },
      margin: { l: 40, r: 40, t: 90, b: 50 },
    },
  });
}

const EDGE_COLUMNS = ["source", "source tokens", "target", "target tokens", "meanWhenActive", "share", "mean", "virtualWeight", "targetFires"];

/** How fl.show draws a TranscoderCircuit: the graph above the table of its strongest edges. */
export function circuitBundle(circuit: TranscoderCircuit): MimeBundle {
  const rows: Cell[][] = circuit.top(30).map((e) => [
    name(e.sourceLayer, e.source),
    tokensText(circuit.feature({ layer: e.sourceLayer, feature: e.source })),
    name(e.targetLayer, e.target),
    tokensText(circuit.feature({ layer: e.targetLayer, feature: e.target })),
    e.meanWhenActive,
    e.share,
    e.mean,
    e.virtualWeight,
    e.targetFires,
  ]);
  const caption = `${circuit.edges.length} edges between the transcoders of layers ${circuit.transcoders.map((t) => t.layer).join(", ")} (LayerNorm ${circuit.layerNorm}); the 30 strongest (.edges for all)`;
  return figureWithTable(circuitGraph(circuit), { columns: EDGE_COLUMNS, rows, caption, maxRows: 30 });
}

const KIND_COLOURS: Record<ContributionKind, string> = {
  embedding: "#8c564b",
  "attention head": "#ff7f0e",
  "attention bias": "#ffbb78",
  "transcoder feature": "#1f77b4",
  "transcoder bias": "#aec7e8",
  "transcoder skip": "#17becf",
  "transcoder error": "#7f7f7f",
  MLP: "#2ca02c",
  constant: "#c7c7c7",
};

/** One feature's pre-activation at one token as bars, the n largest terms plus the rest summed. */
export function contributionsPlot(c: FeatureContributions, opts: { top?: number } = {}): Figure {
  rejectUnknownOptions("plot.contributions", opts, optionNames<typeof opts>({ top: true }));
  const shown = c.top(opts.top ?? 16);
  const rest = c.total - shown.reduce((s, r) => s + r.contribution, 0);
  const labels = [...shown.map((r) => escapePlotlyText(r.component)), `${c.rows.length - shown.length} other terms`].reverse();
  const values = [...shown.map((r) => r.contribution), rest].reverse();
  const colours = [...shown.map((r) => KIND_COLOURS[r.kind]), "#dddddd"].reverse();
  const kinds = [...shown.map((r) => r.kind), "other"].reverse();
  return new Figure({
    data: [{ type: "bar", orientation: "h", y: labels, x: values, marker: { color: colours }, customdata: kinds, hovertemplate: "<b>%{y}</b> (%{customdata})<br>%{x:.4g}<extra></extra>" }],
    layout: {
      title: { text: `L${c.target.layer} F${c.target.feature} at document ${c.document}, position ${c.position} (${escapePlotlyText(JSON.stringify(c.token))}): pre-activation ${c.preActivation.toFixed(3)} = Σ terms ${c.total.toFixed(3)}` },
      height: 24 * labels.length + 160,
      margin: { l: 170, r: 30, t: 60, b: 70 },
      xaxis: { title: { text: "contribution to the pre-activation (ln2 frozen at this token)" }, zeroline: true },
    },
  });
}

const CONTRIBUTION_COLUMNS = ["component", "kind", "layer", "index", "activation", "contribution", "raw"];

export function contributionsBundle(c: FeatureContributions): MimeBundle {
  const rows: Cell[][] = c.rows.map((r) => CONTRIBUTION_COLUMNS.map((k) => (r as unknown as Record<string, Cell>)[k]));
  const caption = `pre-activation ${c.preActivation.toFixed(5)}, Σ of ${c.rows.length} terms ${c.total.toFixed(5)} ("raw" = z·(d_dec·w_enc), LayerNorm ignored)`;
  return figureWithTable(contributionsPlot(c), { columns: CONTRIBUTION_COLUMNS, rows, caption, maxRows: 25 });
}
