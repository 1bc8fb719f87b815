import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { Transformer } from "../../../src/models/transformer.js";
import { architecture } from "../../../src/dictionaries/registry.js";
import { Dictionary } from "../../../src/dictionaries/dictionary.js";
import { transcoderCircuit, type CircuitEdge } from "../../../src/circuits/transcoders/circuit.js";
import { identityDictionary } from "../../ablation/fixtures.js";
import { DOCS, D_MODEL, scaledTransformer } from "../fixtures.js";

const D = D_MODEL;
const model = () => scaledTransformer(3);

/** A random transcoder whose biases make about half its features fire. */
function randomTranscoder(seed: number, width: number, skip = false): Dictionary {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * s), shape);
  const params: Record<string, tf.Tensor> = {
    W_enc: t([D, width], 0.6),
    W_dec: t([width, D], 0.5),
    b_enc: t([width], 0.3),
    b_dec: t([D], 0.2),
    b_dec_out: t([D], 0.2),
  };
  if (skip) params.W_skip = t([D, D], 0.3);
  const name = skip ? "skip-transcoder" : "transcoder";
  return new Dictionary(architecture(name), { architecture: name, d_in: D, d_sae: width, d_out: D }, params);
}

function close(a: number, b: number, tol: number, what: string) {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test("explain(): the terms add up to the feature's pre-activation (LayerNorm frozen), also with a skip transcoder and an untraced MLP", async () => {
  await ready();
  const m = model();
  const tcs = { 0: randomTranscoder(1, 12, true), 2: randomTranscoder(2, 10) };
  const circuit = await transcoderCircuit(m, tcs, DOCS, { prependBos: false });
  const z2 = circuit.activations.features.get(2)!;
  let checked = 0;
  for (const [document, position] of [[0, 0], [0, 6], [1, 3], [2, 5]]) {
    for (const feature of [0, 3, 7]) {
      const c = await circuit.explain({ layer: 2, feature }, { document, position });
      close(c.total, c.preActivation, 1e-4, `sum of terms, L2 F${feature} @${document}:${position}`);
      // The same token's activation from the circuit's own forward pass: ReLU(pre).
      const row = DOCS.slice(0, document).reduce((s, d) => s + d.length, 0) + position;
      close(z2[row * 10 + feature], Math.max(0, c.preActivation), 1e-4, "ReLU(pre) = z");
      const kinds = new Set(c.rows.map((r) => r.kind));
      for (const k of ["embedding", "attention head", "attention bias", "transcoder feature", "transcoder bias", "transcoder skip", "transcoder error", "MLP", "constant"]) assert.ok(kinds.has(k as any), `${k} present`);
      assert.equal(c.rows.filter((r) => r.kind === "attention head").length, 3 * 2, "heads of layers 0..2");
      assert.ok(c.rows.some((r) => r.component === "L1 MLP"), "layer 1 has no transcoder: its MLP is one term");
      checked++;
    }
  }
  assert.equal(checked, 12);
});

/** Per-token contributions by definition, then their means — the brute-force edge values. */
function bruteForceEdges(circuit: Awaited<ReturnType<typeof transcoderCircuit>>, up: Dictionary, down: Dictionary, upLayer: number, downLayer: number, scale: (row: number) => number, vw: (i: number, j: number) => number) {
  const a = circuit.activations, N = a.rows;
  const zu = a.features.get(upLayer)!, zd = a.features.get(downLayer)!;
  const out = new Map<string, { whenActive: number; mean: number }>();
  for (let j = 0; j < down.width; j++) {
    let fires = 0;
    for (let r = 0; r < N; r++) if (zd[r * down.width + j] > 0) fires++;
    if (fires === 0) continue;
    for (let i = 0; i < up.width; i++) {
      let sumActive = 0, sumAll = 0;
      for (let r = 0; r < N; r++) {
        const c = zu[r * up.width + i] * scale(r) * vw(i, j);
        sumAll += c;
        if (zd[r * down.width + j] > 0) sumActive += c;
      }
      out.set(`${i}>${j}`, { whenActive: sumActive / fires, mean: sumAll / N });
    }
  }
  return out;
}

test("raw edges are z_i'·(d_dec^(l,i')·w_enc^(l',i)) averaged by definition; the strongest per target are kept", async () => {
  await ready();
  const m = model();
  const up = randomTranscoder(3, 6), down = randomTranscoder(4, 5);
  const circuit = await transcoderCircuit(m, { 0: up, 1: down }, DOCS, { prependBos: false, edgesPerTarget: 6 });
  const dec = up.weights.W_dec.arraySync() as number[][], enc = down.weights.W_enc.arraySync() as number[][];
  const vw = (i: number, j: number) => dec[i].reduce((s, v, k) => s + v * enc[k][j], 0);
  const want = bruteForceEdges(circuit, up, down, 0, 1, () => 1, vw);
  const nonzero = [...want.values()].filter((v) => v.whenActive !== 0).length;
  assert.equal(circuit.edges.length, nonzero, "every pair kept when edgesPerTarget ≥ width");
  for (const e of circuit.edges) {
    const w = want.get(`${e.source}>${e.target}`)!;
    close(e.meanWhenActive, w.whenActive, 1e-4, "meanWhenActive");
    close(e.mean, w.mean, 1e-4, "mean");
    close(e.virtualWeight, vw(e.source, e.target), 1e-5, "virtual weight");
  }
  // Sorted by |meanWhenActive|; with 2 per target, each target keeps its 2 strongest.
  for (let k = 1; k < circuit.edges.length; k++) assert.ok(Math.abs(circuit.edges[k - 1].meanWhenActive) >= Math.abs(circuit.edges[k].meanWhenActive));
  const two = await transcoderCircuit(m, { 0: up, 1: down }, DOCS, { prependBos: false, edgesPerTarget: 2 });
  const byTarget = new Map<number, CircuitEdge[]>();
  for (const e of circuit.edges) byTarget.set(e.target, [...(byTarget.get(e.target) ?? []), e]);
  for (const [target, all] of byTarget) {
    const kept = two.into({ layer: 1, feature: target }).map((e) => e.source).sort();
    assert.deepEqual(kept, all.slice(0, 2).map((e) => e.source).sort(), `target ${target}`);
  }
});

test("frozen-LayerNorm edges agree with explain()'s per-token terms (two independent computations)", async () => {
  await ready();
  const m = model();
  const up = randomTranscoder(5, 6), down = randomTranscoder(6, 5);
  const circuit = await transcoderCircuit(m, { 0: up, 2: down }, DOCS, { prependBos: false, layerNorm: "frozen", edgesPerTarget: 6 });
  const a = circuit.activations;
  const zd = a.features.get(2)!;
  const target = circuit.edges[0].target;
  const sums = new Map<number, number>();
  let fires = 0;
  for (let r = 0; r < a.rows; r++) {
    if (zd[r * down.width + target] <= 0) continue;
    fires++;
    const c = await circuit.explain({ layer: 2, feature: target }, { document: a.document[r], position: a.position[r] });
    for (const row of c.rows) if (row.kind === "transcoder feature") sums.set(row.index!, (sums.get(row.index!) ?? 0) + row.contribution);
  }
  assert.ok(fires > 0);
  const edges = circuit.into({ layer: 2, feature: target });
  assert.ok(edges.length > 0);
  for (const e of edges) close(e.meanWhenActive, (sums.get(e.source) ?? 0) / fires, 1e-4, `edge ${e.source}→${target}`);
  assert.equal(edges[0].targetFires, fires);
});

test("share is the edge's mean over the target's mean activation; features carry their frequency and top tokens", async () => {
  await ready();
  const m = model();
  const up = randomTranscoder(7, 6), down = randomTranscoder(8, 4);
  const circuit = await transcoderCircuit(m, { 0: up, 1: down }, DOCS, { prependBos: false });
  const zd = circuit.activations.features.get(1)!;
  for (const e of circuit.edges) {
    let fires = 0, sum = 0, max = 0, best = -1;
    for (let r = 0; r < circuit.tokens; r++) {
      const v = zd[r * 4 + e.target];
      if (v > 0) (fires++, (sum += v));
      if (v > max) (max = v), (best = r);
    }
    close(e.share * (sum / fires), e.meanWhenActive, 1e-5, "share × mean activation");
    const f = circuit.feature({ layer: 1, feature: e.target })!;
    close(f.frequency, fires / circuit.tokens, 1e-12, "frequency");
    close(f.maxActivation, max, 1e-6, "max");
    assert.equal(f.topTokens[0], String(circuit.activations.tokenIds[best]), "strongest token first");
  }
});

test("bad input: clear errors naming the layer, architecture, shape or position", async () => {
  await ready();
  const m = model();
  const tc = randomTranscoder(1, 4);
  await assert.rejects(() => transcoderCircuit(m, { 0: identityDictionary(D) }, DOCS), /layer 0 has architecture 'relu'.*"transcoder"/);
  await assert.rejects(() => transcoderCircuit(m, { 5: tc }, DOCS), /layer 5.*out of range 0\.\.2/);
  await assert.rejects(() => transcoderCircuit(m, {}, DOCS), /no transcoders/);
  const wide = new Dictionary(architecture("transcoder"), { architecture: "transcoder", d_in: 4, d_sae: 3, d_out: 4 }, { W_enc: tf.zeros([4, 3]), W_dec: tf.zeros([3, 4]), b_enc: tf.zeros([3]), b_dec: tf.zeros([4]), b_dec_out: tf.zeros([4]) });
  await assert.rejects(() => transcoderCircuit(m, { 1: wide }, DOCS), /maps 4 → 4, but .* d_model 8/);
  await assert.rejects(() => transcoderCircuit({} as any, { 0: tc }, DOCS), /need a fl Transformer/);
  await assert.rejects(() => transcoderCircuit(m, { 0: tc }, DOCS, { layerNorm: "exact" as any }), /"raw" or "frozen"/);
  const circuit = await transcoderCircuit(m, { 0: tc, 1: randomTranscoder(2, 4) }, DOCS, { prependBos: false });
  await assert.rejects(() => circuit.explain({ layer: 2, feature: 0 }, { document: 0, position: 0 }), /no transcoder at layer 2; traced layers: 0, 1/);
  await assert.rejects(() => circuit.explain({ layer: 1, feature: 9 }, { document: 0, position: 0 }), /feature 9 out of range 0\.\.3/);
  await assert.rejects(() => circuit.explain({ layer: 1, feature: 0 }, { document: 1, position: 5 }), /position 5 out of range 0\.\.4 in document 1/);
  await assert.rejects(() => circuit.explain({ layer: 1, feature: 0 }, { document: 7, position: 0 }), /document 7 out of range/);
});
