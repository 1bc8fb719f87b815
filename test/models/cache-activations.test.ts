// model.cacheActivations: shards per hook whose rows are the activations model.run gives for the same
// windows, with document / position / token columns; BOS rows left out unless asked; an interrupted run
// resumes to the same files an uninterrupted one writes; a mismatched resume or a foreign folder is
// refused by name; fl.open streams the shards into fit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as fl from "../../src/index.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-cache-acts-");
const HOOKS = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_z"];
// Documents of 3 to 14 tokens: with contextSize 6, the long ones are cut into windows.
const DOCS = Array.from({ length: 9 }, (_, d) => Array.from({ length: 3 + ((d * 5) % 12) }, (_, i) => (d * 7 + i * 3) % 20));
const quiet = { progress: false } as const;

function model(): fl.Transformer {
  return fl.Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 20, n_ctx: 8 }, { seed: 3, name: "tiny" });
}

test("rows are model.run's activations for each window, with the document's positions and tokens; shards split at shardRows", async () => {
  await fl.ready();
  const m = model();
  const r = await m.cacheActivations(DOCS, { hooks: HOOKS, out: join(dir, "plain"), contextSize: 6, shardRows: 20, batchSize: 4, ...quiet });
  const tokens = DOCS.reduce((s, d) => s + d.length, 0);
  assert.equal(r.rows, tokens);
  assert.equal(r.tokens, tokens);
  assert.equal(r.documents, DOCS.length);
  assert.ok(r.shards >= 3 && r.tokensPerSecond > 0);
  assert.deepEqual(readdirSync(r.folders[HOOKS[0]]).sort(), readdirSync(r.folders[HOOKS[1]]).sort());
  for (const hook of HOOKS) {
    const set = await fl.load(r.folders[hook]);
    assert.equal(set.numRows, tokens);
    const doc = Array.from(set.column("document") as ArrayLike<number>);
    const pos = Array.from(set.column("position") as ArrayLike<number>);
    const tok = Array.from(set.column("token") as ArrayLike<number>);
    let row = 0;
    for (let d = 0; d < DOCS.length; d++) {
      for (let start = 0; start < DOCS[d].length; start += 6) {
        const window = DOCS[d].slice(start, start + 6);
        const expected = (await m.run([window], { cache: [hook], logits: false })).cache.get(hook);
        assert.equal(expected.dim, set.dim);
        for (let p = 0; p < window.length; p++, row++) {
          assert.deepEqual([doc[row], pos[row], tok[row]], [d, start + p, DOCS[d][start + p]]);
          const got = set.vectors.subarray(row * set.dim, (row + 1) * set.dim);
          const want = expected.vectors.subarray(p * set.dim, (p + 1) * set.dim);
          for (let i = 0; i < set.dim; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `${hook} row ${row}`);
        }
      }
    }
  }
  // fl.open streams the shards into training.
  const sae = await fl.dictionary("topk", { width: 16, k: 2 }).fit(await fl.open(r.folders[HOOKS[0]]), { steps: 5, batchSize: 16, ...quiet });
  assert.equal(sae.dIn, 8);
  m.dispose();
});

