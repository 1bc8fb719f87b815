import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { ablateUnits, scale, splice, steer } from "../../src/ablation/edits.js";
import { identityDictionary, maxAbsDiff } from "./fixtures.js";

const DOCS = [
  [1, 4, 2, 7, 3, 5],
  [6, 2, 2, 8, 1, 0],
  [3, 3, 9, 4, 4, 2],
];

test("zero-ablating a head changes exactly that head's z, and attn_out by −z_h·W_O[h]", async () => {
  await ready();
  const model = Transformer.init({ d_model: 12, n_layers: 2, n_heads: 3, d_vocab: 10, n_ctx: 8 }, { seed: 11 });
  const names = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_z", "blocks.1.hook_attn_out"];
  const clean = await model.run(DOCS, { cache: names });
  const abl = await model.run(DOCS, { cache: names, hooks: { "blocks.1.attn.hook_z": ablateUnits({ units: [1] }) } });
  // Upstream of the hook nothing moves.
  assert.equal(maxAbsDiff(clean.cache.get(names[0]).vectors, abl.cache.get(names[0]).vectors), 0);
  // hook_z: head 1 is zero, heads 0 and 2 untouched.
  const zc = clean.cache.tensor(names[1]).arraySync() as number[][][][];
  const za = abl.cache.tensor(names[1]).arraySync() as number[][][][];
  zc.forEach((doc, b) =>
    doc.forEach((pos, t) => {
      assert.ok(za[b][t][1].every((v) => v === 0));
      assert.deepEqual(za[b][t][0], pos[0]);
      assert.deepEqual(za[b][t][2], pos[2]);
    }),
  );
  // attn_out drops by exactly head 1's contribution z_1 · W_O[rows 4..8].
  const WO = model.params["h.1.attn.c_proj.weight"];
  const contribution = tf.matMul(tf.reshape(tf.slice(clean.cache.tensor(names[1]), [0, 0, 1, 0], [3, 6, 1, 4]), [18, 4]), tf.slice(WO, [4, 0], [4, 12]));
  const drop = tf.sub(clean.cache.tensor(names[2]), abl.cache.tensor(names[2]));
  assert.ok(maxAbsDiff(tf.reshape(drop, [18, 12]).dataSync(), contribution.dataSync()) < 1e-5);
  tf.dispose([clean.logits!, abl.logits!, contribution, drop]);
  model.dispose();
});

test("mean and resample ablation replace a neuron by its batch mean / another document's value", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8, d_mlp: 16 }, { seed: 12 });
  const hook = "blocks.0.mlp.hook_post";
  const docs = [[1, 2, 3, 4], [5, 6], [7, 8, 9]]; // padded: means must skip the padding
  const clean = (await model.run(docs, { cache: [hook] })).cache.get(hook);
  const col = (s: typeof clean, j: number) => Array.from({ length: s.numRows }, (_, r) => s.row(r)[j]);
  const mean = col(clean, 5).reduce((a, b) => a + b, 0) / clean.numRows;
  const meanAbl = (await model.run(docs, { cache: [hook], hooks: { [hook]: ablateUnits({ units: [5], mode: "mean" }) } })).cache.get(hook);
  for (const v of col(meanAbl, 5)) assert.ok(Math.abs(v - mean) < 1e-6);
  assert.deepEqual(col(meanAbl, 4), col(clean, 4));

  const two = [[1, 2, 3], [4, 5, 6]];
  const c2 = (await model.run(two, { cache: [hook] })).cache.get(hook);
  const r2 = (await model.run(two, { cache: [hook], hooks: { [hook]: ablateUnits({ units: [5], mode: "resample", seed: 3 }) } })).cache.get(hook);
  // With two documents the only derangement swaps them.
  assert.deepEqual(col(r2, 5), [...col(c2, 5).slice(3), ...col(c2, 5).slice(0, 3)]);
  await assert.rejects(model.run([[1, 2]], { hooks: { [hook]: ablateUnits({ units: [5], mode: "resample" }) } }), /at least 2 documents per batch/);
  await assert.rejects(model.run([[1, 2]], { hooks: { [hook]: ablateUnits({ units: [16] }) } }), /unit 16 out of range 0\.\.15 on axis 2 of blocks\.0\.mlp\.hook_post/);
  model.dispose();
});

