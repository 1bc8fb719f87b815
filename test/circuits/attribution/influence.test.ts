import { test } from "node:test";
import assert from "node:assert/strict";
import { graphScores, influence, logitWeights, normalizeRows, pruneGraph, findThreshold, type NodeCounts } from "../../../src/circuits/attribution/influence.js";

// A fixed acyclic graph in circuit-tracer's node order: 12 features (each fed by earlier features, the
// errors and the embeddings), 6 error nodes, 3 embeddings, 2 logits (fed by everything but logits).
// Expected values: circuit-tracer's own graph.py (decoderesearch/circuit-tracer 4bb8c0e) run on the
// same matrix in float64 with Debian's python3-torch: compute_influence(normalize_matrix(A), w),
// prune_graph(graph, 0.8, 0.98) and (0.5, 0.9), compute_graph_scores(graph).
const counts: NodeCounts = { features: 12, errors: 6, embeddings: 3, logits: 2 };
const N = 23;
const probabilities = [0.7, 0.2];
function adjacency(): Float64Array {
  const A = new Float64Array(N * N);
  const val = (r: number, c: number) => ((r * 5 + c * 3) % 4 === 0 ? 0 : (((r * 31 + c * 17) % 23) - 11) / 7);
  for (let r = 0; r < 12; r++) for (const c of [...Array(r).keys(), ...Array.from({ length: 9 }, (_, k) => 12 + k)]) A[r * N + c] = val(r, c);
  for (let r = N - 2; r < N; r++) for (let c = 0; c < 21; c++) A[r * N + c] = val(r, c);
  return A;
}

const INFLUENCE = [0.09689694124229083, 0.04401873747497801, 0.09659907070935546, 0.06361923659877537, 0.07473733785077015, 0.024065461982518847, 0.07180646846156899, 0.039002303305956755, 0.07162601054999229, 0.01832988373281397, 0.05199762474716547, 0.03107127614169868, 0.11518753586529808, 0.07451691244818354, 0.08282518418841701, 0.10903834672712333, 0.11865178627083033, 0.07830206038453343, 0.0761486174815995, 0.11736855958802048, 0.12796099704599437, 0.0, 0.0];
const PRUNED: Record<string, { nodes: number[]; edges: number[][]; cumulative: number[] }> = {
  "0.8 0.98": { nodes: [0, 2, 4, 6, 8, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22], edges: [[0, 13], [0, 14], [0, 15], [0, 17], [0, 18], [0, 19], [2, 0], [2, 12], [2, 13], [2, 15], [2, 17], [2, 19], [4, 2], [4, 13], [4, 14], [4, 17], [4, 18], [6, 0], [6, 4], [6, 12], [6, 15], [6, 16], [6, 19], [6, 20], [8, 2], [8, 6], [8, 14], [8, 15], [8, 18], [8, 19], [21, 0], [21, 2], [21, 4], [21, 6], [21, 8], [21, 12], [21, 14], [21, 15], [21, 16], [21, 18], [21, 19], [21, 20], [22, 0], [22, 4], [22, 8], [22, 12], [22, 13], [22, 15], [22, 17], [22, 19], [22, 20]], cumulative: [0.43257797162906486, 0.9289865952066213, 0.4935710761777791, 0.8683614155190983, 0.6905776682977277, 0.9884264257754083, 0.7829669346148159, 0.9536128317295208, 0.8281919323068473, 1.0, 0.9011929587130383, 0.9732313806478082, 0.30254946869263255, 0.7376279949543305, 0.5458672844267202, 0.3713967902342288, 0.15571246354066368, 0.5953075711742307, 0.6433881640121226, 0.22981952040069234, 0.08079517135798052, 1.0, 1.0] },
  "0.5 0.9": { nodes: [0, 2, 12, 14, 15, 16, 18, 19, 20, 21, 22], edges: [[0, 15], [0, 19], [2, 15], [2, 19], [21, 0], [21, 2], [21, 12], [21, 14], [21, 15], [21, 16], [21, 18], [21, 19], [21, 20], [22, 0], [22, 15], [22, 19]], cumulative: [0.43257797162906486, 0.9289865952066213, 0.4935710761777791, 0.8683614155190983, 0.6905776682977277, 0.9884264257754083, 0.7829669346148159, 0.9536128317295208, 0.8281919323068473, 1.0, 0.9011929587130383, 0.9732313806478082, 0.30254946869263255, 0.7376279949543305, 0.5458672844267202, 0.3713967902342288, 0.15571246354066368, 0.5953075711742307, 0.6433881640121226, 0.22981952040069234, 0.08079517135798052, 1.0, 1.0] },
};
const SCORES = { replacement: 0.3571979712395714, completeness: 0.7670791805560041 };

test("influence, pruning and graph scores agree with circuit-tracer's graph.py on a fixed graph", () => {
  const A = adjacency();
  const inf = influence(normalizeRows(A, N), N, logitWeights(counts, probabilities, N));
  INFLUENCE.forEach((x, i) => assert.ok(Math.abs(inf[i] - x) < 1e-13, `influence of node ${i}: ${inf[i]} vs ${x}`));
  for (const [key, want] of Object.entries(PRUNED)) {
    const [nodeThreshold, edgeThreshold] = key.split(" ").map(Number);
    const got = pruneGraph(A, counts, probabilities, nodeThreshold, edgeThreshold);
    assert.deepEqual([...got.nodeMask.keys()].filter((i) => got.nodeMask[i]), want.nodes, `nodes kept at ${key}`);
    const edges: number[][] = [];
    for (let t = 0; t < N; t++) for (let s = 0; s < N; s++) if (got.edgeMask[t * N + s]) edges.push([t, s]);
    assert.deepEqual(edges, want.edges, `edges kept at ${key}`);
    want.cumulative.forEach((x, i) => assert.ok(Math.abs(got.cumulativeScores[i] - x) < 1e-12, `cumulative score ${i}`));
  }
  const s = graphScores(A, counts, probabilities);
  assert.ok(Math.abs(s.replacement - SCORES.replacement) < 1e-13 && Math.abs(s.completeness - SCORES.completeness) < 1e-13, JSON.stringify(s));
});

test("the scores by their definitions: a graph without error edges scores 1 and 1; one whose logits hear only errors has replacement 0", () => {
  const c: NodeCounts = { features: 1, errors: 1, embeddings: 1, logits: 1 };
  // embedding → feature → logit, and an error node that feeds nothing
  const clean = new Float64Array(16);
  clean[0 * 4 + 2] = 2; // feature ← embedding
  clean[3 * 4 + 0] = -1.5; // logit ← feature
  assert.deepEqual(graphScores(clean, c, [1]), { replacement: 1, completeness: 1 });
  const dirty = new Float64Array(16);
  dirty[3 * 4 + 1] = 1; // logit ← error only
  const s = graphScores(dirty, c, [1]);
  assert.equal(s.replacement, 0);
  // The logit's inputs are all error (weight 1: its probability); the error node (influence 1) has no
  // inputs, so none of them are errors: the average is ½, as circuit-tracer's definition gives.
  assert.equal(s.completeness, 0.5);
  assert.throws(() => pruneGraph(clean, c, [1], 1.2), /nodeThreshold must be between 0 and 1/);
  assert.equal(findThreshold([5, 1, 3, 1], 0.5), 5);
  assert.equal(findThreshold([5, 1, 3, 1], 0.6), 3);
  assert.equal(findThreshold([5, 1, 3, 1], 1), 1);
});
