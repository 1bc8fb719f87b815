// The attribution graph of one prompt (Ameisen et al. 2025; circuit-tracer's attribute): nodes for the
// active transcoder features at each position, an error node per (layer, position), an embedding node
// per position and the most likely next tokens (until 95 % of the probability, at most 10); each edge
// the direct effect of its source on its target through the local replacement model, computed by
// backward passes that read every source at once. A feature's value is its activation, a logit's its
// demeaned logit; the graph is exact: a node's value is the sum of its incoming edges plus a bias term
// (what LayerNorm, attention and transcoder biases contribute), which `bias` holds.
import type { LanguageModel } from "../../models/language-model.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import { matMul } from "../../engine/linalg.js";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import { LocalReplacementModel, type ActiveFeature, type Readout } from "./replacement-model.js";
import { graphScores, influence, logitWeights, normalizeRows, pruneGraph, type NodeCounts, type PruneResult } from "./influence.js";
import { intervene, softmax, type FeatureIntervention, type InterventionOptions, type InterventionResult } from "./intervention.js";
import type { Tokenizer } from "../../models/tokenizer.js";

/** A node of an attribution graph. */
export type GraphNode =
  | ({ kind: "feature" } & ActiveFeature)
  | { kind: "error"; layer: number; position: number }
  | { kind: "embedding"; position: number; token: number }
  | { kind: "logit"; token: number; probability: number };

/** Options of `fl.attribute`. */
export interface AttributeOptions {
  /** At most this many logit nodes (default 10). */
  maxLogits?: number;
  /** Logit nodes until their probabilities add up to this (default 0.95). */
  logitProbability?: number;
  /** Targets per backward pass (default 64). */
  batchSize?: number;
  /** Keep only this many feature nodes, chosen by their influence on the logits as rows arrive (default: all). */
  maxFeatureNodes?: number;
  /** Put the BOS token before a text prompt (default true). */
  prependBos?: boolean;
  /** Leave the first position's features out (default true, as circuit-tracer). */
  zeroFirstPosition?: boolean;
}

const ATTRIBUTE_OPTIONS = optionNames<AttributeOptions>({ maxLogits: true, logitProbability: true, batchSize: true, maxFeatureNodes: true, prependBos: true, zeroFirstPosition: true });

/** Options of `AttributionGraph.prune`. */
export interface PruneOptions {
  /** Keep the nodes carrying this share of the influence on the logits (default 0.8). */
  nodeThreshold?: number;
  /** Keep the edges carrying this share (default 0.98). */
  edgeThreshold?: number;
}

const PRUNE_OPTIONS = optionNames<PruneOptions>({ nodeThreshold: true, edgeThreshold: true });

/** How the graph was built: the work done and what it held. */
export interface AttributionStats {
  activeFeatures: number;
  backwardPasses: number;
  seconds: number;
}

/**
 * An attribution graph: `nodes` in the order [features, errors (layer by layer), embeddings, logits]
 * and `adjacency` [target · N + source] of direct effects (rows of embeddings and errors are empty).
 */
export class AttributionGraph {
  readonly nodes: GraphNode[];
  readonly adjacency: Float64Array;
  readonly counts: NodeCounts;
  /** Each node's value (features: activation; logits: logit minus the mean logit; errors and embeddings: their vector's norm). */
  readonly values: Float64Array;
  /** What a target's value holds besides its incoming edges (NaN for nodes that are not targets). */
  readonly bias: Float64Array;
  /** The prompt's tokens and their text, when the model has a tokenizer. */
  readonly tokens: number[];
  readonly tokenText: string[];
  readonly replacementModel: LocalReplacementModel;
  readonly stats: AttributionStats;
  private readonly tokenizer: Tokenizer | undefined;

  constructor(init: {
    nodes: GraphNode[]; adjacency: Float64Array; counts: NodeCounts; values: Float64Array; bias: Float64Array;
    tokens: number[]; replacementModel: LocalReplacementModel; stats: AttributionStats; tokenizer?: Tokenizer;
  }) {
    this.nodes = init.nodes;
    this.adjacency = init.adjacency;
    this.counts = init.counts;
    this.values = init.values;
    this.bias = init.bias;
    this.tokens = init.tokens;
    this.tokenizer = init.tokenizer;
    this.tokenText = init.tokens.map((t) => this.textOf(t));
    this.replacementModel = init.replacementModel;
    this.stats = init.stats;
  }

  /** Number of nodes. */
  get size(): number {
    return this.nodes.length;
  }

  /** The logit nodes' probabilities, in node order. */
  get logitProbabilities(): number[] {
    return this.nodes.filter((n) => n.kind === "logit").map((n) => (n as { probability: number }).probability);
  }

