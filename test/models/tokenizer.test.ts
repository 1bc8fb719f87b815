import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ready } from "../../src/engine/backend.js";
import { gpt2Tokenizer, readWordLevel, tokenizer, WordLevelTokenizer } from "../../src/models/tokenizer.js";
import { Transformer } from "../../src/models/transformer.js";
import { loadModel } from "../../src/models/load-model.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-tokenizer-");

test("GPT-2 BPE gives Hugging Face's GPT-2 token ids, with no download", async () => {
  const tok = await gpt2Tokenizer();
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.bos, 50256);
  assert.deepEqual(tok.encode("Hello world"), [15496, 995]);
  assert.deepEqual(tok.encode("Hello world! The quick brown fox's"), [15496, 995, 0, 383, 2068, 7586, 21831, 338]);
  assert.deepEqual(tok.encode("<|endoftext|>"), [50256]);
  assert.equal(tok.decode([15496, 995]), "Hello world");
  assert.equal(tok.token(995), " world");
  assert.equal(await tokenizer("gpt2"), tok);
});

test("a folder with GPT-2's vocabulary size reads text with GPT-2 BPE and puts BOS first", async () => {
  await ready();
  const m = Transformer.init({ d_model: 4, n_layers: 1, n_heads: 1, d_vocab: 50257, n_ctx: 8, bos_token_id: 50256 }, { seed: 0 });
  await m.save(join(dir, "gpt2-like"));
  const model = await loadModel(join(dir, "gpt2-like"));
  assert.equal(model.tokenizer?.name, "gpt2");
  const { documents, cache } = await model.run("Hello world", { cache: ["hook_embed"] });
  assert.deepEqual(documents, [[50256, 15496, 995]]);
  assert.deepEqual(cache.get("hook_embed").column("token"), ["<|endoftext|>", "Hello", " world"]);
  const noBos = await model.run(["Hello world", " world", "world"], { prependBos: false });
  assert.deepEqual(noBos.documents, [[15496, 995], [995], [6894]]);
  m.dispose();
  model.dispose();
});

test("a word-level tokenizer round-trips through Hugging Face's tokenizer.json", async () => {
  const tok = new WordLevelTokenizer(["<bos>", "<unk>", "ka", "mo", "ti"], { bos: "<bos>", unk: "<unk>", special: ["<bos>", "<unk>"] });
  assert.deepEqual(tok.encode("ka  mo\nti zz"), [2, 3, 4, 1]);
  assert.equal(tok.decode([0, 2, 3]), "<bos> ka mo");
  const path = join(dir, "tokenizer.json");
  tok.save(path);
  const back = readWordLevel(path);
  assert.deepEqual(back.words, tok.words);
  assert.equal(back.bos, 0);
  assert.equal(back.unk, 1);
  const strict = new WordLevelTokenizer(["a", "b"]);
  assert.throws(() => strict.encode("a c"), /'c' is not in the tokenizer's vocabulary of 2 words/);
  assert.throws(() => new WordLevelTokenizer(["a", "a"]), /word 'a' appears twice/);
  mkdirSync(join(dir, "bad"), { recursive: true });
  writeFileSync(join(dir, "bad", "tokenizer.json"), JSON.stringify({ model: { type: "BPE", vocab: {}, merges: [] } }));
  assert.throws(() => readWordLevel(join(dir, "bad", "tokenizer.json")), /bad\/tokenizer\.json: tokenizer model 'BPE' is not WordLevel/);
  writeFileSync(join(dir, "bad", "tokenizer.json"), JSON.stringify({ model: { type: "WordLevel", vocab: { a: 0, b: 2 } } }));
  assert.throws(() => readWordLevel(join(dir, "bad", "tokenizer.json")), /not contiguous: no word has id 1/);
});
