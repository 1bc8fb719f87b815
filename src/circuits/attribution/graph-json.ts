// An attribution graph in the JSON that circuit-tracer's create_graph_files writes and its local server
// and Neuronpedia's graph viewer read (frontend/graph_models.py: Model = metadata, qParams, nodes, links).
// The graph is pruned as there (prune_graph with the node and edge thresholds); the nodes kept are those
// with a kept edge plus every embedding and logit, in node order; links run target by target, sources in
// node order, each with its direct effect. Node conventions, as circuit-tracer's Node constructors:
//   feature  node_id "layer_feature_pos", feature = Cantor pairing of (layer, feature), layer "l",
//            feature_type "cross layer transcoder", jsNodeId "layer_feature-0", influence and activation
//   error    node_id "0_layer_pos", feature −1, feature_type "mlp reconstruction error", jsNodeId "layer_pos-0"
//   embedding node_id "E_token_pos", feature = pos, layer "E", feature_type "embedding", jsNodeId "E_token-pos"
//   logit    node_id "(L+1)_token_(T−1)", feature = token, layer "L+1", feature_type "logit", token_prob,
//            is_target_logit for the most likely, jsNodeId "L_token-(T−1)", clerp 'Output "tok" (p=0.123)',
//            no influence
// influence is the node's cumulative influence share (prune_graph's cumulative_scores).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import type { AttributionGraph } from "./attribution-graph.js";
import type { PruneResult } from "./influence.js";

/** Options of `fl.circuitTracerJson` (circuit-tracer's create_graph_files arguments, and the viewer's query state). */
export interface CircuitTracerJsonOptions {
  /** The graph's name (the file is `<slug>.json`). */
  slug: string;
  /** Which transcoders made the graph: a Neuronpedia scan name, or a list of transcoder names (then scan is "custom-<hash>"). */
  scan: string | string[];
  /** Keep the nodes carrying this share of the influence (default 0.8). */
  nodeThreshold?: number;
  /** Keep the edges carrying this share (default 0.98). */
  edgeThreshold?: number;
  /** The prompt as text (default: the tokens' text joined). */
  prompt?: string;
  /** Node ids pinned in the viewer (qParams.pinnedIds; default none). */
  pinnedIds?: string[];
  /** Supernodes: each a name followed by the node ids it groups (qParams.supernodes; default none). */
  supernodes?: string[][];
  /** Labels ("clerps") of feature nodes by node id. */
  clerps?: Record<string, string>;
}

const JSON_OPTIONS = optionNames<CircuitTracerJsonOptions>({ slug: true, scan: true, nodeThreshold: true, edgeThreshold: true, prompt: true, pinnedIds: true, supernodes: true, clerps: true });

/** circuit-tracer's Node, field for field in its order. */
export interface CircuitTracerNode {
  node_id: string;
  feature: number;
  layer: string;
  ctx_idx: number;
  feature_type: string;
  token_prob: number;
  is_target_logit: boolean;
  run_idx: number;
  reverse_ctx_idx: number;
  jsNodeId: string;
  clerp: string;
  influence: number | null;
  activation: number | null;
}

/** circuit-tracer's Model: what the graph viewer loads. */
export interface CircuitTracerGraph {
  metadata: {
    slug: string;
    scan: string;
    transcoder_list: string[];
    prompt_tokens: string[];
    prompt: string;
    node_threshold: number | null;
    schema_version: number | null;
  };
  qParams: { pinnedIds: string[]; supernodes: string[][]; linkType: string; clickedId: string; sg_pos: string };
  nodes: CircuitTracerNode[];
  links: { source: string; target: string; weight: number }[];
}

/** Cantor's pairing of (x, y), circuit-tracer's feature number of a transcoder feature. */
export function cantorPairing(x: number, y: number): number {
  return ((x + y) * (x + y + 1)) / 2 + y;
}

/**
 * A number with `digits` decimals as Python's format(x, ".3f") writes it: the exact binary value rounded,
 * an exact half to even (JavaScript's toFixed takes the larger of two equally near).
 */
export function pythonFixed(x: number, digits: number): string {
  // |x| = mant · 2^e exactly; 2·|x|·10^digits an odd integer is an exact half.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const mant = expBits === 0 ? bits & ((1n << 52n) - 1n) : (bits & ((1n << 52n) - 1n)) | (1n << 52n);
  const e = expBits === 0 ? -1074 : expBits - 1075;
  if (e < 0 && Number.isFinite(x)) {
    const num = mant * 2n * 10n ** BigInt(digits), den = 1n << BigInt(-e);
    if (num % den === 0n && (num / den) % 2n === 1n) {
      const low = (num / den - 1n) / 2n; // the integer below |x|·10^digits
      const even = low % 2n === 0n ? low : low + 1n;
      return (Math.sign(x) * (Number(even) / 10 ** digits)).toFixed(digits);
    }
  }
  return x.toFixed(digits);
}

/** A stable 32-bit FNV-1a hash (circuit-tracer uses Python's hash(), which is salted per process). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A token's text: the graph's own `textOf` (its tokenizer) when it has one, else the prompt's text of that token, else its id. */
export function tokenText(graph: AttributionGraph, token: number): string {
  const textOf = (graph as { textOf?: (t: number) => string }).textOf;
  if (typeof textOf === "function") return textOf.call(graph, token);
  return graph.tokenText[graph.tokens.indexOf(token)] ?? String(token);
}