test("texts: a BOS before each window, its rows left out (or kept at position −1)", async () => {
  await fl.ready();
  const base = model();
  const words = ["<bos>", ...Array.from({ length: 19 }, (_, i) => `w${i}`)];
  const m = new fl.Transformer(base.cfg, base.params, { tokenizer: new fl.WordLevelTokenizer(words, { bos: "<bos>" }), name: "tiny-text" });
  const texts = ["w1 w2 w3", "w4 w5 w6 w7 w8 w9 w10 w11 w12"];
  const r = await m.cacheActivations(texts, { hooks: [HOOKS[0]], out: join(dir, "texts"), contextSize: 6, ...quiet });
  const set = await fl.load(r.folders[HOOKS[0]]);
  assert.deepEqual(Array.from(set.column("position") as ArrayLike<number>), [0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(set.column("token") as ArrayLike<number>), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  assert.equal(r.tokens, 12 + 3); // three windows, each with its BOS
  // The second window of text 2 starts with BOS too: its first row equals a run of [BOS, w9 …].
  const want = (await m.run([[0, 10, 11, 12, 13]], { cache: [HOOKS[0]], logits: false })).cache.get(HOOKS[0]);
  assert.ok(Math.abs(set.vectors[8 * 8] - want.vectors[1 * 8]) < 1e-5);
  const kept = await m.cacheActivations(texts, { hooks: [HOOKS[0]], out: join(dir, "texts-bos"), contextSize: 6, keepBos: true, ...quiet });
  const withBos = await fl.load(kept.folders[HOOKS[0]]);
  assert.deepEqual(Array.from(withBos.column("position") as ArrayLike<number>), [-1, 0, 1, 2, -1, 0, 1, 2, 3, 4, -1, 5, 6, 7, 8]);
  await assert.rejects(base.cacheActivations(texts, { hooks: [HOOKS[0]], out: join(dir, "no-tokenizer"), ...quiet }), /tiny has no tokenizer, so its input must be token ids; document 0 is text/);
  base.dispose();
});

test("an interrupted run resumes after its last shard and ends with the files an uninterrupted run writes", async () => {
  await fl.ready();
  const m = model();
  const opts = { hooks: HOOKS, contextSize: 6, shardRows: 12, batchSize: 2, ...quiet };
  const whole = await m.cacheActivations(DOCS, { ...opts, out: join(dir, "whole") });
  async function* failingAfter(n: number) {
    for (let i = 0; i < DOCS.length; i++) {
      if (i === n) throw new Error("connection lost");
      yield DOCS[i];
    }
  }
  await assert.rejects(m.cacheActivations(failingAfter(6), { ...opts, out: join(dir, "resumed") }), /connection lost/);
  const manifest = JSON.parse(readFileSync(join(dir, "resumed", "featurelab-cache.json"), "utf8"));
  assert.ok(manifest.documents > 0 && manifest.documents < 6, `documents done: ${manifest.documents}`);
  const resumed = await m.cacheActivations(DOCS, { ...opts, out: join(dir, "resumed") });
  assert.equal(resumed.resumedFrom, manifest.documents);
  assert.equal(resumed.rows, whole.rows);
  for (const hook of HOOKS) {
    const a = await fl.load(whole.folders[hook]);
    const b = await fl.load(resumed.folders[hook]);
    assert.deepEqual(Array.from(b.column("document") as ArrayLike<number>), Array.from(a.column("document") as ArrayLike<number>));
    assert.deepEqual(b.vectors, a.vectors);
  }
  // Nothing left to do: a third run writes nothing new.
  const again = await m.cacheActivations(DOCS, { ...opts, out: join(dir, "resumed") });
  assert.equal(again.tokens, 0);
  assert.equal(again.rows, whole.rows);
  // Another configuration, another dataset or a foreign folder: refused, nothing overwritten.
  await assert.rejects(m.cacheActivations(DOCS, { ...opts, shardRows: 99, out: join(dir, "resumed") }), /resumed\/featurelab-cache\.json: records another caching run \(shardRows was 12, now 99\)/);
  await assert.rejects(m.cacheActivations([[1, 2, 3], ...DOCS], { ...opts, out: join(dir, "resumed") }), /records another caching run \(the input's first document differs\)/);
  const retrained = fl.Transformer.init(m.cfg, { seed: 4, name: "tiny" });
  await assert.rejects(retrained.cacheActivations(DOCS, { ...opts, out: join(dir, "resumed") }), /records another caching run \(the model's weights differ\)/);
  retrained.dispose();
  mkdirSync(join(dir, "foreign", "blocks.0.hook_resid_post"), { recursive: true });
  await assert.rejects(m.cacheActivations(DOCS, { ...opts, out: join(dir, "foreign") }), /foreign\/blocks\.0\.hook_resid_post: already exists without featurelab-cache\.json beside it/);
  await assert.rejects(m.cacheActivations(DOCS, { ...opts, contextSize: 9, out: join(dir, "long") }), /contextSize 9 exceeds tiny's context of 8/);
  await assert.rejects(m.cacheActivations(DOCS, { ...opts, hooks: ["blocks.5.hook_resid_post"], out: join(dir, "bad-hook") }), /no hook point 'blocks\.5\.hook_resid_post'/);
  m.dispose();
});
