// What the attribution-graph view draws, computed in the kernel once: the nodes of the graph pruned at
// the loosest slider setting (at most `maxNodes` features and errors, plus every embedding and logit),
// each placed by prompt position (x) and layer (y: embeddings at the bottom, logits at the top), with its
// influence, its circuit-tracer record and its card (top activating contexts, once per feature); the edges among them with their weights; and every
// node's influence, sorted, so that the page re-prunes as circuit-tracer does (widgets/graph-prune.js)
// at any node threshold up to the loosest, with nothing asked of the kernel.
import type { AttributionGraph } from "../../../circuits/attribution/attribution-graph.js";
import type { Codes } from "../../../dictionaries/codes.js";
import type { ActivationSet } from "../../../data/activation-set.js";
import { circuitTracerNode, tokenText, type CircuitTracerNode } from "../../../circuits/attribution/graph-json.js";
import { findThreshold } from "../../../circuits/attribution/influence.js";
import { InputError } from "../../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";
import { TokenIndex, examplesHtml, topRows } from "../features/feature-card.js";

/** Top activating contexts of each feature node, from the transcoder's codes on cached activations. */
export interface GraphCardsSource {
  /** `clt.encode(acts)`: column `layer · n + feature` (n features per layer) for the graph's features. */
  codes: Codes;
  /** The rows the codes are of, with token (or label), document and position columns (default: `codes.acts`). */
  acts?: ActivationSet;
  /** Token text per row (default: the set's token column). */
  tokens?: ArrayLike<unknown>;
  /** Contexts shown per feature (default 5). */
  examples?: number;
  /** Tokens of context either side (default 4). */
  context?: number;
}

const CARDS_OPTIONS = optionNames<GraphCardsSource>({ codes: true, acts: true, tokens: true, examples: true, context: true });

/** Options of `fl.plot.attributionGraph`. */
export interface AttributionGraphOptions {
  /** The node threshold shown first (default 0.8). */
  nodeThreshold?: number;
  /** The edge threshold the pruning uses (default 0.98). */
  edgeThreshold?: number;
  /** The loosest node threshold the slider reaches (default 1, lowered until at most `maxNodes` features and errors remain). */
  maxNodeThreshold?: number;
  /** At most this many feature and error nodes travel to the page (default 300). */
  maxNodes?: number;
  /** Top activating contexts per feature, from the transcoder's codes on a dataset. */
  cards?: GraphCardsSource;
  /** Title above the graph. */
  title?: string;
  /** Name and scan of the circuit-tracer file the export button writes (default "attribution-graph", "featurelab"). */
  slug?: string;
  scan?: string;
  /** Height of the drawing in pixels (default: from the number of layers). */
  height?: number;
}

const GRAPH_OPTIONS = optionNames<AttributionGraphOptions>({ nodeThreshold: true, edgeThreshold: true, maxNodeThreshold: true, maxNodes: true, cards: true, title: true, slug: true, scan: true, height: true });

/** One node as the page gets it. */
export interface PayloadNode {
  /** Index in the graph. */
  i: number;
  kind: "feature" | "error" | "embedding" | "logit";
  /** circuit-tracer's node_id. */
  id: string;
  label: string;
  /** Layer of features and errors; −1 embeddings, n_layers logits. */
  layer: number;
  pos: number;
  /** Column position in units of prompt positions (position t spans [t, t + 1)) and row (0 embeddings … n_layers + 1 logits). */
  x: number;
  row: number;
  /** Influence on the logits (logits: their probability) and the cumulative share at its rank. */
  influence: number;
  cumulative: number;
  /** Activation (features), demeaned logit (logits), vector norm (errors, embeddings). */
  value: number;
  /** circuit-tracer's record of the node. */
  ct: CircuitTracerNode;
  /** Key of the feature's card in `cards` ("layer/feature"), when it has one. */
  card?: string;
}

/** What the page gets (gzip'd JSON in the widget state). */
export interface GraphPayload {
  title: string;
  tokens: string[];
  nLayers: number;
  nodes: PayloadNode[];
  /** Top-context cards by "layer/feature" (HTML, escaped here), once per feature however many positions it fires at. */
  cards: Record<string, string>;
  /** Edges among the nodes (indices into `nodes`), target-major, sources ascending: weight ≠ 0. */
  edges: { source: number[]; target: number[]; weight: number[] };
  /** Every node's influence in the whole graph, largest first (the node threshold's cut is taken over these). */
  sortedInfluence: number[];
  /** Logit probabilities by node (0 for others): the weights influence is measured with. */
  logitWeight: number[];
  nodeThreshold: number;
  edgeThreshold: number;
  minNodeThreshold: number;
  maxNodeThreshold: number;
  height: number;
  /** Metadata of the circuit-tracer file the export button writes. */
  metadata: { slug: string; scan: string; transcoder_list: string[]; prompt_tokens: string[]; prompt: string; schema_version: number };
}

