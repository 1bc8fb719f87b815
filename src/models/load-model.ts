// fl.loadModel(dir): a Hugging Face GPT-2-architecture folder as a Transformer with hook points.
import { basename, resolve } from "node:path";
import { ready } from "../engine/backend.js";
import { readModelFolder } from "./hf-folder.js";
import { Transformer } from "./transformer.js";

/**
 * Read a Hugging Face GPT-2-architecture folder (`config.json` + `model.safetensors`) as a Transformer with TransformerLens' hook points.
 * @example
 * const model = await fl.loadModel("models/tiny-induction");
 */
export async function loadModel(dir: string): Promise<Transformer> {
  await ready();
  const { cfg, params, tokenizer, extra } = await readModelFolder(dir);
  return new Transformer(cfg, params, { name: basename(resolve(dir)), tokenizer, source: dir, extra });
}
