// A transformer with a circuit planted by hand, and the cross-layer transcoder that describes it exactly:
// token 3 → (MLP 0) writes e₆ → (MLP 1) reads e₆, writes e₅ → the logit of token 5. Attention writes
// nothing, so each position stands alone. Embeddings are 3·e_t, and each MLP neuron reads one direction
// of the LayerNorm's output (the same for every one-hot input) past a bias of −1, so the MLP outputs
// are known in closed form and the transcoder's features reproduce them: the error nodes are float
// rounding. The attribution graph must then show the planted path with the planted weights, the
// replacement and completeness scores near 1, and pruning must keep the path and drop the rest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Transformer } from "../../../src/models/transformer.js";
import { crossLayerTranscoder } from "../../../src/dictionaries/cross-layer-transcoder.js";
import { Dictionary } from "../../../src/dictionaries/dictionary.js";
import { attribute } from "../../../src/circuits/attribution/attribution-graph.js";

const d = 8, V = 10, EPS = 1e-5;
const e = (i: number, scale = 1) => Array.from({ length: d }, (_, j) => (j === i ? scale : 0));
/** LayerNorm (γ 1, β 0) of x, read along direction index k. */
const lnAt = (x: number[], k: number) => {
  const m = x.reduce((s, v) => s + v, 0) / d;
  const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / d + EPS);
  return (x[k] - m) / sd;
};
const add = (...xs: number[][]) => xs[0].map((_, j) => xs.reduce((s, x) => s + x[j], 0));

function plantedModel(): Transformer {
  const base = Transformer.init({ d_model: d, n_layers: 2, n_heads: 2, d_vocab: V, n_ctx: 8, act_fn: "relu" }, { seed: 3 });
  const m = base.cfg.d_mlp;
  const params: Record<string, tf.Tensor> = { ...base.params };
  const wte = Array.from({ length: V }, (_, t) => (t < d ? e(t, 3) : add(e(t - 8, 2), e(t - 6, 2))));
  params["wte.weight"] = tf.tensor2d(wte);
  params["wpe.weight"] = tf.zeros([8, d]);
  const neuron = (reads: number, writes: number[], l: number) => ({ reads, writes, l });
  // Layer 0: token 3 → 3·e₆ and token 2 → 2·e₇; layer 1: e₆ (present at token 3) → 6·e₅.
  const onToken = lnAt(e(3, 3), 3) - 1; // what a neuron reading its token's direction holds after the bias
  const onE6 = lnAt(add(e(3, 3), e(6, 3)), 6) - 1; // layer 1's neuron at a token-3 position
  const neurons = [neuron(3, e(6, 3 / onToken), 0), neuron(2, e(7, 2 / onToken), 0), neuron(6, e(5, 6 / onE6), 1)];
  for (let l = 0; l < 2; l++) {
    const h = `h.${l}.`;
    for (const x of ["v"]) {
      params[`${h}attn.c_attn.${x}.weight`] = tf.zeros([d, d]);
      params[`${h}attn.c_attn.${x}.bias`] = tf.zeros([d]);
    }
    params[`${h}attn.c_proj.weight`] = tf.zeros([d, d]);
    params[`${h}attn.c_proj.bias`] = tf.zeros([d]);
    const fc = tf.buffer([d, m]), fcBias = tf.buffer([m]), proj = tf.buffer([m, d]);
    neurons.filter((n) => n.l === l).forEach((n, k) => {
      fc.set(1, n.reads, k);
      fcBias.set(-1, k);
      n.writes.forEach((w, j) => proj.set(w, k, j));
    });
    params[`${h}mlp.c_fc.weight`] = fc.toTensor();
    params[`${h}mlp.c_fc.bias`] = fcBias.toTensor();
    params[`${h}mlp.c_proj.weight`] = proj.toTensor();
    params[`${h}mlp.c_proj.bias`] = tf.zeros([d]);
  }
  return new Transformer(base.cfg, params);
}

/** Layer 0: A reads e₃ (fires 3 at token 3) and writes e₆; D reads e₂ and writes ⅔·e₇. Layer 1: B reads 2·e₆ and writes e₅; B2 reads e₇ but its threshold keeps it silent. */
function plantedClt(): Dictionary {
  const arch = crossLayerTranscoder({ nLayers: 2, d_out: 2 * d });
  const n = 2;
  const enc = tf.buffer([2 * d, 2 * n]), dec = tf.buffer([2 * n, 2 * d]);
  const setEnc = (layer: number, feature: number, v: number[]) => v.forEach((x, j) => enc.set(x, layer * d + j, layer * n + feature));
  const setDec = (layer: number, feature: number, to: number, v: number[]) => v.forEach((x, j) => dec.set(x, layer * n + feature, to * d + j));
  setEnc(0, 0, e(3));
  setDec(0, 0, 0, e(6));
  setEnc(0, 1, e(2));
  setDec(0, 1, 0, e(7, 2 / 3));
  setEnc(1, 0, e(6, 2));
  setDec(1, 0, 1, e(5));
  setEnc(1, 1, e(7));
  setDec(1, 1, 1, e(1));
  const params = {
    W_enc: enc.toTensor(), W_dec: dec.toTensor(),
    b_enc: tf.zeros([2 * n]), b_dec: tf.zeros([2 * d]),
    threshold: tf.tensor1d([0.5, 0.5, 0.5, 5]),
  };
  return new Dictionary(arch, { architecture: "clt", d_in: 2 * d, d_sae: 2 * n, d_out: 2 * d }, params);
}

