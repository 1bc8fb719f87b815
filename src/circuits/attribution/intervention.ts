// Interventions on transcoder features, read at the logits of the prompt's last position, beside what
// the attribution graph predicts (Ameisen et al. 2025, "Validating interventions"). Two ways to run:
//  - "constrained": every feature other than those set keeps its clean activation, errors are held,
//    attention and LayerNorm frozen: the change reaches the logits only along direct paths, which is
//    exactly the graph's direct effect — a check of the graph itself;
//  - "iterative": features are re-encoded layer by layer from the residual they read (set ones
//    clamped), errors held, and attention and LayerNorm recomputed unless frozen: the replacement
//    model's own answer, downstream features responding.
// The graph's predictions: "direct" sums the set features' edges to each logit per unit activation;
// "graph" propagates the changes linearly through every feature node in layer order, each responding
// through its incoming edges as long as it stays active (the graph cannot see thresholds or attention).
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import type { AttributionGraph } from "./attribution-graph.js";
import type { ActiveFeature, LocalReplacementModel } from "./replacement-model.js";

/** Set feature `feature` of layer `layer` at `position` to `value` (0 ablates it; k × its activation scales it). */
export interface FeatureIntervention {
  layer: number;
  position: number;
  feature: number;
  value: number;
}

/** Options of `AttributionGraph.intervene`. */
export interface InterventionOptions {
  /** "iterative" (default): downstream features respond; "constrained": only direct paths. */
  mode?: "iterative" | "constrained";
  /** Iterative mode: attention patterns as on the clean prompt (default false: recomputed). */
  freezeAttention?: boolean;
  /** Iterative mode: LayerNorm scales as on the clean prompt (default false: recomputed). */
  freezeLayerNorm?: boolean;
  /** Rows of the table beyond the graph's logit nodes: the most likely tokens after the intervention (default 5). */
  top?: number;
}

const INTERVENTION_OPTIONS = optionNames<InterventionOptions>({ mode: true, freezeAttention: true, freezeLayerNorm: true, top: true });

/** One token's logit (minus the mean logit) before and after, and the graph's predictions of the change. */
export interface InterventionRow {
  token: number;
  text: string;
  probabilityBefore: number;
  probabilityAfter: number;
  before: number;
  after: number;
  change: number;
  /** The set features' direct effects (per unit activation, times the change). NaN for tokens that are not logit nodes. */
  predictedDirect: number;
  /** The changes carried linearly through every feature node. NaN for tokens that are not logit nodes. */
  predictedGraph: number;
}

/** What `AttributionGraph.intervene` returns. */
export interface InterventionResult {
  mode: "iterative" | "constrained";
  rows: InterventionRow[];
  /** Logits at the last position after the intervention [vocab]. */
  logits: Float64Array;
  /** Iterative mode: the features active after the intervention. */
  features?: ActiveFeature[];
}

const key = (f: { layer: number; position: number; feature: number }) => `${f.layer}/${f.position}/${f.feature}`;

/** exp(x − max) normalised to sum 1: probabilities of logits. */
export function softmax(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  const e = Float64Array.from(x, (v) => Math.exp(v - m));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}

function checkInterventions(lm: LocalReplacementModel, list: readonly FeatureIntervention[]): void {
  if (!Array.isArray(list) || list.length === 0) throw new InputError(undefined, "intervene: give at least one { layer, position, feature, value }");
  list.forEach((f, i) => {
    const bad = (what: string) => new InputError(undefined, `intervene: intervention ${i} ${what}`);
    if (!(Number.isInteger(f.layer) && f.layer >= 0 && f.layer < lm.L)) throw bad(`has layer ${f.layer}; the transcoder has layers 0..${lm.L - 1}`);
    if (!(Number.isInteger(f.position) && f.position >= 0 && f.position < lm.T)) throw bad(`has position ${f.position}; the prompt has positions 0..${lm.T - 1}`);
    if (!(Number.isInteger(f.feature) && f.feature >= 0 && f.feature < lm.clt.n)) throw bad(`has feature ${f.feature}; each layer has features 0..${lm.clt.n - 1}`);
    if (typeof f.value !== "number" || !Number.isFinite(f.value)) throw bad(`has value ${f.value}; it must be a finite number`);
  });
}