/** Checked options of the graph view. */
export function checkGraphOptions(opts: AttributionGraphOptions): void {
  rejectUnknownOptions("plot.attributionGraph", opts, GRAPH_OPTIONS);
  if (opts.cards) rejectUnknownOptions("plot.attributionGraph: cards", opts.cards, CARDS_OPTIONS);
  for (const k of ["nodeThreshold", "edgeThreshold", "maxNodeThreshold"] as const) {
    const v = opts[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new InputError(undefined, `plot.attributionGraph: ${k} must be between 0 and 1, got ${v}`);
  }
  if (opts.maxNodes !== undefined && !(Number.isInteger(opts.maxNodes) && opts.maxNodes >= 1)) throw new InputError(undefined, `plot.attributionGraph: maxNodes must be a whole number ≥ 1, got ${opts.maxNodes}`);
}

/**
 * Column x and row of each node: x by prompt position (nodes sharing a position and row spread across
 * the column, most influential in the middle), row by layer (embeddings 0, layer l at l + 1, logits at n_layers + 1).
 */
export function layoutNodes(nodes: { kind: PayloadNode["kind"]; layer: number; pos: number; influence: number }[], nLayers: number): { x: number; row: number }[] {
  const row = (n: (typeof nodes)[number]) => (n.kind === "embedding" ? 0 : n.kind === "logit" ? nLayers + 1 : n.layer + 1);
  const cells = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const key = `${n.pos}/${row(n)}`;
    const list = cells.get(key);
    if (list) list.push(i);
    else cells.set(key, [i]);
  });
  const out = nodes.map((n) => ({ x: n.pos + 0.5, row: row(n) }));
  for (const members of cells.values()) {
    // Most influential first, then alternating either side of the middle.
    const sorted = [...members].sort((a, b) => nodes[b].influence - nodes[a].influence || a - b);
    const k = sorted.length;
    const slots = Array.from({ length: k }, (_, j) => (j % 2 === 0 ? 1 : -1) * Math.ceil(j / 2));
    const min = Math.min(...slots);
    sorted.forEach((i, j) => (out[i].x = nodes[i].pos + (slots[j] - min + 1) / (k + 1)));
  }
  return out;
}

/** HTML of a feature's top activating contexts (escaped: one path, feature-card.ts's examplesHtml). */
function contextCards(graph: AttributionGraph, features: { layer: number; feature: number }[], src: GraphCardsSource): Map<string, string> {
  const n = graph.replacementModel.clt.n, L = graph.replacementModel.clt.nLayers;
  if (src.codes.width !== n * L) throw new InputError(undefined, `plot.attributionGraph: cards: the codes have ${src.codes.width} features; the graph's transcoder has ${L} layers × ${n} (encode the activations with the same transcoder)`);
  const acts = src.acts ?? src.codes.acts;
  if (!acts && !src.tokens) throw new InputError(undefined, "plot.attributionGraph: cards: give the activations the codes are of (acts), or their token text (tokens)");
  const index = new TokenIndex(acts ?? { tokens: src.tokens }, src.tokens);
  const out = new Map<string, string>();
  for (const f of features) {
    const key = `${f.layer}/${f.feature}`;
    if (out.has(key)) continue;
    const values = src.codes.feature(f.layer * n + f.feature);
    const top = topRows(values, src.examples ?? 5);
    const max = top.length ? values[top[0]] : 0;
    out.set(key, examplesHtml(top.map((r) => index.example(r, (q) => values[q], src.context ?? 4)), max, `top activations of L${f.layer} F${f.feature}`));
  }
  return out;
}