  /**
   * Direct effect of node `source` on node `target`.
   * @example
   * const w = graph.edge(graph.size - 1, 0);   // feature 0's direct effect on the last logit
   */
  edge(target: number, source: number): number {
    return this.adjacency[target * this.size + source];
  }

  /**
   * Every node's influence on the logits (weighted by their probabilities) through all paths of the normalised graph.
   * @example
   * const influence = graph.influence();   // one number per node
   */
  influence(): Float64Array {
    const N = this.size;
    return influence(normalizeRows(this.adjacency, N), N, logitWeights(this.counts, this.logitProbabilities, N));
  }

  /**
   * circuit-tracer's pruning: the nodes carrying `nodeThreshold` of the influence on the logits and the edges carrying `edgeThreshold`.
   * @example
   * const { nodeMask, edgeMask } = graph.prune({ nodeThreshold: 0.8, edgeThreshold: 0.98 });
   */
  prune(opts: PruneOptions = {}): PruneResult {
    rejectUnknownOptions("AttributionGraph.prune", opts, PRUNE_OPTIONS);
    return pruneGraph(this.adjacency, this.counts, this.logitProbabilities, opts.nodeThreshold ?? 0.8, opts.edgeThreshold ?? 0.98);
  }

  /**
   * The replacement score (the share of the embeddings' and errors' influence on the logits that the embeddings have, all through features) and the completeness score (the influence-weighted share of node inputs not from errors).
   * @example
   * const { replacement, completeness } = graph.scores();
   */
  scores(): { replacement: number; completeness: number } {
    return graphScores(this.adjacency, this.counts, this.logitProbabilities);
  }

  /**
   * A token's text (its id as text when the model has no tokenizer).
   * @example
   * graph.textOf(graph.tokens[1]);
   */
  textOf(token: number): string {
    return this.tokenizer ? this.tokenizer.token(token) : String(token);
  }

  /**
   * Set features at positions of the prompt and read the last position's logits, beside what the
   * graph predicts: "iterative" (default) lets later features respond, "constrained" keeps them (and
   * attention, LayerNorm, errors) fixed, so only direct paths carry the change.
   * @example
   * const f = graph.nodes[0] as fl.ActiveFeature;
   * fl.show(graph.intervene([{ ...f, value: 0 }]).rows);   // ablate the first feature node
   */
  intervene(interventions: readonly FeatureIntervention[], opts: InterventionOptions = {}): InterventionResult {
    return intervene(this, interventions, opts);
  }

  /**
   * A short name for a node: "L1 F37 @5", "err L0 @3", "emb @2 "ba"", "logit "be"".
   * @example
   * graph.nodes.map((_, i) => graph.label(i));
   */
  label(i: number): string {
    const n = this.nodes[i];
    if (n.kind === "feature") return `L${n.layer} F${n.feature} @${n.position}`;
    if (n.kind === "error") return `err L${n.layer} @${n.position}`;
    if (n.kind === "embedding") return `emb @${n.position} ${JSON.stringify(this.tokenText[n.position] ?? String(n.token))}`;
    return `logit ${JSON.stringify(this.textOf(n.token))}`;
  }

  /** One line: positions and node counts. */
  toString(): string {
    const c = this.counts;
    return `AttributionGraph(${this.tokens.length} positions: ${c.features} features, ${c.errors} errors, ${c.embeddings} embeddings, ${c.logits} logits)`;
  }
}

/** The smallest set of most likely next tokens whose probabilities reach `p`, at most `max` (circuit-tracer's salient logits). */
function salientLogits(logits: Float64Array, max: number, p: number): { tokens: number[]; probabilities: number[] } {
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, max);
  const tokens: number[] = [], probabilities: number[] = [];
  let cum = 0;
  for (const t of order) {
    tokens.push(t);
    probabilities.push(probs[t]);
    cum += probs[t];
    if (cum >= p) break;
  }
  return { tokens, probabilities };
}

/** Partial influences of every node from the rows computed so far (rowNodes[r] is row r's node), as circuit-tracer ranks the features still to visit. */
function partialInfluence(rows: Float64Array, rowNodes: readonly number[], N: number, logitNodes: readonly number[], probabilities: readonly number[]): Float64Array {
  const normalized = normalizeRows(rows, N, rowNodes.length, 1e-8);
  const rowOf = new Map(rowNodes.map((node, r) => [node, r]));
  let prod = new Float64Array(N);
  logitNodes.forEach((node, i) => (prod[node] = probabilities[i]));
  const total = new Float64Array(N);
  for (let it = 0; it < 128; it++) {
    const next = new Float64Array(N);
    let any = false;
    for (const [node, r] of rowOf) {
      const x = prod[node];
      if (x === 0) continue;
      for (let c = 0, o = r * N; c < N; c++) next[c] += x * normalized[o + c];
    }
    for (let c = 0; c < N; c++) {
      if (next[c] !== 0) any = true;
      total[c] += next[c];
    }
    if (!any) break;
    prod = next;
  }
  return total;
}