/** The last position's logits with these features set, by the mode's rules. */
export function interveneLogits(lm: LocalReplacementModel, list: readonly FeatureIntervention[], opts: InterventionOptions): { logits: Float64Array; features?: ActiveFeature[] } {
  const set = new Map(list.map((f) => [key(f), f.value]));
  const last = lm.T - 1;
  if ((opts.mode ?? "iterative") === "constrained") {
    const kept = lm.features.filter((f) => !set.has(key(f)));
    const features = [...kept, ...list.map((f) => ({ layer: f.layer, position: f.position, feature: f.feature, activation: f.value }))];
    const writes = lm.featureWrites(features);
    const run = lm.forward(lm.embeddings, writes.map((w, l) => Float64Array.from(w, (x, i) => x + lm.errors[l][i])));
    return { logits: lm.logitsAt(run.final, last) };
  }
  const freezeLn = opts.freezeLayerNorm ?? false;
  const chosen: ActiveFeature[] = [];
  const first = lm.zeroFirstPosition ? 1 : 0; // the first position's features stay in its error node
  // Writes accumulate layer by layer: layer l's features add to layers l … L−1, and earlier layers' are in.
  const writes = lm.featureWrites([]);
  const run = lm.run({
    freezeAttention: opts.freezeAttention ?? false,
    freezeLayerNorm: freezeLn,
    mlpOut: (l, residMid) => {
      const layer: ActiveFeature[] = [];
      for (const f of lm.encode(l, residMid)) if (f.position >= first && !set.has(key(f))) layer.push(f);
      for (const f of list) if (f.layer === l) layer.push({ layer: l, position: f.position, feature: f.feature, activation: f.value });
      lm.featureWrites(layer, writes);
      chosen.push(...layer);
      return Float64Array.from(writes[l], (x, i) => x + lm.errors[l][i]);
    },
  });
  return { logits: lm.logitsAt(run.final, last, freezeLn), features: chosen.filter((f) => f.activation !== 0) };
}

/** The graph's predicted change of each logit node: direct (set features only) and through every feature node. */
export function predictedChanges(graph: AttributionGraph, list: readonly FeatureIntervention[]): { direct: Float64Array; graph: Float64Array } {
  const N = graph.size, { features: F, logits: nL } = graph.counts;
  const index = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    if (n.kind === "feature") index.set(key(n), i);
  });
  const direct = new Float64Array(nL), total = new Float64Array(nL);
  const missing = list.filter((f) => !index.has(key(f)));
  if (missing.length > 0) return { direct: direct.fill(NaN), graph: total.fill(NaN) };
  // δ of each feature node, in node order (layer, then position): features read only earlier layers.
  const delta = new Float64Array(N);
  const clamped = new Map(list.map((f) => [index.get(key(f))!, f.value]));
  for (let t = 0; t < F; t++) {
    const value = graph.values[t];
    if (clamped.has(t)) {
      delta[t] = clamped.get(t)! - value;
      continue;
    }
    let s = 0;
    for (let src = 0; src < t; src++) if (delta[src] !== 0) s += (graph.adjacency[t * N + src] / graph.values[src]) * delta[src];
    delta[t] = s;
  }
  for (let k = 0; k < nL; k++) {
    const row = (N - nL + k) * N;
    for (let src = 0; src < F; src++) {
      if (delta[src] === 0) continue;
      const perUnit = graph.adjacency[row + src] / graph.values[src];
      total[k] += perUnit * delta[src];
      if (clamped.has(src)) direct[k] += perUnit * delta[src];
    }
  }
  return { direct, graph: total };
}

/** The intervention's table: the graph's logit nodes, then the most likely tokens after it. */
export function intervene(graph: AttributionGraph, list: readonly FeatureIntervention[], opts: InterventionOptions = {}): InterventionResult {
  rejectUnknownOptions("AttributionGraph.intervene", opts, INTERVENTION_OPTIONS);
  const mode = opts.mode ?? "iterative";
  if (mode !== "iterative" && mode !== "constrained") throw new InputError(undefined, `intervene: mode must be "iterative" or "constrained", got ${JSON.stringify(mode)}`);
  const lm = graph.replacementModel;
  checkInterventions(lm, list);
  const top = opts.top ?? 5;
  const { logits, features } = interveneLogits(lm, list, opts);
  // "Before" is the same computation without the intervention (the model's own logits to float32
  // precision), so that a change is only the intervention's.
  const clean = interveneLogits(lm, [], opts).logits;
  const meanOf = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
  const [mBefore, mAfter] = [meanOf(clean), meanOf(logits)];
  const [pBefore, pAfter] = [softmax(clean), softmax(logits)];
  const predicted = predictedChanges(graph, list);
  const logitNodes = graph.nodes.slice(graph.size - graph.counts.logits).map((n) => (n as { token: number }).token);
  const order = Array.from(pAfter.keys()).sort((a, b) => pAfter[b] - pAfter[a]);
  const tokens = [...logitNodes, ...order.filter((t) => !logitNodes.includes(t)).slice(0, top)];
  const rows = tokens.map((t, i) => ({
    token: t,
    text: graph.textOf(t),
    probabilityBefore: pBefore[t],
    probabilityAfter: pAfter[t],
    before: clean[t] - mBefore,
    after: logits[t] - mAfter,
    change: logits[t] - mAfter - (clean[t] - mBefore),
    predictedDirect: i < logitNodes.length ? predicted.direct[i] : NaN,
    predictedGraph: i < logitNodes.length ? predicted.graph[i] : NaN,
  }));
  return { mode, rows, logits, features };
}
