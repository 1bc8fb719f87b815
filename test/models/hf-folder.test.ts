import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../../src/models/load-model.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { scratchDir } from "../python.js";
import { CASES, hashedWeights, writeCase } from "./gpt2-fixtures.js";

const dir = scratchDir("featurelab-hf-folder-");
const at = (name: string) => join(dir, name);

test("loading errors name the file, and the tensor and its shapes", async () => {
  await assert.rejects(loadModel(at("nowhere")), /nowhere: no such folder/);

  writeCase(at("no-config"), "tied");
  rmSync(join(at("no-config"), "config.json"));
  await assert.rejects(loadModel(at("no-config")), /no-config\/config\.json: no such file \(a Hugging Face model folder holds config\.json and model\.safetensors\)/);

  writeCase(at("no-weights"), "tied");
  renameSync(join(at("no-weights"), "model.safetensors"), join(at("no-weights"), "pytorch_model.bin"));
  await assert.rejects(loadModel(at("no-weights")), /no-weights\/model\.safetensors: no such file .*pytorch_model\.bin \(a pickle\) is not read/);

  writeCase(at("missing"), "tied", { prefix: true, edit: (w) => delete w["h.1.mlp.c_fc.bias"] });
  await assert.rejects(loadModel(at("missing")), /missing\/model\.safetensors: has no tensor 'h\.1\.mlp\.c_fc\.bias' \(looked for it with and without the 'transformer\.' prefix\)/);

  writeCase(at("untied"), "untied", { edit: (w) => delete w["lm_head.weight"] });
  await assert.rejects(loadModel(at("untied")), /has no tensor 'lm_head\.weight'.*tie_word_embeddings: false/);

  writeCase(at("shape"), "tied", { edit: (w) => (w["h.0.attn.c_attn.weight"] = { dtype: "float32", shape: [24, 8], data: new Float32Array(192) }) });
  await assert.rejects(loadModel(at("shape")), /shape\/model\.safetensors: tensor 'h\.0\.attn\.c_attn\.weight' has shape \[24, 8\], but config\.json \(n_embd 8, .*\) implies \[8, 24\]/);

  writeCase(at("deeper"), "tied", { config: { n_layer: 1 } });
  await assert.rejects(loadModel(at("deeper")), /deeper\/model\.safetensors: holds block weights beyond config\.json's n_layer 1: h\.1\./);

  writeCase(at("mamba"), "tied", { config: { model_type: "mamba" } });
  await assert.rejects(loadModel(at("mamba")), /mamba\/config\.json: model_type 'mamba' is not one featurelab reads \(gpt2, gpt_neox, llama, mistral, qwen2, gemma2\)/);

  writeCase(at("act"), "tied", { config: { activation_function: "swish" } });
  await assert.rejects(loadModel(at("act")), /act\/config\.json: activation_function 'swish' is not supported/);

  writeCase(at("heads"), "tied", { config: { n_head: 3 } });
  await assert.rejects(loadModel(at("heads")), /heads\/config\.json: n_embd 8 is not divisible by n_head 3/);

  writeCase(at("field"), "tied", { config: { n_positions: undefined } });
  await assert.rejects(loadModel(at("field")), /field\/config\.json: has no 'n_positions'/);

  writeCase(at("truncated"), "tied");
  const bytes = readFileSync(join(at("truncated"), "model.safetensors"));
  writeFileSync(join(at("truncated"), "model.safetensors"), bytes.subarray(0, bytes.length - 100));
  await assert.rejects(loadModel(at("truncated")), /truncated\/model\.safetensors: tensor .* lie outside/);
});

test("save writes GPT2LMHeadModel's names and a GPT2Config; old mask buffers and float16 weights load", async () => {
  const src = writeCase(at("fp16"), "tied", {
    edit: (w) => {
      w["h.0.attn.bias"] = { dtype: "float32", shape: [1, 1, 6, 6], data: new Float32Array(36) }; // old checkpoints' causal mask
      const f = w["wpe.weight"];
      // float16 copy of wpe: the loader converts it to float32
      const half = new Uint16Array(f.data.length);
      const view = new DataView(new ArrayBuffer(4));
      (f.data as Float32Array).forEach((v, i) => {
        view.setFloat32(0, v);
        const b = view.getUint32(0);
        const exp = ((b >> 23) & 0xff) - 127 + 15;
        half[i] = ((b >> 16) & 0x8000) | (exp <= 0 ? 0 : (exp << 10) | ((b >> 13) & 0x3ff));
      });
      w["wpe.weight"] = { dtype: "float16", shape: f.shape, data: half };
    },
  });
  const model = await loadModel(src);
  const exact = hashedWeights(CASES.tied.config)["wpe.weight"].data as Float32Array;
  const loaded = model.params["wpe.weight"].dataSync();
  assert.ok(exact.every((v, i) => Math.abs(v - loaded[i]) <= 1e-3 * Math.abs(v) + 7e-5), "float16 weights convert to float32");
  await model.save(at("saved"));
  const cfg = JSON.parse(readFileSync(join(at("saved"), "config.json"), "utf8"));
  assert.equal(cfg.model_type, "gpt2");
  assert.deepEqual(cfg.architectures, ["GPT2LMHeadModel"]);
  assert.equal(cfg.n_embd, 8);
  assert.equal(cfg.activation_function, "gelu_new");
  const names = Object.keys(readSafetensors(readFileSync(join(at("saved"), "model.safetensors"))).tensors);
  assert.ok(names.includes("transformer.h.1.attn.c_attn.weight") && names.includes("transformer.wte.weight"));
  assert.ok(!names.includes("lm_head.weight"), "tied: no separate lm_head, as save_pretrained writes it");
  assert.ok(!existsSync(join(at("saved"), "tokenizer.json")));
  model.dispose();
});
