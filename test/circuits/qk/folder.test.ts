import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { Transformer } from "../../../src/models/transformer.js";
import { qkDictionary } from "../../../src/circuits/qk/dictionary.js";
import { loadQkDictionary } from "../../../src/circuits/qk/folder.js";
import { loadDictionary } from "../../../src/dictionaries/load-dictionary.js";
import { QK_WEIGHT_NAMES } from "../../../src/circuits/qk/loss.js";

const T = 8;

function setup() {
  const m = Transformer.init({ d_model: 16, n_layers: 2, n_heads: 2, d_vocab: 12, n_ctx: T }, { seed: 4 });
  const model = new Transformer(m.cfg, Object.fromEntries(Object.entries(m.params).map(([k, t]) => [k, k.includes("ln_") ? t : tf.mul(t, k.includes("c_attn") ? 30 : 6)])));
  const rng = new Rng(2);
  const docs = Array.from({ length: 12 }, () => Array.from({ length: T }, () => rng.int(12)));
  return { model, docs };
}

test("qk.save → fl.loadQkDictionary gives the same weights, metrics and pairs; each half is a SAELens transcoder folder", async () => {
  await ready();
  const { model, docs } = setup();
  const qk = await qkDictionary(model, docs, { layer: 1, width: 16, sparsity: 0.01, steps: 40, batchSize: 6, lr: 1e-2, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), "featurelab-qk-"));
  try {
    await qk.save(dir);
    const back = await loadQkDictionary(dir, model, docs);
    for (const k of QK_WEIGHT_NAMES) assert.deepEqual(Array.from(back.weights[k].dataSync()), Array.from(qk.weights[k].dataSync()), k);
    assert.deepEqual(back.cfg, qk.cfg);
    assert.deepEqual(back.history, qk.history);
    assert.equal(back.metrics.klFull, qk.metrics.klFull);
    assert.deepEqual(back.pairs(0, { n: 5 }).pairs.map((p) => [p.query.feature, p.key.feature]), qk.pairs(0, { n: 5 }).pairs.map((p) => [p.query.feature, p.key.feature]));
    // The query half on its own: reads the normalised residual, predicts hook_q (heads concatenated).
    const query = await loadDictionary(join(dir, "query"));
    assert.equal(query.arch.name, "transcoder");
    const cfg = JSON.parse(readFileSync(join(dir, "query", "cfg.json"), "utf8"));
    assert.equal(cfg.metadata.hook_name, "blocks.1.ln1.hook_normalized");
    assert.equal(cfg.metadata.hook_name_out, "blocks.1.attn.hook_q");
    const r = tf.tensor2d(qk.data.r.subarray(0, 3 * 16), [3, 16]);
    const viaDict = query.reconstructTensor(r, query.encodeTensor(r)).dataSync();
    const direct = tf.tidy(() => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(r, qk.weights.W_encQ), qk.weights.b_encQ)), qk.weights.D_Q), qk.weights.b_Q).dataSync());
    for (let i = 0; i < direct.length; i++) assert.ok(Math.abs(viaDict[i] - direct[i]) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadQkDictionary: clear errors for a missing or foreign folder and for a model of another shape", async () => {
  await ready();
  const { model, docs } = setup();
  const dir = mkdtempSync(join(tmpdir(), "featurelab-qk-"));
  try {
    await assert.rejects(loadQkDictionary(dir, model, docs), /no qk\.json: a QK dictionary folder holds qk\.json, query\/ and key\//);
    writeFileSync(join(dir, "qk.json"), "{ nope");
    await assert.rejects(loadQkDictionary(dir, model, docs), /qk\.json.*not valid JSON/);
    const qk = await qkDictionary(model, docs, { layer: 1, width: 8, sparsity: 0.01, steps: 5, batchSize: 6, seed: 1 });
    await qk.save(dir);
    const other = Transformer.init({ d_model: 16, n_layers: 2, n_heads: 4, d_vocab: 12, n_ctx: T }, { seed: 1 });
    await assert.rejects(loadQkDictionary(dir, other, docs), /trained on 2 heads of d_head 8 .* has 4 × 4/);
    await assert.rejects(loadQkDictionary(dir, {}, docs), /decomposes the attention of a Transformer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
