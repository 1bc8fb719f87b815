// Influence on the logits through an attribution graph, and the pruning and scores built on it, as
// circuit-tracer defines them (graph.py). The adjacency A is N × N, rows the targets, columns the
// sources, nodes ordered [features, errors, embeddings, logits]. With Â the row-normalised |A|, the
// influence of every node on the logits is w·(Â + Â² + …) where w holds the logits' probabilities;
// the graph is acyclic, so the series ends.
import { InputError } from "../../io/errors.js";

/** Node counts of each kind, in the adjacency's order. */
export interface NodeCounts {
  features: number;
  errors: number;
  embeddings: number;
  logits: number;
}

/** |A| (rows × N) with each row scaled to sum 1; a row sum below `floor` divides by `floor` (rows of zeros stay zero). */
export function normalizeRows(A: Float64Array, N: number, rows = N, floor = 1e-10): Float64Array {
  const out = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < N; c++) s += Math.abs(A[r * N + c]);
    const scale = 1 / Math.max(s, floor);
    for (let c = 0; c < N; c++) out[r * N + c] = Math.abs(A[r * N + c]) * scale;
  }
  return out;
}

/** w·(Â + Â² + …): each node's total influence on the weighted logits. Throws if the graph has a cycle. */
export function influence(normalized: Float64Array, N: number, weights: Float64Array, maxIter = 1000): Float64Array {
  let current = vecMat(weights, normalized, N);
  const total = Float64Array.from(current);
  for (let it = 0; current.some((x) => x !== 0); it++) {
    if (it >= maxIter) throw new Error(`featurelab: influence did not converge in ${maxIter} steps (does the graph have a cycle?)`);
    current = vecMat(current, normalized, N);
    for (let i = 0; i < N; i++) total[i] += current[i];
  }
  return total;
}

/** v·M for a row vector v [N] and M [N × N], skipping zero entries of v (most of it, in practice). */
function vecMat(v: Float64Array, M: Float64Array, N: number): Float64Array {
  const out = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    const x = v[r];
    if (x === 0) continue;
    for (let c = 0, o = r * N; c < N; c++) out[c] += x * M[o + c];
  }
  return out;
}

/** The score at which the largest scores reach `fraction` of the total (circuit-tracer's find_threshold). */
export function findThreshold(scores: ArrayLike<number>, fraction: number): number {
  const sorted = Float64Array.from(scores).sort().reverse();
  let total = 0;
  for (const s of sorted) total += s;
  let cum = 0;
  for (let i = 0; i < sorted.length; i++) {
    cum += sorted[i];
    if (cum / total >= fraction) return sorted[i];
  }
  return sorted[sorted.length - 1];
}

/** Logit weights: each logit node's probability, 0 elsewhere. */
export function logitWeights(counts: NodeCounts, probabilities: ArrayLike<number>, N: number): Float64Array {
  const w = new Float64Array(N);
  for (let i = 0; i < counts.logits; i++) w[N - counts.logits + i] = probabilities[i];
  return w;
}

/** What `pruneGraph` keeps. */
export interface PruneResult {
  nodeMask: Uint8Array;
  /** [target·N + source]. */
  edgeMask: Uint8Array;
  /** Each node's cumulative influence share when nodes are sorted by influence (the rank at which it enters). */
  cumulativeScores: Float64Array;
}

/**
 * circuit-tracer's prune_graph: keep the nodes that carry `nodeThreshold` of the influence on the logits
 * (embeddings and logits always), then the edges that carry `edgeThreshold` of the influence among
 * those, then drop, until nothing changes, feature and error nodes left without an outgoing edge and
 * feature nodes without an incoming one.
 */
