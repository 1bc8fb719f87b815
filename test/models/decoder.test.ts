// GPT-NeoX (Pythia), Llama 3, Qwen 2, Mistral and Gemma 2 checkpoints in Hugging Face's layout, written
// with random weights (float32, float16, bfloat16; one file or shards) by test/models/decoder-reference.py,
// which also computes their logits with PyTorch forward passes written from Hugging Face's definitions.
// featurelab's logits must agree; each family's own piece (sliding window, Llama 3's RoPE scaling, soft
// caps, the parallel residual, grouped-query heads) must matter, so that the agreement cannot be luck;
// the hook points are TransformerLens'; bad folders get errors that name the file and the field.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tf, ready } from "../../src/engine/backend.js";
import { loadModel } from "../../src/models/load-model.js";
import { Decoder, decoderForward } from "../../src/models/decoder.js";
import type { DecoderConfig } from "../../src/models/decoder-config.js";
import { trainE2E } from "../../src/circuits/e2e/sae.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { PYTHON, scratchDir, skipWithoutTorch } from "../python.js";

const dir = scratchDir("featurelab-decoder-");
const at = (name: string) => join(dir, name);
let expected: { tokens: number[][]; cases: Record<string, number[]> };

before(() => {
  if (skipWithoutTorch) return;
  const r = spawnSync(PYTHON, [join(import.meta.dirname, "decoder-reference.py"), dir], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `decoder-reference.py failed: ${r.error ?? ""}${r.stderr}`);
  expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
});

/** max |a − b| / max |b|. */
function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

async function decoder(name: string): Promise<Decoder> {
  const model = await loadModel(at(name));
  assert.ok(model instanceof Decoder, `${name} loads as a Decoder`);
  return model;
}

/** Logits with a changed config: a family's piece switched off must move them. */
function logitsWith(model: Decoder, change: Partial<DecoderConfig>): Float32Array {
  return tf.tidy(() => decoderForward({ ...model.cfg, ...change }, model.params, tf.tensor2d(expected.tokens.flat(), [2, expected.tokens[0].length], "int32"), (_n, x) => x).dataSync() as Float32Array);
}

const CASES = ["pythia", "neox-sequential-fp16", "llama3-gqa-bf16-sharded", "qwen2-tied", "mistral-window", "gemma2"];

test("logits agree with PyTorch references of each family (relative error ≤ 1e-4), on sequences longer than the sliding windows", { skip: skipWithoutTorch }, async () => {
  await ready();
  for (const name of CASES) {
    const model = await decoder(name);
    const got = model.logits(expected.tokens);
    assert.deepEqual(got.shape, [2, 16, 97]);
    const err = relativeError(await got.data(), expected.cases[name]);
    assert.ok(err <= 1e-4, `${name}: relative error ${err.toExponential(2)}`);
    got.dispose();
    model.dispose();
  }
});

test("each family's own piece matters: without it the logits move ten times the tolerance or more", { skip: skipWithoutTorch }, async () => {
  await ready();
  const moves = async (name: string, change: Partial<DecoderConfig>) => {
    const model = await decoder(name);
    const err = relativeError(logitsWith(model, change), expected.cases[name]);
    model.dispose();
    assert.ok(err > 1e-3, `${name} without ${JSON.stringify(change)}: relative error only ${err.toExponential(2)}`);
  };
  await moves("mistral-window", { windows: [0, 0] });
  await moves("gemma2", { windows: [0, 0, 0] });
  await moves("gemma2", { attn_scores_soft_cap: 0 });
  await moves("gemma2", { output_logits_soft_cap: 0 });
  await moves("gemma2", { post_norms: false });
  await moves("gemma2", { embed_scale: 1 });
  await moves("llama3-gqa-bf16-sharded", { rope_scaling: undefined });
  await moves("pythia", { parallel_attn_mlp: false });
  await moves("pythia", { rotary_dim: 16 });
});

