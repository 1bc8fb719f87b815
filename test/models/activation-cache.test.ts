import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { WordLevelTokenizer } from "../../src/models/tokenizer.js";

test("the cache becomes ActivationSets with document, position, token_id and token metadata", async () => {
  await ready();
  const tokenizer = new WordLevelTokenizer(["<bos>", "ka", "mo", "ti", "zu"], { bos: "<bos>" });
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 5, n_ctx: 6 }, { seed: 4, tokenizer });
  const names = ["blocks.0.hook_resid_post", "blocks.0.attn.hook_z", "blocks.0.attn.hook_pattern"];
  // Batches of 2 documents: the third sits in a batch of its own (another padded width).
  const { cache, documents } = await model.run(["ka mo ti", "zu", "mo mo ka zu"], { cache: names, batchSize: 2 });
  assert.deepEqual(documents, [[0, 1, 2, 3], [0, 4], [0, 2, 2, 1, 4]]);
  const resid = cache.get("blocks.0.hook_resid_post");
  assert.equal(resid.numRows, 4 + 2 + 5);
  assert.equal(resid.dim, 8);
  assert.equal(resid.vectorName, "blocks.0.hook_resid_post");
  assert.deepEqual(Array.from(resid.column("document") as Int32Array), [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2]);
  assert.deepEqual(Array.from(resid.column("position") as Int32Array), [0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(resid.column("token_id") as Int32Array), [0, 1, 2, 3, 0, 4, 0, 2, 2, 1, 4]);
  assert.deepEqual(Array.from(resid.column("token")), ["<bos>", "ka", "mo", "ti", "<bos>", "zu", "<bos>", "mo", "mo", "ka", "zu"]);
  // Rows are the padded tensor's valid cells, in order; padding holds zeros.
  assert.deepEqual(cache.shape("blocks.0.hook_resid_post"), [3, 5, 8]);
  const full = cache.tensor("blocks.0.hook_resid_post").arraySync() as number[][][];
  assert.deepEqual(Array.from(resid.row(5)), full[1][1].map((v) => Math.fround(v)));
  assert.ok(full[1][3].every((v) => v === 0));
  // hook_z: heads concatenated (n_heads·d_head), or one head.
  const z = cache.get("blocks.0.attn.hook_z");
  assert.equal(z.dim, 8);
  const z1 = cache.get("blocks.0.attn.hook_z", { head: 1 });
  assert.equal(z1.dim, 4);
  assert.deepEqual(Array.from(z1.row(7)), Array.from(z.row(7).subarray(4, 8)));
  assert.deepEqual(Array.from(z1.column("head") as Int32Array).slice(0, 2), [1, 1]);
  // hook_pattern [batch, head, query, key]: one row per query position, heads × keys.
  assert.deepEqual(cache.shape("blocks.0.attn.hook_pattern"), [3, 2, 5, 5]);
  const p = cache.get("blocks.0.attn.hook_pattern", { head: 0 });
  assert.equal(p.dim, 5);
  const row = Array.from(p.row(2)); // document 0, query 2
  assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-6 && row[3] === 0);
  assert.throws(() => cache.get("blocks.0.hook_resid_post", { head: 0 }), /has no head axis/);
  assert.throws(() => cache.get("hook_embed"), /the cache has no 'hook_embed'; it holds blocks\.0\.hook_resid_post/);
  assert.deepEqual(cache.summary()[0], { hook: "blocks.0.hook_resid_post", shape: "[3, 5, 8]", rows: 11 });
  assert.equal(tf.memory().numTensors, Object.keys(model.params).length + 1 /* logits */ + 1 /* full */);
  model.dispose();
});
