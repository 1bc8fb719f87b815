import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { ablate, AblationSweep } from "../../src/ablation/sweep.js";
import { ablateUnits, splice } from "../../src/ablation/edits.js";
import type { Hooks } from "../../src/models/hook-points.js";
import { identityDictionary, logSoftmax } from "./fixtures.js";

const DOCS = [
  [1, 4, 2, 7, 3, 5, 9],
  [6, 2, 2, 8, 1],
  [3, 3, 9, 4, 4, 2, 8],
  [5, 0, 1, 1, 7, 6],
];

/** A 2-layer model whose head L0H0 writes nothing (its rows of W_O are zero). */
function constructedModel(): Transformer {
  const m = Transformer.init({ d_model: 12, n_layers: 2, n_heads: 3, d_vocab: 10, n_ctx: 8 }, { seed: 21 });
  const params = { ...m.params };
  // Larger weights than the init so every other head matters; rows 0..3 of layer 0's W_O belong to head 0.
  for (const k of Object.keys(params)) if (!k.includes("ln_")) params[k] = tf.mul(params[k], 8);
  const mask = tf.concat([tf.zeros([4, 12]), tf.ones([8, 12])]);
  params["h.0.attn.c_proj.weight"] = tf.mul(params["h.0.attn.c_proj.weight"], mask);
  return new Transformer(m.cfg, params);
}