/**
 * The attribution graph of a prompt for a transformer and its cross-layer transcoder.
 * @example
 * const graph = await fl.attribute(model, clt, [0, 5, 9, 12, 5, 9, 12, 5]);
 * graph.scores();   // { replacement, completeness }
 */
export async function attribute(model: LanguageModel, clt: Dictionary, prompt: string | readonly number[], opts: AttributeOptions = {}): Promise<AttributionGraph> {
  rejectUnknownOptions("attribute", opts, ATTRIBUTE_OPTIONS);
  const maxLogits = opts.maxLogits ?? 10, logitP = opts.logitProbability ?? 0.95, batchSize = opts.batchSize ?? 64;
  if (!(Number.isInteger(maxLogits) && maxLogits >= 1)) throw new InputError(undefined, `attribute: maxLogits must be a whole number ≥ 1, got ${maxLogits}`);
  if (!(logitP > 0 && logitP <= 1)) throw new InputError(undefined, `attribute: logitProbability must be in (0, 1], got ${logitP}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new InputError(undefined, `attribute: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  const t0 = performance.now();
  const lm = await LocalReplacementModel.build(model, clt, prompt, { prependBos: opts.prependBos, zeroFirstPosition: opts.zeroFirstPosition });
  const { T, L, d, vocab } = lm;
  const features = lm.features;
  const F = features.length;
  const maxFeatures = Math.min(opts.maxFeatureNodes ?? F, F);
  if (!(Number.isInteger(maxFeatures) && maxFeatures >= 0)) throw new InputError(undefined, `attribute: maxFeatureNodes must be a whole number ≥ 0, got ${opts.maxFeatureNodes}`);

  // Logit targets: demeaned unembedding directions of the most likely next tokens.
  const last = lm.original.logits.subarray((T - 1) * vocab, T * vocab);
  const salient = salientLogits(Float64Array.from(last), maxLogits, logitP);
  const meanU = new Float64Array(d);
  for (let v = 0; v < vocab; v++) for (let j = 0; j < d; j++) meanU[j] += lm.unembed[v * d + j] / vocab;
  const meanLogit = last.reduce((s, x) => s + x, 0) / vocab;
  const logitReadouts = salient.tokens.map((t) => lm.logitReadout(Float64Array.from(meanU, (m, j) => lm.unembed[t * d + j] - m)));
  const featureReadout = (f: ActiveFeature): Readout => {
    const { n, encoders } = lm.clt;
    return { layer: f.layer, position: f.position, vector: Float64Array.from({ length: d }, (_, j) => encoders[f.layer][j * n + f.feature]) };
  };

  // Columns before selection: [all features, errors, embeddings, logits].
  const nLogits = salient.tokens.length;
  const errorsAt = F, embedAt = F + L * T, logitsAt = F + L * T + T;
  const NAll = logitsAt + nLogits;
  // Sources grouped by (layer, position), with their writes a·W_dec^{l→l'} to each later layer.
  const groups = new Map<string, { layer: number; position: number; ids: number[] }>();
  features.forEach((f, i) => {
    const key = `${f.layer}/${f.position}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { layer: f.layer, position: f.position, ids: [] }));
    g.ids.push(i);
  });
  const writes = [...groups.values()].map((g) => ({
    ...g,
    // perLayer[k]: [m, d] rows for layer g.layer + k
    perLayer: lm.clt.decoders[g.layer].map((W) => {
      const out = new Float64Array(g.ids.length * d);
      g.ids.forEach((id, r) => {
        const f = features[id];
        for (let j = 0; j < d; j++) out[r * d + j] = f.activation * W[f.feature * d + j];
      });
      return out;
    }),
  }));
  let backwardPasses = 0;
  /** Rows of direct effects on these readouts from every source column [readouts × NAll]. */
  const rowsFor = (readouts: Readout[]): Float64Array => {
    const B = readouts.length;
    const g = lm.backward(readouts);
    backwardPasses++;
    const rows = new Float64Array(B * NAll);
    const Gp = new Float64Array(B * d);
    for (const w of writes) {
      w.perLayer.forEach((D, k) => {
        const layer = w.layer + k;
        for (let b = 0; b < B; b++) Gp.set(g.mlpOut[layer][b].subarray(w.position * d, (w.position + 1) * d), b * d);
        const m = w.ids.length;
        const e = matMul(Gp, D, B, d, m, false, true);
        for (let b = 0; b < B; b++) for (let r = 0; r < m; r++) rows[b * NAll + w.ids[r]] += e[b * m + r];
      });
    }
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const gl = g.mlpOut[l][b], err = lm.errors[l];
        for (let t = 0; t < T; t++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += gl[t * d + j] * err[t * d + j];
          rows[b * NAll + errorsAt + l * T + t] = s;
        }
      }
      const ge = g.embed[b];
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += ge[t * d + j] * lm.embeddings[t * d + j];
        rows[b * NAll + embedAt + t] = s;
      }
    }
    return rows;
  };

  // Logit rows first, then features: all of them, or the most influential as rows arrive.
  const rowBlocks: Float64Array[] = [];
  const rowNodes: number[] = [];
  for (let i = 0; i < nLogits; i += batchSize) {
    const chunk = logitReadouts.slice(i, i + batchSize);
    rowBlocks.push(rowsFor(chunk));
    chunk.forEach((_, k) => rowNodes.push(logitsAt + i + k));
  }
  const visited = new Uint8Array(F);
  let nVisited = 0;
  const stack = () => {
    const out = new Float64Array(rowNodes.length * NAll);
    let at = 0;
    for (const b of rowBlocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  };
  while (nVisited < maxFeatures) {
    let pending: number[];
    if (maxFeatures === F) pending = Array.from({ length: F }, (_, i) => i);
    else {
      const inf = partialInfluence(stack(), rowNodes, NAll, salient.tokens.map((_, i) => logitsAt + i), salient.probabilities);
      const ranked = Array.from({ length: F }, (_, i) => i).filter((i) => !visited[i]).sort((a, b) => inf[b] - inf[a]);
      pending = ranked.slice(0, Math.min(4 * batchSize, maxFeatures - nVisited));
    }
    for (let i = 0; i < pending.length; i += batchSize) {
      const ids = pending.slice(i, i + batchSize);
      rowBlocks.push(rowsFor(ids.map((id) => featureReadout(features[id]))));
      for (const id of ids) {
        rowNodes.push(id);
        visited[id] = 1;
      }
      nVisited += ids.length;
    }
  }

  // Assemble the square graph over the selected features, in feature order.
  const selected = Array.from({ length: F }, (_, i) => i).filter((i) => visited[i]);
  const columns = [...selected, ...Array.from({ length: NAll - F }, (_, k) => F + k)];
  const N = columns.length;
  const nodeOfColumn = new Int32Array(NAll).fill(-1);
  columns.forEach((c, i) => (nodeOfColumn[c] = i));
  const adjacency = new Float64Array(N * N);
  let r = 0;
  for (const block of rowBlocks) {
    // Straight from each block of rows: no stacked copy of all of them beside the adjacency.
    for (let at = 0; at < block.length; at += NAll, r++) {
      const target = nodeOfColumn[rowNodes[r]];
      for (let c = 0; c < N; c++) adjacency[target * N + c] = block[at + columns[c]];
    }
  }

  // Values, and bias terms from the frozen model run on biases alone (no embedding, no feature, no error).
  const zeroWrites = lm.featureWrites([]);
  const biasRun = lm.forward(new Float64Array(T * d), zeroWrites);
  const biasLogits = lm.logitsAt(biasRun.final, T - 1);
  const biasMean = biasLogits.reduce((s, x) => s + x, 0) / vocab;
  const nodes: GraphNode[] = [];
  const values = new Float64Array(N), bias = new Float64Array(N).fill(NaN);
  selected.forEach((id, i) => {
    const f = features[id];
    nodes.push({ kind: "feature", ...f });
    values[i] = f.activation;
    const r = featureReadout(f);
    let s = lm.clt.bEnc[f.layer][f.feature];
    for (let j = 0; j < d; j++) s += biasRun.residMid[f.layer][f.position * d + j] * r.vector[j];
    bias[i] = s;
  });
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) {
      nodes.push({ kind: "error", layer: l, position: t });
      values[nodes.length - 1] = Math.hypot(...lm.errors[l].subarray(t * d, (t + 1) * d));
    }
  }
  for (let t = 0; t < T; t++) {
    nodes.push({ kind: "embedding", position: t, token: lm.tokens[t] });
    values[nodes.length - 1] = Math.hypot(...lm.embeddings.subarray(t * d, (t + 1) * d));
  }
  salient.tokens.forEach((tok, i) => {
    nodes.push({ kind: "logit", token: tok, probability: salient.probabilities[i] });
    values[nodes.length - 1] = last[tok] - meanLogit;
    bias[nodes.length - 1] = biasLogits[tok] - biasMean;
  });
  return new AttributionGraph({
    nodes,
    adjacency,
    counts: { features: selected.length, errors: L * T, embeddings: T, logits: nLogits },
    values,
    bias,
    tokens: lm.tokens,
    tokenizer: model.tokenizer,
    replacementModel: lm,
    stats: { activeFeatures: F, backwardPasses, seconds: (performance.now() - t0) / 1000 },
  });
}
