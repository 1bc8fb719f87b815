// Any Hugging Face tokenizer.json — byte-level BPE (GPT-NeoX, Llama 3, Qwen 2), SentencePiece-style BPE
// with byte fallback (Llama 2, Mistral, Gemma), Unigram, WordPiece — through @huggingface/tokenizers
// (tokenizers.js, the tokenizer of transformers.js: Hugging Face's own, in plain JavaScript). Loaded on
// first use, so importing featurelab does not load it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../io/errors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import type { Tokenizer } from "./tokenizer.js";

type HfTokenizerImpl = import("@huggingface/tokenizers").Tokenizer;

function readJsonFile(path: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(path, `is not valid JSON: ${(e as Error).message}`);
  }
}

/** A tokenizer.json's tokenizer: ids without special tokens (the model's BOS is put first by the caller, as TransformerLens does). */
export class HfTokenizer implements Tokenizer {
  /** The tokenizer.json's model type in lower case ("bpe", "unigram", "wordpiece"). */
  readonly name: string;
  readonly vocabSize: number;
  readonly bos: number | undefined;
  private readonly impl: HfTokenizerImpl;
  /** The tokenizer.json and tokenizer_config.json it was made from (written back by save). */
  private readonly files: { json: object; config: object };

  constructor(impl: HfTokenizerImpl, name: string, vocabSize: number, bos: number | undefined, files: { json: object; config: object }) {
    this.impl = impl;
    this.files = files;
    this.name = name;
    this.vocabSize = vocabSize;
    this.bos = bos;
  }

  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: ArrayLike<number>): string {
    // tokenizers.js refuses an empty list; nothing decodes to "".
    return ids.length === 0 ? "" : this.impl.decode(Array.from(ids));
  }

  token(id: number): string {
    return this.impl.decode([id]);
  }

  /**
   * Write tokenizer.json (and tokenizer_config.json beside it, when it had one).
   * @example
   * tok.save("out/model/tokenizer.json");
   */
  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.files.json));
    if (Object.keys(this.files.config).length) writeFileAtomic(join(dirname(path), "tokenizer_config.json"), JSON.stringify(this.files.config, null, 2) + "\n");
  }
}

/**
 * Read tokenizer.json (and tokenizer_config.json beside it, when there is one). BOS: `bosId` (config.json's
 * bos_token_id), else tokenizer_config.json's bos_token.
 */
export async function readHfTokenizer(path: string, bosId?: number): Promise<HfTokenizer> {
  const json = readJsonFile(path);
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? readJsonFile(configPath) : {};
  const type = json?.model?.type;
  if (typeof type !== "string") throw new InputError(path, "has no model.type (not a Hugging Face tokenizer.json)");
  const { Tokenizer: Impl } = await import("@huggingface/tokenizers");
  let impl: HfTokenizerImpl;
  try {
    impl = new Impl(json, config);
  } catch (e) {
    throw new InputError(path, `tokenizers.js cannot read this ${type} tokenizer: ${(e as Error).message}`);
  }
  // Ids run over the model's vocabulary and the added (special) tokens.
  const vocab = json.model.vocab;
  const ids: number[] = Array.isArray(vocab) ? [vocab.length - 1] : Object.values((vocab ?? {}) as Record<string, number>);
  for (const t of json.added_tokens ?? []) ids.push(t.id);
  const vocabSize = ids.reduce((m, i) => Math.max(m, i), -1) + 1;
  const bosText = typeof config.bos_token === "string" ? config.bos_token : config.bos_token?.content;
  const bos = bosId ?? (bosText !== undefined ? impl.token_to_id(bosText) : undefined);
  return new HfTokenizer(impl, type.toLowerCase(), vocabSize, bos, { json, config });
}