test("splicing an exact dictionary, or any dictionary with its error term kept, leaves the logits unchanged", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 13 });
  const hook = "blocks.0.hook_resid_post";
  const base = (await model.run(DOCS)).logits!;
  const exact = identityDictionary(8);
  const spliced = (await model.run(DOCS, { hooks: { [hook]: splice(exact) } })).logits!;
  assert.ok(maxAbsDiff(base.dataSync(), spliced.dataSync()) < 1e-5);
  const lossy = identityDictionary(8, { dropDims: [0, 3, 5] });
  const withError = (await model.run(DOCS, { hooks: { [hook]: splice(lossy, { keepError: true }) } })).logits!;
  const without = (await model.run(DOCS, { hooks: { [hook]: splice(lossy) } })).logits!;
  assert.ok(maxAbsDiff(base.dataSync(), withError.dataSync()) < 1e-5);
  assert.ok(maxAbsDiff(base.dataSync(), without.dataSync()) > 1e-3, "a lossy splice without its error term changes the output");
  tf.dispose([base, spliced, withError, without]);
  model.dispose();
});

test("hook_z dictionaries read heads concatenated; splicing features ablated subtracts their decoder rows", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 14 });
  const hook = "blocks.0.attn.hook_z";
  const dict = identityDictionary(8); // features 0..7 = +dims, 8..15 = −dims
  const clean = (await model.run(DOCS, { cache: [hook] })).cache.tensor(hook);
  const edited = (await model.run(DOCS, { cache: [hook], hooks: { [hook]: splice(dict, { features: [2], keepError: true }) } })).cache.tensor(hook);
  // Feature 2 = relu(z[:, :, head 0, dim 2]): removing it zeroes the positive part of that entry.
  const c = clean.arraySync() as number[][][][], e = edited.arraySync() as number[][][][];
  c.forEach((doc, b) =>
    doc.forEach((pos, t) => {
      assert.ok(Math.abs(e[b][t][0][2] - Math.min(0, pos[0][2])) < 1e-6);
      assert.ok(maxAbsDiff(e[b][t][1], pos[1]) < 1e-6);
    }),
  );
  tf.dispose([clean, edited]);
  model.dispose();
});

test("steering adds scale·direction at the chosen positions; scale multiplies units", async () => {
  await ready();
  const model = Transformer.init({ d_model: 4, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 15 });
  const hook = "blocks.0.hook_resid_pre";
  const clean = (await model.run([[1, 2, 3]], { cache: [hook] })).cache.get(hook);
  const steered = (await model.run([[1, 2, 3]], { cache: [hook], hooks: { [hook]: steer([1, 0, -1, 2], { scale: 0.5, positions: [1, 2] }) } })).cache.get(hook);
  assert.ok(maxAbsDiff(steered.row(0), clean.row(0)) < 1e-7);
  for (const r of [1, 2]) assert.ok(maxAbsDiff(steered.row(r), Array.from(clean.row(r), (v, j) => v + 0.5 * [1, 0, -1, 2][j])) < 1e-6);
  const scaled = (await model.run([[1, 2, 3]], { cache: [hook], hooks: { [hook]: scale(3, { units: [1] }) } })).cache.get(hook);
  assert.ok(maxAbsDiff(scaled.row(2), Array.from(clean.row(2), (v, j) => (j === 1 ? 3 * v : v))) < 1e-6);
  await assert.rejects(model.run([[1]], { hooks: { [hook]: steer([1, 2]) } }), /steering direction has 2 values; 'blocks\.0\.hook_resid_pre' \[1,1,4\] needs 4/);
  model.dispose();
});

test("mean-ablating a feature inside a splice uses the batch mean over valid positions, not padding", async () => {
  await ready();
  const model = Transformer.init({ d_model: 4, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 16 });
  const hook = "blocks.0.hook_resid_post";
  const dict = identityDictionary(4);
  const docs = [[1, 2, 3, 4, 5], [6, 7]]; // the second is padded with 3 positions
  const acts = (await model.run(docs, { cache: [hook] })).cache.get(hook);
  const mean = Array.from({ length: acts.numRows }, (_, r) => Math.max(0, acts.row(r)[1])).reduce((a, b) => a + b, 0) / acts.numRows;
  const edited = (await model.run(docs, { cache: [hook], hooks: { [hook]: splice(dict, { features: [1], mode: "mean" }) } })).cache.get(hook);
  // dim 1 becomes mean(relu(x1)) − relu(−x1): feature 1 replaced by its mean, feature 5 (−x1) kept.
  for (let r = 0; r < acts.numRows; r++) assert.ok(Math.abs(edited.row(r)[1] - (mean - Math.max(0, -acts.row(r)[1]))) < 1e-5);
  model.dispose();
});