test("TransformerLens' hook points: grouped key/value heads, rotated q and k, no resid_mid with a parallel residual; a hook's edit carries through", { skip: skipWithoutTorch }, async () => {
  await ready();
  const llama = await decoder("llama3-gqa-bf16-sharded");
  const names = ["blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_rot_k", "blocks.1.attn.hook_pattern", "blocks.1.mlp.hook_pre_linear", "blocks.1.hook_resid_mid", "blocks.1.hook_resid_post"];
  const { cache, logits } = await llama.run(expected.tokens, { cache: names });
  assert.deepEqual(cache.tensor("blocks.0.attn.hook_q").shape, [2, 16, 8, 8]);
  assert.deepEqual(cache.tensor("blocks.0.attn.hook_k").shape, [2, 16, 2, 8]);
  assert.deepEqual(cache.tensor("blocks.1.mlp.hook_pre_linear").shape, [2, 16, 160]);
  // RoPE leaves position 0 alone and turns the rest.
  const k = cache.tensor("blocks.0.attn.hook_k").arraySync() as number[][][][];
  const rk = cache.tensor("blocks.0.attn.hook_rot_k").arraySync() as number[][][][];
  assert.ok(Math.max(...k[0][0][1].map((x, i) => Math.abs(x - rk[0][0][1][i]))) < 1e-6);
  assert.ok(Math.max(...k[0][5][1].map((x, i) => Math.abs(x - rk[0][5][1][i]))) > 1e-3);
  const pattern = cache.tensor("blocks.1.attn.hook_pattern").arraySync() as number[][][][];
  pattern[1][3].forEach((row, q) => {
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
    row.forEach((v, key) => key > q && assert.equal(v, 0));
  });
  assert.ok(relativeError(await logits!.data(), expected.cases["llama3-gqa-bf16-sharded"]) <= 1e-4);
  // Resuming at a block's residual stream gives the same logits (how splicing and e2e training resume).
  const [batch] = llama.batches(expected.tokens, { batchSize: 2 }).batches;
  const resumed = llama.runBatch(batch, {}, { name: "blocks.1.hook_resid_pre", value: cache.tensor("blocks.1.hook_resid_mid") });
  assert.ok(relativeError(await resumed.data(), expected.cases["llama3-gqa-bf16-sharded"]) > 1e-3, "resuming from resid_mid is a different stream");
  resumed.dispose();
  const { cache: pre } = await llama.run(expected.tokens, { cache: ["blocks.1.hook_resid_pre"] });
  const again = llama.runBatch(batch, {}, { name: "blocks.1.hook_resid_pre", value: pre.tensor("blocks.1.hook_resid_pre") });
  assert.ok(relativeError(await again.data(), expected.cases["llama3-gqa-bf16-sharded"]) <= 1e-4);
  again.dispose();
  logits!.dispose();
  // Zeroing every MLP's output changes the logits; the model is unchanged afterwards.
  const hooks = Object.fromEntries([0, 1].map((l) => [`blocks.${l}.hook_mlp_out`, (x: tf.Tensor) => tf.zerosLike(x)]));
  const ablated = (await llama.run(expected.tokens, { hooks })).logits!;
  assert.ok(relativeError(await ablated.data(), expected.cases["llama3-gqa-bf16-sharded"]) > 1e-2);
  ablated.dispose();
  llama.dispose();

  const pythia = await decoder("pythia");
  assert.ok(!pythia.hookNames.includes("blocks.0.hook_resid_mid") && pythia.hookNames.includes("blocks.0.attn.hook_rot_q") && !pythia.hookNames.includes("blocks.0.mlp.hook_pre_linear"));
  assert.match(String(pythia), /Decoder\(pythia: gpt_neox, 2 layers, d_model 64, 4 heads of 16/);
  pythia.dispose();
  const gemma = await decoder("gemma2");
  assert.ok(gemma.hookNames.includes("blocks.2.ln2_post.hook_normalized"));
  assert.deepEqual(gemma.cfg.windows, [6, 0, 6]);
  await assert.rejects(trainE2E(gemma, [[1, 2, 3]], { hook: "blocks.0.hook_resid_pre", loss: "e2e", width: 8, l1: 1 }), /trainE2E reads a GPT-2-architecture Transformer's weights and does not yet work on gemma2 models like gemma2/);
  gemma.dispose();
});

test("save writes each family's Hugging Face names and config; loading the folder back gives the same logits", { skip: skipWithoutTorch }, async () => {
  await ready();
  for (const name of ["pythia", "llama3-gqa-bf16-sharded", "gemma2"]) {
    const model = await decoder(name);
    await model.save(at(`${name}-saved`));
    const original = readSafetensors(readFileSync(join(at(name), name.includes("sharded") ? "model-00001-of-00002.safetensors" : "model.safetensors"))).tensors;
    const saved = readSafetensors(readFileSync(join(at(`${name}-saved`), "model.safetensors"))).tensors;
    for (const key of Object.keys(original)) if (!/rotary_emb/.test(key)) assert.ok(key in saved, `${name}: ${key} saved`);
    const again = await decoder(`${name}-saved`);
    assert.deepEqual(again.cfg, model.cfg);
    const a = model.logits(expected.tokens), b = again.logits(expected.tokens);
    assert.ok(relativeError(await b.data(), await a.data()) < 1e-6, name);
    tf.dispose([a, b]);
    model.dispose();
    again.dispose();
  }
});

test("bad folders: the error names the file and the field or tensor, and no weights are left behind", { skip: skipWithoutTorch }, async () => {
  await ready();
  const edit = (name: string, copy: string, change: (cfg: Record<string, any>) => void) => {
    const src = JSON.parse(readFileSync(join(at(name), "config.json"), "utf8"));
    change(src);
    spawnSync("cp", ["-r", at(name), at(copy)]);
    writeFileSync(join(at(copy), "config.json"), JSON.stringify(src));
    return at(copy);
  };
  const before = tf.memory().numTensors;
  await assert.rejects(loadModel(edit("pythia", "mamba", (c) => (c.model_type = "mamba"))), /mamba\/config\.json: model_type 'mamba' is not one featurelab reads \(gpt2, gpt_neox, llama, mistral, qwen2, gemma2\)/);
  await assert.rejects(loadModel(edit("llama3-gqa-bf16-sharded", "yarn", (c) => (c.rope_scaling = { rope_type: "yarn", factor: 4 }))), /yarn\/config\.json: 'rope_scaling\.rope_type' is 'yarn'; featurelab knows "linear" and "llama3"/);
  await assert.rejects(loadModel(edit("qwen2-tied", "qwen-window", (c) => (c.use_sliding_window = true))), /qwen-window\/config\.json: 'use_sliding_window': true/);
  await assert.rejects(loadModel(edit("gemma2", "gemma-act", (c) => (c.hidden_activation = "gelu_quick"))), /gemma-act\/config\.json: 'hidden_activation' is 'gelu_quick'/);
  await assert.rejects(loadModel(edit("mistral-window", "heads", (c) => (c.num_key_value_heads = 3))), /heads\/config\.json: num_attention_heads 4 is not a multiple of num_key_value_heads 3/);
  await assert.rejects(loadModel(edit("pythia", "wider", (c) => (c.intermediate_size = 128))), /wider\/model\.safetensors: tensor 'gpt_neox\.layers\.0\.mlp\.dense_h_to_4h\.weight' has shape \[256, 64\], but config\.json \(hidden_size 64, .*intermediate_size 128.*\) implies \[128, 64\]/);
  await assert.rejects(loadModel(edit("pythia", "shallower", (c) => (c.num_hidden_layers = 1))), /shallower\/model\.safetensors: holds 'gpt_neox\.layers\.1\.[a-z_.]+', a block beyond config\.json's num_hidden_layers 1/);
  // An untied model without its unembedding.
  spawnSync("cp", ["-r", at("mistral-window"), at("no-head")]);
  const file = join(at("no-head"), "model.safetensors");
  const { tensors } = readSafetensors(readFileSync(file), file);
  delete tensors["lm_head.weight"];
  writeFileSync(file, writeSafetensors(tensors));
  await assert.rejects(loadModel(at("no-head")), /no-head\/model\.safetensors: has no tensor 'lm_head\.weight' .*tie_word_embeddings: false/);
  // A shard the index lists but that is gone.
  spawnSync("cp", ["-r", at("llama3-gqa-bf16-sharded"), at("lost-shard")]);
  rmSync(join(at("lost-shard"), "model-00002-of-00002.safetensors"));
  await assert.rejects(loadModel(at("lost-shard")), /lost-shard\/model-00002-of-00002\.safetensors: no such file \(listed in the shard index\)/);
  assert.equal(tf.memory().numTensors, before, "a failed load keeps no tensors");
});
