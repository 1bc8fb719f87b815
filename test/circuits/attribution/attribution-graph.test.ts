import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { LocalReplacementModel } from "../../../src/circuits/attribution/replacement-model.js";
import { attribute } from "../../../src/circuits/attribution/attribution-graph.js";
import { scaledTransformer } from "../fixtures.js";
import { randomClt, PROMPT } from "./random-clt.js";

test("local replacement model: transcoder writes plus error nodes are the MLP outputs (the model's logits come back bit for bit), and the frozen float64 model reproduces the residual stream and logits", async () => {
  await ready();
  const model = scaledTransformer(3);
  const clt = randomClt(3, 12, 1);
  const lm = await LocalReplacementModel.build(model, clt, PROMPT);
  assert.ok(lm.features.length > 20, `features active: ${lm.features.length}`);
  assert.ok(lm.features.every((f) => f.position > 0), "the first position's features are left out");
  const writes = lm.featureWrites(lm.features);
  // Spliced into the real model as float32, writes + errors give back the MLP outputs, so the logits are identical.
  const hooks = Object.fromEntries(
    Array.from({ length: 3 }, (_, l) => [`blocks.${l}.hook_mlp_out`, (x: tf.Tensor) => tf.tensor(Float32Array.from(writes[l], (w, i) => w + lm.errors[l][i]), x.shape)]),
  );
  const clean = await model.run([PROMPT]);
  const replaced = await model.run([PROMPT], { hooks });
  assert.deepEqual(Array.from(replaced.logits!.dataSync()), Array.from(clean.logits!.dataSync()));
  // The frozen model, in float64, from the same sources.
  const run = lm.forward(lm.embeddings, writes.map((w, l) => Float64Array.from(w, (x, i) => x + lm.errors[l][i])));
  for (let l = 0; l < 3; l++) {
    const err = Math.max(...run.residMid[l].map((x, i) => Math.abs(x - lm.original.residMid[l][i])));
    assert.ok(err < 1e-4, `resid_mid of layer ${l}: ${err}`);
  }
  for (let t = 0; t < PROMPT.length; t++) {
    const logits = lm.logitsAt(run.final, t);
    const err = Math.max(...logits.map((x, v) => Math.abs(x - lm.original.logits[t * lm.vocab + v])));
    assert.ok(err < 1e-4, `logits at ${t}: ${err}`);
  }
});

test("attribution graph: every target's incoming edges plus its bias term add up to its value (to 1e-5), edges are direct effects (removing a source moves the target by exactly its edge)", async () => {
  await ready();
  const model = scaledTransformer(3);
  const clt = randomClt(3, 12, 2);
  const graph = await attribute(model, clt, PROMPT, { batchSize: 7 });
  const N = graph.size, c = graph.counts;
  assert.equal(N, c.features + c.errors + c.embeddings + c.logits);
  assert.equal(c.errors, 3 * PROMPT.length);
  assert.ok(c.logits >= 1 && c.logits <= 10);
  assert.ok(graph.logitProbabilities.reduce((s, p) => s + p, 0) >= 0.95 || c.logits === 10);
  const targets = [...Array(c.features).keys(), ...Array.from({ length: c.logits }, (_, i) => N - c.logits + i)];
  let worst = 0;
  for (const t of targets) {
    let sum = graph.bias[t];
    for (let s = 0; s < N; s++) sum += graph.edge(t, s);
    worst = Math.max(worst, Math.abs(sum - graph.values[t]) / Math.max(1, Math.abs(graph.values[t])));
  }
  assert.ok(worst < 1e-5, `largest |Σ edges + bias − value|: ${worst}`);
  // Causality: no edge from a later position, none from a feature of the same or a later layer.
  graph.nodes.forEach((tn, t) => {
    if (tn.kind !== "feature") return;
    graph.nodes.forEach((sn, s) => {
      const w = graph.edge(t, s);
      if (w === 0) return;
      if ("position" in sn) assert.ok(sn.position <= tn.position, `${graph.label(s)} → ${graph.label(t)} crosses time backwards`);
      if (sn.kind === "feature" || sn.kind === "error") assert.ok(sn.layer < tn.layer, `${graph.label(s)} → ${graph.label(t)}`);
    });
  });
  // Direct effects by removal, through the frozen model itself (not its backward pass).
  const lm = graph.replacementModel;
  const features = graph.nodes.filter((n) => n.kind === "feature");
  const valueOf = (run: ReturnType<typeof lm.forward>, t: number): number => {
    const n = graph.nodes[t];
    if (n.kind === "feature") {
      let s = lm.clt.bEnc[n.layer][n.feature];
      for (let j = 0; j < lm.d; j++) s += run.residMid[n.layer][n.position * lm.d + j] * lm.clt.encoders[n.layer][j * lm.clt.n + n.feature];
      return s;
    }
    const logits = lm.logitsAt(run.final, lm.T - 1);
    const mean = logits.reduce((a, b) => a + b, 0) / lm.vocab;
    return logits[(n as { token: number }).token] - mean;
  };
  const mlp = (feats: typeof features, zeroError?: [number, number]) =>
    lm.featureWrites(feats as never).map((w, l) =>
      Float64Array.from(w, (x, i) => x + (zeroError && zeroError[0] === l && Math.floor(i / lm.d) === zeroError[1] ? 0 : lm.errors[l][i])),
    );
  const base = lm.forward(lm.embeddings, mlp(features));
  const rng = new Rng(3);
  const checked = { feature: 0, error: 0, embedding: 0 };
  for (let trial = 0; trial < 40; trial++) {
    const t = targets[rng.int(targets.length)];
    const s = rng.int(N - c.logits);
    const sn = graph.nodes[s];
    let run;
    if (sn.kind === "feature") run = lm.forward(lm.embeddings, mlp(features.filter((_, i) => i !== s)));
    else if (sn.kind === "error") run = lm.forward(lm.embeddings, mlp(features, [sn.layer, sn.position]));
    else run = lm.forward(Float64Array.from(lm.embeddings, (x, i) => (Math.floor(i / lm.d) === (sn as { position: number }).position ? 0 : x)), mlp(features));
    checked[sn.kind as keyof typeof checked]++;
    const delta = valueOf(base, t) - valueOf(run, t);
    assert.ok(Math.abs(delta - graph.edge(t, s)) < 1e-9 * Math.max(1, Math.abs(delta)), `${graph.label(s)} → ${graph.label(t)}: removal moves it by ${delta}, the edge says ${graph.edge(t, s)}`);
  }
  assert.ok(checked.feature > 0 && checked.error > 0 && checked.embedding > 0, JSON.stringify(checked));
  assert.ok(graph.stats.backwardPasses >= Math.ceil((c.features + c.logits) / 7));
});