/** The view's payload for a graph. */
export function graphPayload(graph: AttributionGraph, opts: AttributionGraphOptions = {}): GraphPayload {
  checkGraphOptions(opts);
  const N = graph.size, c = graph.counts, T = graph.tokens.length, L = c.errors / Math.max(T, 1);
  const edgeThreshold = opts.edgeThreshold ?? 0.98;
  const pruned = graph.prune({ nodeThreshold: opts.nodeThreshold ?? 0.8, edgeThreshold });
  const influence = graph.influence();
  const firstFixed = N - c.embeddings - c.logits;
  // The loosest threshold whose features and errors fit in maxNodes.
  const maxNodes = opts.maxNodes ?? 300;
  let maxT = opts.maxNodeThreshold ?? 1;
  const keptAt = (t: number) => {
    const cut = findThreshold(influence, t);
    let k = 0;
    for (let i = 0; i < firstFixed; i++) if (influence[i] >= cut) k++;
    return { cut, k };
  };
  while (maxT > 0.01 && keptAt(maxT).k > maxNodes) maxT = Math.round((maxT - 0.01) * 100) / 100;
  const { cut } = keptAt(maxT);
  const chosen: number[] = [];
  for (let i = 0; i < N; i++) if (i >= firstFixed || influence[i] >= cut) chosen.push(i);
  const probabilities = graph.logitProbabilities;
  const base = chosen.map((i) => {
    const n = graph.nodes[i];
    const kind = n.kind;
    const layer = n.kind === "feature" || n.kind === "error" ? n.layer : n.kind === "embedding" ? -1 : L;
    const pos = n.kind === "logit" ? T - 1 : n.position;
    return { kind, layer, pos, influence: n.kind === "logit" ? n.probability : influence[i] };
  });
  const places = layoutNodes(base, L);
  const cards = opts.cards ? contextCards(graph, chosen.map((i) => graph.nodes[i]).filter((n) => n.kind === "feature") as { layer: number; feature: number }[], opts.cards) : undefined;
  const nodes: PayloadNode[] = chosen.map((i, k) => {
    const n = graph.nodes[i];
    const ct = circuitTracerNode(graph, i, pruned.cumulativeScores[i]);
    const label = n.kind === "embedding" ? `emb ${JSON.stringify(graph.tokenText[n.position] ?? String(n.token))} @${n.position}` : n.kind === "logit" ? `logit ${JSON.stringify(tokenText(graph, n.token))}` : graph.label(i);
    const node: PayloadNode = { i, kind: base[k].kind, id: ct.node_id, label, layer: base[k].layer, pos: base[k].pos, x: places[k].x, row: places[k].row, influence: base[k].influence, cumulative: pruned.cumulativeScores[i], value: graph.values[i], ct };
    if (n.kind === "feature" && cards?.has(`${n.layer}/${n.feature}`)) node.card = `${n.layer}/${n.feature}`;
    return node;
  });
  const source: number[] = [], target: number[] = [], weight: number[] = [];
  chosen.forEach((t, tk) => {
    chosen.forEach((s, sk) => {
      const w = graph.adjacency[t * N + s];
      if (w !== 0) {
        source.push(sk);
        target.push(tk);
        weight.push(w);
      }
    });
  });
  const logitWeight = chosen.map((i) => (i >= N - c.logits ? probabilities[i - (N - c.logits)] : 0));
  const nodeThreshold = Math.min(opts.nodeThreshold ?? 0.8, maxT);
  return {
    title: opts.title ?? `Attribution graph: ${graph.tokenText.join("")}`,
    tokens: [...graph.tokenText],
    nLayers: L,
    nodes,
    cards: Object.fromEntries(cards ?? []),
    edges: { source, target, weight },
    sortedInfluence: Array.from(Float64Array.from(influence).sort().reverse()),
    logitWeight,
    nodeThreshold,
    edgeThreshold,
    minNodeThreshold: Math.min(0.5, maxT),
    maxNodeThreshold: maxT,
    height: opts.height ?? Math.max(360, 80 * (L + 2) + 104),
    metadata: { slug: opts.slug ?? "attribution-graph", scan: opts.scan ?? "featurelab", transcoder_list: [], prompt_tokens: [...graph.tokenText], prompt: graph.tokenText.join(""), schema_version: 1 },
  };
}

/** The graph's text summary for frontends without HTML. */
export function graphText(p: GraphPayload): string {
  const kinds = (k: string) => p.nodes.filter((n) => n.kind === k).length;
  return `${p.title}\n${p.tokens.length} positions, ${p.nLayers} layers; ${kinds("feature")} features, ${kinds("error")} errors, ${kinds("logit")} logits shown up to node threshold ${p.maxNodeThreshold}`;
}