/** Per-cell next-token CE, KL(clean‖x) and logit difference by hand from logits arrays. */
function cells(logits: number[][][], clean: number[][][], docs: number[][], tokens = { correct: 1, wrong: 2 }) {
  const out: { doc: number; t: number; ce?: number; kl: number; ld: number }[] = [];
  docs.forEach((doc, b) => {
    for (let t = 0; t < doc.length; t++) {
      const lp = logSoftmax(logits[b][t]), lc = logSoftmax(clean[b][t]);
      const kl = lc.reduce((s, v, i) => s + Math.exp(v) * (v - lp[i]), 0);
      out.push({ doc: b, t, ce: t + 1 < doc.length ? -lp[doc[t + 1]] : undefined, kl, ld: logits[b][t][tokens.correct] - logits[b][t][tokens.wrong] });
    }
  });
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("ablate(model, 'heads') gives the tidy table, with deltas equal to hand-computed ones", async () => {
  await ready();
  const model = constructedModel();
  const sweep = await ablate(model, "heads", { input: DOCS, batchSize: 3 });
  assert.ok(sweep instanceof AblationSweep);
  assert.deepEqual(sweep.units.map((u) => u.label), ["L0H0", "L0H1", "L0H2", "L1H0", "L1H1", "L1H2"]);
  assert.equal(sweep.rows.length, 12);
  assert.deepEqual(Object.keys(sweep.rows[0]), ["unit", "hook", "index", "metric", "clean", "ablated", "delta"]);

  const clean = (await model.run(DOCS)).logits!;
  const cleanArr = clean.arraySync() as number[][][];
  const cleanCells = cells(cleanArr, cleanArr, DOCS);
  for (const u of sweep.units) {
    const hooks: Hooks = { [u.hook]: ablateUnits({ units: [u.index] }) };
    const abl = (await model.run(DOCS, { hooks })).logits!;
    const c = cells(abl.arraySync() as number[][][], cleanArr, DOCS);
    abl.dispose();
    const ce = sweep.rows.find((r) => r.unit === u.label && r.metric === "ce")!;
    const kl = sweep.rows.find((r) => r.unit === u.label && r.metric === "kl")!;
    const wantCe = mean(c.filter((x) => x.ce !== undefined).map((x) => x.ce!));
    const wantClean = mean(cleanCells.filter((x) => x.ce !== undefined).map((x) => x.ce!));
    assert.ok(Math.abs(ce.clean - wantClean) < 1e-5);
    assert.ok(Math.abs(ce.ablated - wantCe) < 1e-5, `${u.label}: ${ce.ablated} vs ${wantCe}`);
    assert.ok(Math.abs(ce.delta - (wantCe - wantClean)) < 1e-5);
    assert.ok(Math.abs(kl.ablated - mean(c.map((x) => x.kl))) < 1e-5);
    assert.equal(kl.clean, 0);
    // Per position: the mean over documents that have that position.
    const heat = sweep.byPosition.ce[sweep.units.indexOf(u)];
    for (let t = 0; t < 7; t++) {
      const here = c.filter((x) => x.t === t && x.ce !== undefined).map((x, i) => x.ce! - cleanCells.filter((y) => y.t === t && y.ce !== undefined)[i].ce!);
      if (here.length === 0) assert.ok(Number.isNaN(heat[t]));
      else assert.ok(Math.abs(heat[t] - mean(here)) < 1e-5, `${u.label} position ${t}`);
    }
  }
  // The head that writes nothing costs nothing; the others cost something.
  const l0h0 = sweep.rows.filter((r) => r.unit === "L0H0");
  for (const r of l0h0) assert.ok(Math.abs(r.delta) < 1e-6, `${r.metric} delta ${r.delta}`);
  assert.ok(sweep.rows.filter((r) => r.unit !== "L0H0" && r.metric === "kl").every((r) => r.delta > 1e-4));
  assert.equal(sweep.top(1, "kl")[0].label, sweep.ranked("kl")[0].unit);
  assert.equal(sweep.table().numRows(), 12);
  clean.dispose();
  model.dispose();
});

test("logit difference at the last position, a position mask, and neuron units", async () => {
  await ready();
  const model = constructedModel();
  const sweep = await ablate(model, "blocks.1.mlp.hook_post", { input: DOCS, units: [3, 40], logitDiff: { correct: 1, wrong: 2 }, metric: ["logit_diff"] });
  assert.deepEqual(sweep.units.map((u) => u.label), ["L1N3", "L1N40"]);
  const clean = (await model.run(DOCS)).logits!.arraySync() as number[][][];
  const last = (c: ReturnType<typeof cells>) => mean(c.filter((x) => x.t === DOCS[x.doc].length - 1).map((x) => x.ld));
  for (const u of sweep.units) {
    const abl = (await model.run(DOCS, { hooks: { [u.hook]: ablateUnits({ units: [u.index] }) } })).logits!.arraySync() as number[][][];
    const r = sweep.rows.find((x) => x.unit === u.label)!;
    assert.ok(Math.abs(r.clean - last(cells(clean, clean, DOCS))) < 1e-5);
    assert.ok(Math.abs(r.ablated - last(cells(abl, clean, DOCS))) < 1e-5);
  }
  // Only positions 2 and 3 count.
  const masked = await ablate(model, "blocks.0.attn.hook_z", { input: DOCS, units: [1], metric: "ce", positions: [2, 3] });
  const abl = (await model.run(DOCS, { hooks: { "blocks.0.attn.hook_z": ablateUnits({ units: [1] }) } })).logits!.arraySync() as number[][][];
  const want = mean(cells(abl, clean, DOCS).filter((x) => (x.t === 2 || x.t === 3) && x.ce !== undefined).map((x) => x.ce!));
  assert.ok(Math.abs(masked.rows[0].ablated - want) < 1e-5);
  await assert.rejects(ablate(model, "heads", { input: DOCS, metric: "logit_diff" }), /needs \{ logitDiff: \{ correct, wrong \} \}/);
  await assert.rejects(ablate(model, "heads", { input: DOCS, metric: "acc" as any }), /unknown metric 'acc'/);
  await assert.rejects(ablate(model, "blocks.9.attn.hook_z", { input: DOCS }), /no hook point 'blocks\.9\.attn\.hook_z'/);
  model.dispose();
});

test("dictionary features: zero and mean ablation with the error term kept match hand-made splices", async () => {
  await ready();
  const model = constructedModel();
  const hook = "blocks.0.hook_resid_post";
  const dict = identityDictionary(12);
  const clean = (await model.run(DOCS)).logits!.arraySync() as number[][][];
  const ceOf = (l: number[][][]) => mean(cells(l, clean, DOCS).filter((x) => x.ce !== undefined).map((x) => x.ce!));
  // Feature means over every valid token, by hand.
  const acts = (await model.run(DOCS, { cache: [hook] })).cache.get(hook);
  const f = dict.encodeTensor(acts.toTensor());
  const featureMeans = tf.mean(f, 0).dataSync();
  for (const mode of ["zero", "mean"] as const) {
    const sweep = await ablate(model, dict, { input: DOCS, hook, units: [0, 5, 13], mode, metric: "ce", batchSize: 2 });
    assert.deepEqual(sweep.units.map((u) => u.label), ["f0", "f5", "f13"]);
    for (const u of sweep.units) {
      const abl = (await model.run(DOCS, { hooks: { [hook]: splice(dict, { keepError: true, features: [u.index], mode, mean: featureMeans }) } })).logits!.arraySync() as number[][][];
      const row = sweep.rows.find((r) => r.unit === u.label)!;
      assert.ok(Math.abs(row.ablated - ceOf(abl)) < 1e-5, `${mode} ${u.label}: ${row.ablated} vs ${ceOf(abl)}`);
    }
  }
  const byName = await ablate(model, dict, { input: DOCS, hook, features: [5], metric: "ce" });
  assert.deepEqual(byName.units.map((u) => u.label), ["f5"]);
  await assert.rejects(ablate(model, dict, { input: DOCS }), /needs \{ hook \}/);
  await assert.rejects(ablate(model, dict, { input: DOCS, hook, units: [24] }), /feature 24 out of range 0\.\.23/);
  f.dispose();
  model.dispose();
});