test("attribution graph: maxFeatureNodes keeps the features most influential on the logits, and per-layer transcoders write only to their own layer", async () => {
  await ready();
  const model = scaledTransformer(3);
  const clt = randomClt(3, 12, 2);
  const full = await attribute(model, clt, PROMPT, { batchSize: 16 });
  const small = await attribute(model, clt, PROMPT, { batchSize: 4, maxFeatureNodes: 10 });
  assert.equal(small.counts.features, 10);
  assert.equal(small.size, 10 + small.counts.errors + small.counts.embeddings + small.counts.logits);
  // The top features of the full graph by influence are among those kept.
  const inf = full.influence();
  const key = (n: { layer: number; position: number; feature: number }) => `${n.layer}/${n.position}/${n.feature}`;
  const kept = new Set(small.nodes.filter((n) => n.kind === "feature").map((n) => key(n as never)));
  const top = [...Array(full.counts.features).keys()].sort((a, b) => inf[b] - inf[a]).slice(0, 3);
  for (const i of top) assert.ok(kept.has(key(full.nodes[i] as never)), `top feature ${full.label(i)} kept`);
  // The logit rows of the two graphs agree on the features both have.
  const pltGraph = await attribute(model, randomClt(3, 12, 2, false), PROMPT);
  pltGraph.nodes.forEach((tn, t) => {
    if (tn.kind !== "feature") return;
    pltGraph.nodes.forEach((sn, s) => {
      // A per-layer transcoder feature reaches a later feature only through attention: never from its own position directly via a skipped layer's decoder.
      if (sn.kind === "feature" && pltGraph.edge(t, s) !== 0) assert.ok(sn.layer < tn.layer);
    });
  });
  await assert.rejects(attribute(model, clt, PROMPT, { maxLogit: 3 } as never), /maxLogit/);
  await assert.rejects(attribute(model, clt, PROMPT, { maxLogits: 0 }), /maxLogits must be a whole number ≥ 1/);
  await assert.rejects(attribute(model, randomClt(2, 12, 2), PROMPT), /transcoder spans 2 layers; the model has 3/);
});

test("a cross-layer transcoder assembled by hand saves and loads back with its layers (nLayers recorded from the architecture)", async () => {
  await ready();
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { loadDictionary } = await import("../../../src/dictionaries/load-dictionary.js");
  const dir = mkdtempSync(join(tmpdir(), "featurelab-clt-"));
  try {
    const clt = randomClt(3, 12, 4, false);
    await clt.save(join(dir, "clt"));
    const back = await loadDictionary(join(dir, "clt"));
    assert.equal(back.arch.options.nLayers, 3);
    assert.equal(back.arch.options.crossLayer, false);
    const model = scaledTransformer(3);
    const [a, b] = [await attribute(model, clt, PROMPT), await attribute(model, back, PROMPT)];
    assert.deepEqual(Array.from(b.adjacency), Array.from(a.adjacency));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
