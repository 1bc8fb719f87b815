import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../../src/engine/backend.js";
import { attribute } from "../../../src/circuits/attribution/attribution-graph.js";
import type { ActiveFeature } from "../../../src/circuits/attribution/replacement-model.js";
import { scaledTransformer } from "../fixtures.js";
import { randomClt, PROMPT } from "./random-clt.js";

test("interventions: constrained patching moves each logit by exactly the graph's direct effects; small iterative changes with frozen attention follow the graph's linear paths; a no-op gives back the model's logits", async () => {
  await ready();
  const model = scaledTransformer(3);
  const graph = await attribute(model, randomClt(3, 12, 2), PROMPT);
  const feats = graph.nodes.slice(0, graph.counts.features) as ({ kind: "feature" } & ActiveFeature)[];
  const nL = graph.counts.logits, N = graph.size;
  // The two features with the largest direct effect on the top logit, ablated.
  const top = [...feats.keys()].sort((a, b) => Math.abs(graph.edge(N - nL, b)) - Math.abs(graph.edge(N - nL, a))).slice(0, 2);
  const ablate = top.map((i) => ({ layer: feats[i].layer, position: feats[i].position, feature: feats[i].feature, value: 0 }));
  const constrained = graph.intervene(ablate, { mode: "constrained" });
  assert.equal(constrained.rows.length, Math.min(graph.replacementModel.vocab, nL + 5));
  constrained.rows.slice(0, nL).forEach((r, k) => {
    let direct = 0;
    for (const i of top) direct -= graph.edge(N - nL + k, i); // removing a feature removes its edge
    assert.ok(Math.abs(r.change - direct) < 1e-9 * Math.max(1, Math.abs(direct)), `${r.text}: change ${r.change}, direct effects ${direct}`);
    assert.ok(Math.abs(r.predictedDirect - direct) < 1e-12 * Math.max(1, Math.abs(direct)));
  });
  assert.ok(Math.abs(constrained.rows[0].change) > 1e-3, "the ablation moves the top logit");
  // A 0.1 % change of an early feature, propagated by the replacement model with attention and
  // LayerNorm frozen: to first order, what the graph's paths carry (no feature crosses its threshold).
  const early = feats.findIndex((f) => f.layer === 0);
  const f = feats[early];
  const nudge = [{ layer: f.layer, position: f.position, feature: f.feature, value: f.activation * 1.001 }];
  const iter = graph.intervene(nudge, { freezeAttention: true, freezeLayerNorm: true });
  assert.equal(iter.features!.length, graph.counts.features, "the same features stay active");
  iter.rows.slice(0, nL).forEach((r) => {
    const scale = Math.max(1e-6, Math.abs(r.predictedGraph));
    assert.ok(Math.abs(r.change - r.predictedGraph) < 1e-3 * scale + 1e-9, `${r.text}: change ${r.change}, graph ${r.predictedGraph}`);
  });
  // Setting a feature to its own value, everything recomputed: the model's own logits come back.
  const same = graph.intervene([{ layer: f.layer, position: f.position, feature: f.feature, value: f.activation }], { top: 0 });
  const lm = graph.replacementModel;
  const clean = lm.original.logits.subarray((lm.T - 1) * lm.vocab);
  const err = Math.max(...Array.from(same.logits, (x, v) => Math.abs(x - clean[v])));
  assert.ok(err < 1e-4, `no-op intervention: logits differ by ${err}`);
  assert.equal(same.rows.length, nL);
  assert.throws(() => graph.intervene([]), /at least one/);
  assert.throws(() => graph.intervene([{ layer: 5, position: 1, feature: 0, value: 0 }]), /intervention 0 has layer 5; the transcoder has layers 0..2/);
  assert.throws(() => graph.intervene([{ layer: 0, position: 1, feature: 99, value: 0 }]), /feature 99; each layer has features 0..11/);
  assert.throws(() => graph.intervene(ablate, { mode: "frozen" as never }), /mode must be "iterative" or "constrained"/);
  assert.throws(() => graph.intervene(ablate, { freezeAttn: true } as never), /freezeAttn/);
});