test("planted circuit: the graph shows token 3 → A → B → logit 5 with the planted weights, errors are rounding, pruning keeps the path", async () => {
  await ready();
  const prompt = [1, 2, 3, 4, 2, 3];
  const graph = await attribute(plantedModel(), plantedClt(), prompt);
  const last = prompt.length - 1;
  const find = (pred: (n: (typeof graph.nodes)[number]) => boolean) => graph.nodes.findIndex(pred);
  const A = find((n) => n.kind === "feature" && n.layer === 0 && n.feature === 0 && n.position === last);
  const B = find((n) => n.kind === "feature" && n.layer === 1 && n.feature === 0 && n.position === last);
  const emb = find((n) => n.kind === "embedding" && n.position === last);
  const logit5 = find((n) => n.kind === "logit" && n.token === 5);
  assert.ok(A >= 0 && B >= 0 && logit5 >= 0, "A and B fire at the last position and token 5 is a salient logit");
  // Which features fire where: A and B at both token-3 positions, D at both token-2 positions, B2 never.
  const fired = graph.nodes.filter((n) => n.kind === "feature").map((n) => `${(n as { layer: number }).layer}/${(n as { feature: number }).feature}@${(n as { position: number }).position}`);
  assert.deepEqual(fired.sort(), ["0/0@2", "0/0@5", "0/1@1", "0/1@4", "1/0@2", "1/0@5"].sort());
  assert.ok(Math.abs(graph.values[A] - 3) < 1e-5 && Math.abs(graph.values[B] - 6) < 1e-5, "activations 3 and 6");
  // The planted weights: embedding → A is 3·e₃·e₃ = 3; A → B is a_A·(e₆·2e₆) = 6; the embedding reaches B only through A.
  assert.ok(Math.abs(graph.edge(A, emb) - 3) < 1e-5, `emb → A ${graph.edge(A, emb)}`);
  assert.ok(Math.abs(graph.edge(B, A) - 6) < 1e-5, `A → B ${graph.edge(B, A)}`);
  assert.equal(graph.edge(B, emb), 0);
  // B → logit 5 through the frozen final LayerNorm: 6·(centred e₅ / σ)·(wte[5] − mean wte), σ of the final residual 3e₃ + 3e₆ + 6e₅.
  const final = add(e(3, 3), e(6, 3), e(5, 6));
  const mean = final.reduce((s, v) => s + v, 0) / d;
  const sigma = Math.sqrt(final.reduce((s, v) => s + (v - mean) ** 2, 0) / d + EPS);
  const wte = Array.from({ length: V }, (_, t) => (t < d ? e(t, 3) : add(e(t - 8, 2), e(t - 6, 2))));
  const u = e(5, 3).map((x, j) => x - wte.reduce((s, row) => s + row[j], 0) / V);
  const centred = e(5).map((x) => x - 1 / d);
  const expected = (6 / sigma) * centred.reduce((s, x, j) => s + x * u[j], 0);
  assert.ok(Math.abs(graph.edge(logit5, B) - expected) < 1e-5, `B → logit 5: ${graph.edge(logit5, B)} vs ${expected}`);
  // Attention writes nothing: the first token-3 position's features reach nothing at the last.
  const Aearly = find((n) => n.kind === "feature" && n.layer === 0 && n.feature === 0 && n.position === 2);
  assert.equal(graph.edge(logit5, Aearly), 0);
  assert.equal(graph.edge(B, Aearly), 0);
  // The transcoder is the MLPs: errors are float32 rounding, and the scores say so.
  for (let i = graph.counts.features; i < graph.counts.features + graph.counts.errors; i++) assert.ok(graph.values[i] < 1e-5, `${graph.label(i)}: ${graph.values[i]}`);
  const { replacement, completeness } = graph.scores();
  assert.ok(replacement > 0.999 && completeness > 0.999, `replacement ${replacement}, completeness ${completeness}`);
  // Pruning keeps the path and drops the features that cannot reach the logits.
  const { nodeMask } = graph.prune();
  assert.ok(nodeMask[A] && nodeMask[B], "A and B kept");
  assert.ok(!nodeMask[Aearly], "the early copy of A is dropped");
  const influence = graph.influence();
  const features = [...Array(graph.counts.features).keys()].sort((a, b) => influence[b] - influence[a]);
  assert.deepEqual(features.slice(0, 2).sort(), [A, B].sort(), "A and B are the most influential features");
  // Ablating A, B re-encoded from what it reads: with LayerNorm frozen everything on the path is linear,
  // so the graph's paths predict the change exactly; recomputing LayerNorm changes it (the graph cannot see that).
  const ablateA = [{ layer: 0, position: last, feature: 0, value: 0 }];
  const frozen = graph.intervene(ablateA, { freezeAttention: true, freezeLayerNorm: true }).rows.find((r) => r.token === 5)!;
  assert.ok(Math.abs(frozen.change - frozen.predictedGraph) < 1e-5 * Math.abs(frozen.change), `ablating A: ${frozen.change} vs the graph's ${frozen.predictedGraph}`);
  assert.ok(Math.abs(frozen.predictedDirect - frozen.predictedGraph) > 1, "most of A's effect runs through B");
  const free = graph.intervene(ablateA).rows.find((r) => r.token === 5)!;
  assert.ok(free.probabilityAfter < 0.5 * free.probabilityBefore, `P(5) ${free.probabilityBefore} → ${free.probabilityAfter}`);
});