/** circuit-tracer's Node for node `i` of the graph, with its cumulative influence share. */
export function circuitTracerNode(graph: AttributionGraph, i: number, cumulative: number, clerps: Record<string, string> = {}): CircuitTracerNode {
  const n = graph.nodes[i];
  const T = graph.tokens.length;
  const L = graph.counts.errors / Math.max(T, 1);
  const base = { token_prob: 0, is_target_logit: false, run_idx: 0, reverse_ctx_idx: 0, clerp: "", activation: null };
  if (n.kind === "feature") {
    const id = `${n.layer}_${n.feature}_${n.position}`;
    return { node_id: id, feature: cantorPairing(n.layer, n.feature), layer: String(n.layer), ctx_idx: n.position, feature_type: "cross layer transcoder", ...base, jsNodeId: `${n.layer}_${n.feature}-0`, clerp: clerps[id] ?? "", influence: cumulative, activation: n.activation };
  }
  if (n.kind === "error") {
    return { node_id: `0_${n.layer}_${n.position}`, feature: -1, layer: String(n.layer), ctx_idx: n.position, feature_type: "mlp reconstruction error", ...base, jsNodeId: `${n.layer}_${n.position}-0`, influence: cumulative };
  }
  if (n.kind === "embedding") {
    return { node_id: `E_${n.token}_${n.position}`, feature: n.position, layer: "E", ctx_idx: n.position, feature_type: "embedding", ...base, jsNodeId: `E_${n.token}-${n.position}`, influence: cumulative };
  }
  const layer = String(L + 1), pos = T - 1;
  const first = graph.size - graph.counts.logits;
  const text = tokenText(graph, n.token);
  return {
    node_id: `${layer}_${n.token}_${pos}`, feature: n.token, layer, ctx_idx: pos, feature_type: "logit", ...base,
    token_prob: n.probability, is_target_logit: i === first, jsNodeId: `L_${n.token}-${pos}`,
    clerp: `Output "${text}" (p=${pythonFixed(n.probability, 3)})`, influence: null,
  };
}

/**
 * The pruned graph as circuit-tracer's create_graph_files writes it (metadata, qParams, nodes, links):
 * the JSON its local graph server and Neuronpedia's graph viewer load. `pruned` reuses a pruning made
 * with the same thresholds.
 * @example
 * const json = fl.circuitTracerJson(graph, { slug: "induction", scan: "tiny-clt", nodeThreshold: 0.8 });
 * console.log(json.nodes.length, "nodes,", json.links.length, "links");
 */
export function circuitTracerJson(graph: AttributionGraph, opts: CircuitTracerJsonOptions, pruned?: PruneResult, who = "circuitTracerJson"): CircuitTracerGraph {
  rejectUnknownOptions(who, opts, JSON_OPTIONS);
  if (typeof opts.slug !== "string" || opts.slug === "") throw new InputError(undefined, `${who}: slug must be a non-empty string (the file is <slug>.json)`);
  if (!(typeof opts.scan === "string" || (Array.isArray(opts.scan) && opts.scan.every((s) => typeof s === "string")))) {
    throw new InputError(undefined, `${who}: scan must name the transcoders: a scan name, or a list of transcoder names`);
  }
  const nodeThreshold = opts.nodeThreshold ?? 0.8, edgeThreshold = opts.edgeThreshold ?? 0.98;
  const { nodeMask, edgeMask, cumulativeScores } = pruned ?? graph.prune({ nodeThreshold, edgeThreshold });
  const N = graph.size;
  const ids: (CircuitTracerNode | undefined)[] = new Array(N);
  for (let i = 0; i < N; i++) if (nodeMask[i]) ids[i] = circuitTracerNode(graph, i, cumulativeScores[i], opts.clerps);
  const links: CircuitTracerGraph["links"] = [];
  const connected = new Set<string>();
  for (let t = 0; t < N; t++) {
    const target = ids[t];
    if (!target) continue;
    for (let s = 0; s < N; s++) {
      const source = ids[s];
      if (!source || !edgeMask[t * N + s]) continue;
      links.push({ source: source.node_id, target: target.node_id, weight: graph.adjacency[t * N + s] });
      connected.add(source.node_id).add(target.node_id);
    }
  }
  const nodes = ids.filter((n): n is CircuitTracerNode => n !== undefined && (connected.has(n.node_id) || n.feature_type === "embedding" || n.feature_type === "logit"));
  const list = Array.isArray(opts.scan) ? opts.scan : [];
  return {
    metadata: {
      slug: opts.slug,
      scan: Array.isArray(opts.scan) ? `custom-${fnv1a(opts.scan.join("-"))}` : opts.scan,
      transcoder_list: list,
      prompt_tokens: [...graph.tokenText],
      prompt: opts.prompt ?? graph.tokenText.join(""),
      node_threshold: nodeThreshold,
      schema_version: 1,
    },
    qParams: { pinnedIds: [...(opts.pinnedIds ?? [])], supernodes: (opts.supernodes ?? []).map((s) => [...s]), linkType: "both", clickedId: "", sg_pos: "" },
    nodes,
    links,
  };
}

/**
 * Write `<slug>.json` into `dir` and add its metadata to `dir/graph-metadata.json` (replacing an entry
 * with the same slug), as create_graph_files does: the folder circuit-tracer's local server serves.
 * @example
 * fl.writeCircuitTracerFiles(graph, "out/graphs", { slug: "induction", scan: "tiny-clt" });
 */
export function writeCircuitTracerFiles(graph: AttributionGraph, dir: string, opts: CircuitTracerJsonOptions): CircuitTracerGraph {
  const out = circuitTracerJson(graph, opts, undefined, "writeCircuitTracerFiles");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${opts.slug}.json`), JSON.stringify(out, null, 2));
  const metaPath = join(dir, "graph-metadata.json");
  const meta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, "utf8")) as { graphs: { slug: string }[] }) : { graphs: [] };
  meta.graphs = meta.graphs.filter((g) => g.slug !== opts.slug);
  meta.graphs.push(out.metadata);
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  return out;
}
