// tokenizer.json files read through tokenizers.js (@huggingface/tokenizers) give the ids an independent
// BPE (js-tiktoken, on the same ranks) gives, for GPT-2's byte-level tokenizer and for a Llama 3-style
// one (Split on Llama 3's Oniguruma pattern, then ByteLevel); BOS comes from the model's config, once;
// GPT-2 folders keep the bundled BPE; bad files are named. SentencePiece-style tokenizer.json files (Llama 2,
// Mistral, Gemma) give the ids Google's sentencepiece gives (test/models/sentencepiece-reference.py).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ready } from "../../src/engine/backend.js";
import { tokenizer } from "../../src/models/tokenizer.js";
import { HfTokenizer } from "../../src/models/hf-tokenizer.js";
import { Decoder } from "../../src/models/decoder.js";
import { Transformer } from "../../src/models/transformer.js";
import { loadModel } from "../../src/models/load-model.js";
import { PYTHON, scratchDir, skipWithoutSentencepiece } from "../python.js";
import { gpt2TokenizerJson, llama3StyleTokenizerJson, tiktoken, TEXTS } from "./hf-tokenizer-fixtures.js";

const dir = scratchDir("featurelab-hf-tokenizer-");
const folder = (name: string, files: Record<string, unknown>) => {
  mkdirSync(join(dir, name), { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, name, f), typeof v === "string" ? v : JSON.stringify(v));
  return join(dir, name);
};
let gpt2Json: object;
let llama3Json: object;

before(() => {
  gpt2Json = gpt2TokenizerJson();
  llama3Json = llama3StyleTokenizerJson();
});

test("GPT-2's tokenizer.json through tokenizers.js gives js-tiktoken's ids on every text, and decodes back", async () => {
  const tok = await tokenizer(folder("gpt2-json", { "tokenizer.json": gpt2Json }));
  assert.ok(tok instanceof HfTokenizer);
  assert.equal(tok.name, "bpe");
  assert.equal(tok.vocabSize, 50257);
  const reference = tiktoken("gpt2");
  for (const text of TEXTS) {
    assert.deepEqual(tok.encode(text), reference.encode(text, "all"), JSON.stringify(text));
    assert.equal(tok.decode(tok.encode(text)), text);
  }
  assert.deepEqual(tok.encode("Hello world"), [15496, 995]); // Hugging Face's GPT-2 ids
  assert.equal(tok.token(995), " world");
});

test("a Llama 3-style tokenizer (Split on Llama 3's pattern, ByteLevel) agrees with js-tiktoken on that pattern; BOS from config.json, once", async () => {
  const config = { model_type: "llama", hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, vocab_size: 50258, max_position_embeddings: 64, bos_token_id: 50257 };
  const path = folder("llama3-json", { "tokenizer.json": llama3Json, "config.json": config });
  const tok = await tokenizer(path);
  assert.equal(tok.bos, 50257);
  const reference = tiktoken("llama3");
  for (const text of TEXTS) assert.deepEqual(tok.encode(text), reference.encode(text, "all"), JSON.stringify(text));
  // The two patterns split differently (digits in threes, case-insensitive contractions): the agreement above is not GPT-2's.
  assert.notDeepEqual(tok.encode("Numbers: 1234567"), tiktoken("gpt2").encode("Numbers: 1234567", "all"));
  // In a model, text gets the BOS the config names — once, though the tokenizer's post-processor would add it too.
  await ready();
  const random = Decoder.init(config, { seed: 0 });
  const model = new Decoder(random.cfg, random.params, { tokenizer: tok });
  const { documents } = await model.run("Hello world", { logits: false });
  assert.deepEqual(documents, [[50257, 15496, 995]]);
  assert.deepEqual((await model.run("Hello world", { logits: false, prependBos: false })).documents, [[15496, 995]]);
  model.dispose();
  // Without bos_token_id in config.json, tokenizer_config.json's bos_token says it.
  const viaConfig = await tokenizer(folder("llama3-tokenizer-config", { "tokenizer.json": llama3Json, "tokenizer_config.json": { bos_token: "<|begin_of_text|>" } }));
  assert.equal(viaConfig.bos, 50257);
});

test("SentencePiece-style tokenizers (Llama 2 / Mistral, Metaspace, Gemma layouts) give the ids Google's sentencepiece gives, and decode back", { skip: skipWithoutSentencepiece }, async () => {
  const out = join(dir, "sentencepiece");
  const r = spawnSync(PYTHON, [join(import.meta.dirname, "sentencepiece-reference.py"), out], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `sentencepiece-reference.py failed: ${r.error ?? ""}${r.stderr}`);
  const expected = JSON.parse(readFileSync(join(out, "expected.json"), "utf8"));
  for (const style of ["llama2", "metaspace", "gemma"]) {
    const tok = await tokenizer(join(out, style));
    assert.ok(tok instanceof HfTokenizer);
    assert.equal(tok.vocabSize, expected.styles[style].vocab);
    expected.texts.forEach((text: string, i: number) => {
      const ids = tok.encode(text);
      assert.deepEqual(ids, expected.styles[style].ids[i], `${style}: ${JSON.stringify(text)}`);
      // (Metaspace's decoder strips the one leading space its encoder did not mark, as in Python.)
      assert.equal(tok.decode(ids), style === "metaspace" && text.startsWith(" ") ? text.slice(1) : text, `${style} decodes ${JSON.stringify(text)} back`);
    });
  }
  // The texts reach byte fallback (emoji), digits split one by one, and runs of spaces.
  const all = expected.styles.llama2.ids.flat();
  assert.ok(all.some((id: number) => id >= 3 && id < 259), "byte-fallback ids are exercised");
  // Hugging Face's Metaspace (Python's tokenizers and tokenizers.js alike) adds no dummy prefix before a leading space; sentencepiece does.
  const lead = expected.texts.findIndex((t: string) => t.startsWith(" "));
  assert.notDeepEqual(expected.styles.metaspace.ids[lead], expected.styles.metaspace.sentencepiece[lead]);
  assert.deepEqual(expected.styles.llama2.ids, expected.styles.llama2.sentencepiece, "the Prepend normalizer layout matches sentencepiece everywhere");
});

test("a GPT-2 folder keeps GPT-2's bundled BPE even with a tokenizer.json", async () => {
  await ready();
  const m = Transformer.init({ d_model: 4, n_layers: 1, n_heads: 1, d_vocab: 50257, n_ctx: 8, bos_token_id: 50256 }, { seed: 0 });
  await m.save(join(dir, "gpt2-folder"));
  writeFileSync(join(dir, "gpt2-folder", "tokenizer.json"), JSON.stringify(gpt2Json));
  const gpt2 = await loadModel(join(dir, "gpt2-folder"));
  assert.equal(gpt2.tokenizer?.name, "gpt2");
  gpt2.dispose();
  m.dispose();
});

test("bad tokenizer files: the error names the file", async () => {
  await assert.rejects(tokenizer(folder("broken", { "tokenizer.json": "{ not json" })), /broken\/tokenizer\.json: is not valid JSON/);
  await assert.rejects(tokenizer(folder("unknown-model", { "tokenizer.json": { model: { type: "Quantum", vocab: {} } } })), /unknown-model\/tokenizer\.json: tokenizers\.js cannot read this Quantum tokenizer/);
  const small = { model_type: "llama", hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, vocab_size: 1000, max_position_embeddings: 64 };
  await assert.rejects(tokenizer(folder("too-many-ids", { "tokenizer.json": llama3Json, "config.json": small })), /too-many-ids\/tokenizer\.json: has ids up to 50257 but config\.json says vocab_size 1000/);
});