export function pruneGraph(A: Float64Array, counts: NodeCounts, probabilities: ArrayLike<number>, nodeThreshold = 0.8, edgeThreshold = 0.98): PruneResult {
  for (const [name, t] of [["nodeThreshold", nodeThreshold], ["edgeThreshold", edgeThreshold]] as const) {
    if (!(t >= 0 && t <= 1)) throw new InputError(undefined, `prune: ${name} must be between 0 and 1, got ${t}`);
  }
  const N = counts.features + counts.errors + counts.embeddings + counts.logits;
  const w = logitWeights(counts, probabilities, N);
  const nodeInfluence = influence(normalizeRows(A, N), N, w);
  const cut = findThreshold(nodeInfluence, nodeThreshold);
  const nodeMask = Uint8Array.from(nodeInfluence, (x) => (x >= cut ? 1 : 0));
  const fixedFrom = N - counts.logits - counts.embeddings;
  for (let i = fixedFrom; i < N; i++) nodeMask[i] = 1;
  const pruned = new Float64Array(N * N);
  for (let r = 0; r < N; r++) {
    if (!nodeMask[r]) continue;
    for (let c = 0; c < N; c++) if (nodeMask[c]) pruned[r * N + c] = A[r * N + c];
  }
  const normalized = normalizeRows(pruned, N);
  const prunedInfluence = influence(normalized, N, w);
  for (let i = 0; i < N; i++) prunedInfluence[i] += w[i];
  const edgeScores = new Float64Array(N * N);
  for (let r = 0; r < N; r++) for (let c = 0; c < N; c++) edgeScores[r * N + c] = normalized[r * N + c] * prunedInfluence[r];
  const edgeCut = findThreshold(edgeScores, edgeThreshold);
  const edgeMask = Uint8Array.from(edgeScores, (x) => (x >= edgeCut ? 1 : 0));

  // Feature and error nodes need an outgoing edge; features an incoming one too. Repeat until stable.
  const settle = () => {
    let changed = false;
    for (let i = 0; i < fixedFrom; i++) {
      if (!nodeMask[i]) continue;
      let out = false;
      for (let r = 0; r < N && !out; r++) out = edgeMask[r * N + i] === 1;
      let into = i >= counts.features;
      for (let c = 0; c < N && !into; c++) into = edgeMask[i * N + c] === 1;
      if (!out || !into) {
        nodeMask[i] = 0;
        changed = true;
      }
    }
    return changed;
  };
  while (settle()) {
    for (let i = 0; i < N; i++) {
      if (nodeMask[i]) continue;
      edgeMask.fill(0, i * N, (i + 1) * N);
      for (let r = 0; r < N; r++) edgeMask[r * N + i] = 0;
    }
  }

  const order = Array.from(nodeInfluence.keys()).sort((a, b) => nodeInfluence[b] - nodeInfluence[a]);
  let total = 0;
  for (const x of nodeInfluence) total += x;
  const cumulativeScores = new Float64Array(N);
  let cum = 0;
  for (const i of order) {
    cum += nodeInfluence[i];
    cumulativeScores[i] = cum / total;
  }
  return { nodeMask, edgeMask, cumulativeScores };
}

/**
 * circuit-tracer's compute_graph_scores. Replacement score: of the influence that embeddings and
 * error nodes have on the logits, the embeddings' share (all paths run through features and nothing
 * is left unexplained at 1). Completeness score: the share of each node's normalised inputs that
 * does not come from error nodes, averaged with each node's influence on the output as weight.
 */
export function graphScores(A: Float64Array, counts: NodeCounts, probabilities: ArrayLike<number>): { replacement: number; completeness: number } {
  const N = counts.features + counts.errors + counts.embeddings + counts.logits;
  const w = logitWeights(counts, probabilities, N);
  const normalized = normalizeRows(A, N);
  const inf = influence(normalized, N, w);
  const errorStart = counts.features, errorEnd = errorStart + counts.errors, tokenEnd = errorEnd + counts.embeddings;
  let tokenInfluence = 0, errorInfluence = 0;
  for (let i = errorEnd; i < tokenEnd; i++) tokenInfluence += inf[i];
  for (let i = errorStart; i < errorEnd; i++) errorInfluence += inf[i];
  let num = 0, den = 0;
  for (let r = 0; r < N; r++) {
    let fromErrors = 0;
    for (let c = errorStart; c < errorEnd; c++) fromErrors += normalized[r * N + c];
    const weight = inf[r] + w[r];
    num += (1 - fromErrors) * weight;
    den += weight;
  }
  return { replacement: tokenInfluence / (tokenInfluence + errorInfluence), completeness: num / den };
}
