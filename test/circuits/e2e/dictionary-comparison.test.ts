import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { Transformer } from "../../../src/models/transformer.js";
import { architecture } from "../../../src/dictionaries/registry.js";
import { Dictionary } from "../../../src/dictionaries/dictionary.js";
import { spliceEval } from "../../../src/ablation/splice-eval.js";
import { compareDictionaries, DictionaryComparison, type ComparisonRow } from "../../../src/circuits/e2e/dictionary-comparison.js";
import { identityDictionary } from "../../ablation/fixtures.js";

const D = 8;
const DOCS = [
  [0, 4, 2, 7, 3, 5, 9],
  [0, 2, 2, 8, 1],
  [0, 3, 9, 4, 4, 2, 8],
];

function randomDictionary(seed: number, width: number, loss?: string): Dictionary {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * s), shape);
  const params = { W_enc: t([D, width], 1), b_enc: t([width], 0.2), W_dec: t([width, D], 0.3), b_dec: t([D], 0.1) };
  return new Dictionary(architecture("relu"), { architecture: "relu", d_in: D, d_sae: width, l1_coefficient: seed, ...(loss ? { training: { loss } } : {}) }, params);
}

test("each row holds spliceEval's numbers, alive counts features firing on the counted positions, methods come from the training loss", async () => {
  await ready();
  const model = Transformer.init({ d_model: D, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 5 });
  const hook = "blocks.0.hook_resid_post";
  const dicts = { a: randomDictionary(1, 24, "e2e"), b: randomDictionary(2, 24, "local"), exact: identityDictionary(D) };
  const cmp = await compareDictionaries(model, dicts, { hook, input: DOCS });
  assert.deepEqual(cmp.rows.map((r) => r.method), ["e2e", "local", "relu"]);
  assert.deepEqual(cmp.methods, ["e2e", "local", "relu"]);
  const { cache } = await model.run(DOCS, { cache: [hook], logits: false });
  const acts = cache.get(hook);
  const pos = acts.column("position") as ArrayLike<number>;
  for (const [i, [name, d]] of Object.entries(dicts).entries()) {
    const row = cmp.rows[i];
    assert.equal(row.name, name);
    const ev = await spliceEval(model, d, { hook, input: DOCS, ignorePositions: [] });
    assert.equal(row.ceDelta, ev.ceDelta);
    assert.equal(row.l2Ratio, ev.l2Ratio);
    assert.equal(row.kl, ev.klSpliced);
    assert.equal(row.l0, ev.l0);
    const f = d.encodeTensor(acts.toTensor()).arraySync();
    let alive = 0;
    for (let j = 0; j < d.width; j++) if (f.some((r) => r[j] > 0)) alive++;
    assert.equal(row.alive, alive, `${name}: alive`);
  }
  // The exact dictionary changes nothing.
  assert.ok(Math.abs(cmp.rows[2].ceDelta) < 1e-5 && Math.abs(cmp.rows[2].l2Ratio - 1) < 1e-5);
  assert.equal(cmp.tokens, DOCS.reduce((s, d) => s + d.length, 0));
  assert.equal(cmp.table().numRows(), 3);
  // SAELens' convention: BOS left alone and not counted, alive features counted without it.
  const noBos = await compareDictionaries(model, { a: dicts.a }, { hook, input: DOCS, ignorePositions: [0] });
  const ev0 = await spliceEval(model, dicts.a, { hook, input: DOCS });
  assert.equal(noBos.rows[0].ceDelta, ev0.ceDelta);
  assert.equal(noBos.tokens, DOCS.reduce((s, d) => s + d.length - 1, 0));
  const f0 = dicts.a.encodeTensor(acts.toTensor()).arraySync();
  let alive0 = 0;
  for (let j = 0; j < dicts.a.width; j++) if (f0.some((r, k) => pos[k] !== 0 && r[j] > 0)) alive0++;
  assert.equal(noBos.rows[0].alive, alive0);
});

function row(method: string, l0: number, ceDelta: number, l1: number): ComparisonRow {
  return { name: `${method} λ${l1}`, method, l1, width: 64, l0, alive: 10 * l0, ceDelta, ceClean: 1, ceSpliced: 1 + ceDelta, ceScore: 0.9, kl: ceDelta / 2, l2Ratio: 1 / l0 };
}

test("atL0 interpolates each method linearly in log L0 between the runs around the target", () => {
  const cmp = new DictionaryComparison("h", [row("local", 10, 1, 3), row("local", 40, 0.5, 1), row("e2e", 5, 2, 9), row("e2e", 20, 0.2, 4), row("e2e", 80, 0.1, 1)], 100);
  assert.deepEqual(cmp.commonL0Range(), [10, 40]);
  const at20 = cmp.atL0(20);
  assert.equal(at20.length, 2);
  const [local, e2e] = at20;
  // log 20 is halfway between log 10 and log 40.
  assert.ok(Math.abs(local.ceDelta - 0.75) < 1e-12);
  assert.ok(Math.abs(local.alive - 250) < 1e-9);
  assert.deepEqual([local.l1Low, local.l1High], [3, 1]);
  // e2e has a run at exactly 20.
  assert.equal(e2e.ceDelta, 0.2);
  assert.deepEqual([e2e.l1Low, e2e.l1High], [4, 4]);
  // Default target: the geometric middle of the common range, √(10·40) = 20.
  assert.ok(Math.abs(cmp.atL0()[0].l0 - 20) < 1e-9);
  assert.throws(() => cmp.atL0(90), /the local runs span L0 10\.00–40\.00/);
  assert.throws(() => new DictionaryComparison("h", [row("a", 1, 1, 1), row("b", 5, 1, 1)], 1).atL0(), /L0 ranges do not overlap/);
});

test("bad input is refused", async () => {
  await ready();
  const model = Transformer.init({ d_model: D, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 5 });
  await assert.rejects(compareDictionaries(model, {}, { hook: "blocks.0.hook_resid_post", input: DOCS }), /at least one dictionary/);
  await assert.rejects(compareDictionaries(model, [identityDictionary(D)], { hook: "blocks.5.hook_resid_post", input: DOCS }), /has no hook point/);
  await assert.rejects(compareDictionaries(model, [identityDictionary(D)], { input: DOCS } as never), /needs \{ hook \}/);
  await assert.rejects(compareDictionaries(model, [identityDictionary(4)], { hook: "blocks.0.hook_resid_post", input: DOCS }), /reads vectors of dim 4/);
});
