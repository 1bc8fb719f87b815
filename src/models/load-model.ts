// fl.loadModel(dir): a Hugging Face model folder as a hooked model — GPT-2 as a Transformer, GPT-NeoX
// (Pythia), the Llama family (Llama, Mistral, Qwen 2) and Gemma 2 as a Decoder — chosen by config.json's
// model_type.
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { readJson, readModelFolder } from "./hf-folder.js";
import { Transformer } from "./transformer.js";
import { Decoder } from "./decoder.js";
import { DECODER_MODEL_TYPES, decoderConfigFromHf } from "./decoder-config.js";
import { readDecoderWeights } from "./decoder-weights.js";
import { folderTokenizer } from "./tokenizer.js";

/**
 * Read a Hugging Face model folder (`config.json` + `model.safetensors` or its shards) as a model with
 * TransformerLens' hook points: GPT-2, GPT-NeoX / Pythia, Llama, Mistral, Qwen 2 or Gemma 2.
 * @example
 * const model = await fl.loadModel("models/tiny-induction");
 */
export async function loadModel(dir: string): Promise<Transformer | Decoder> {
  await ready();
  if (!existsSync(dir)) throw new InputError(dir, "no such folder");
  const cfgPath = join(dir, "config.json");
  const json = readJson(cfgPath, "a Hugging Face model folder holds config.json and model.safetensors");
  const name = basename(resolve(dir));
  if (json.model_type === undefined || json.model_type === "gpt2") {
    const { cfg, params, tokenizer, extra } = await readModelFolder(dir);
    return new Transformer(cfg, params, { name, tokenizer, source: dir, extra });
  }
  if (!(json.model_type in DECODER_MODEL_TYPES)) {
    throw new InputError(cfgPath, `model_type '${json.model_type}' is not one featurelab reads (${["gpt2", ...Object.keys(DECODER_MODEL_TYPES)].join(", ")})`);
  }
  const cfg = decoderConfigFromHf(json, cfgPath);
  const params = readDecoderWeights(dir, cfg, cfg.model_type);
  const tokenizer = await folderTokenizer(dir, cfg.d_vocab, cfg.bos_token_id, cfg.model_type);
  return new Decoder(cfg, params, { name, tokenizer, source: dir, extra: json });
}
