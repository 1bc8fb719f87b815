// Tokenizers: GPT-2's byte-pair encoding (js-tiktoken, whose GPT-2 ranks ship inside the package, so
// nothing is downloaded), and the word-level tokenizer of a Hugging Face tokenizer.json ("WordLevel"
// model, whitespace pre-tokenizer) that small models such as the shipped tiny transformer use.
import { writeFileAtomic } from "../io/atomic-write.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { readHfTokenizer } from "./hf-tokenizer.js";

/** Text ↔ token ids. */
export interface Tokenizer {
  /** "gpt2" or "word-level". */
  readonly name: string;
  readonly vocabSize: number;
  /** Beginning-of-sequence token id (GPT-2: <|endoftext|>, 50256), if there is one. */
  readonly bos: number | undefined;
  /** Token ids of a text. */
  encode(text: string): number[];
  /** The text of token ids. */
  decode(ids: ArrayLike<number>): string;
  /** One token's text (GPT-2: may be part of a multi-byte character). */
  token(id: number): string;
}

export const GPT2_VOCAB_SIZE = 50257;

let gpt2: Promise<Tokenizer> | undefined;

/**
 * GPT-2's tokenizer (byte-level BPE, 50257 tokens). Loaded once, on first use.
 * @example
 * const tok = await fl.gpt2Tokenizer();
 * tok.encode("Hello world");                  // [15496, 995]
 */
export function gpt2Tokenizer(): Promise<Tokenizer> {
  gpt2 ??= (async () => {
    const [{ Tiktoken }, ranks] = await Promise.all([import("js-tiktoken/lite"), import("js-tiktoken/ranks/gpt2")]);
    const enc = new Tiktoken(ranks.default);
    const bos = ranks.default.special_tokens["<|endoftext|>"];
    return {
      name: "gpt2",
      vocabSize: GPT2_VOCAB_SIZE,
      bos,
      // Special tokens written in the text are special, as in Hugging Face's GPT2Tokenizer.
      encode: (text: string) => enc.encode(text, "all"),
      decode: (ids: ArrayLike<number>) => enc.decode(Array.from(ids)),
      token: (id: number) => enc.decode([id]),
    };
  })();
  return gpt2;
}

/** A word-level vocabulary: text splits on whitespace, each word is one token. */
export class WordLevelTokenizer implements Tokenizer {
  readonly name = "word-level";
  readonly words: readonly string[];
  readonly bos: number | undefined;
  readonly unk: number | undefined;
  readonly special: ReadonlySet<number>;
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[], opts: { bos?: string; unk?: string; special?: readonly string[] } = {}) {
    rejectUnknownOptions("WordLevelTokenizer", opts, optionNames<typeof opts>({ bos: true, unk: true, special: true }));
    this.words = words;
    this.ids = new Map();
    words.forEach((w, i) => {
      if (this.ids.has(w)) throw new Error(`featurelab: word '${w}' appears twice in the vocabulary (ids ${this.ids.get(w)} and ${i})`);
      if (/\s/.test(w) || w === "") throw new Error(`featurelab: vocabulary word ${JSON.stringify(w)} is empty or contains whitespace`);
      this.ids.set(w, i);
    });
    const id = (w: string | undefined, what: string) => {
      if (w === undefined) return undefined;
      const i = this.ids.get(w);
      if (i === undefined) throw new Error(`featurelab: the ${what} token '${w}' is not in the vocabulary`);
      return i;
    };
    this.bos = id(opts.bos, "BOS");
    this.unk = id(opts.unk, "unknown-word");
    this.special = new Set((opts.special ?? []).map((w) => id(w, "special")!));
  }

  /** Number of tokens in the vocabulary. */
  get vocabSize(): number {
    return this.words.length;
  }

  /**
   * Token ids of a text, split on whitespace; unknown words get the unknown token.
   * @example
   * const ids = tok.encode("a b c a b");
   */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of text.split(/\s+/)) {
      if (w === "") continue;
      const i = this.ids.get(w) ?? this.unk;
      if (i === undefined) throw new Error(`featurelab: '${w}' is not in the tokenizer's vocabulary of ${this.vocabSize} words (and it has no unknown-word token)`);
      out.push(i);
    }
    return out;
  }

  /**
   * The tokens of ids joined by spaces.
   * @example
   * tok.decode([5, 6, 7]);
   */
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => this.token(i)).join(" ");
  }

  /**
   * @example
   * tok.token(5);
   */
  token(id: number): string {
    const w = this.words[id];
    if (w === undefined) throw new RangeError(`featurelab: token id ${id} is outside the vocabulary 0..${this.vocabSize - 1}`);
    return w;
  }

  /**
   * Hugging Face tokenizer.json (WordLevel model, WhitespaceSplit pre-tokenizer).
   * @example
   * JSON.stringify(tok);
   */
  toJSON(): Record<string, unknown> {
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [...this.special].sort((a, b) => a - b).map((i) => ({ id: i, content: this.words[i], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: { type: "WhitespaceSplit" },
      post_processor: null,
      decoder: null,
      model: { type: "WordLevel", vocab: Object.fromEntries(this.words.map((w, i) => [w, i])), unk_token: this.unk === undefined ? null : this.words[this.unk] },
      featurelab: { bos_token: this.bos === undefined ? null : this.words[this.bos] },
    };
  }

  /**
   * Write the tokenizer as a Hugging Face tokenizer.json.
   * @example
   * tok.save("out/model/tokenizer.json");
   */
  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.toJSON(), null, 1) + "\n");
  }
}

/** Read a tokenizer.json with a WordLevel model; other models are refused by name. */
export function readWordLevel(path: string, bosId?: number): WordLevelTokenizer {
  let json: any;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(path, `is not valid JSON: ${(e as Error).message}`);
  }
  const model = json?.model;
  if (model?.type !== "WordLevel") throw new InputError(path, `tokenizer model '${model?.type}' is not WordLevel (GPT-2 folders are read with GPT-2's BPE instead)`);
  const pre = json.pre_tokenizer?.type;
  if (pre !== undefined && pre !== "WhitespaceSplit" && pre !== "Whitespace") throw new InputError(path, `pre-tokenizer '${pre}' is not supported (WhitespaceSplit is)`);
  const vocab = model.vocab as Record<string, number>;
  if (typeof vocab !== "object" || vocab === null) throw new InputError(path, "model.vocab is missing");
  const words: string[] = [];
  for (const [w, i] of Object.entries(vocab)) {
    if (!Number.isInteger(i) || i < 0) throw new InputError(path, `vocab entry '${w}' has id ${i}`);
    if (words[i] !== undefined) throw new InputError(path, `ids ${i} is given to both '${words[i]}' and '${w}'`);
    words[i] = w;
  }
  for (let i = 0; i < words.length; i++) if (words[i] === undefined) throw new InputError(path, `vocabulary ids are not contiguous: no word has id ${i}`);
  const special = (json.added_tokens ?? []).filter((t: any) => t.special).map((t: any) => String(t.content));
  const bos = json.featurelab?.bos_token ?? (bosId !== undefined ? words[bosId] : undefined);
  try {
    return new WordLevelTokenizer(words, { bos: bos ?? undefined, unk: model.unk_token ?? undefined, special });
  } catch (e) {
    throw new InputError(path, (e as Error).message.replace(/^featurelab: /, ""));
  }
}

/**
 * The tokenizer of a model folder: tokenizer.json — a WordLevel one read here, GPT-2's read with GPT-2's
 * bundled BPE, any other through tokenizers.js (hf-tokenizer.ts) — else GPT-2's BPE for a GPT-2 model
 * with GPT-2's vocabulary (50257 tokens); undefined when none applies.
 */
export async function folderTokenizer(dir: string, vocabSize: number, bosId?: number, modelType = "gpt2"): Promise<Tokenizer | undefined> {
  const path = join(dir, "tokenizer.json");
  const gpt2 = modelType === "gpt2" && vocabSize === GPT2_VOCAB_SIZE;
  if (existsSync(path)) {
    const type = (() => {
      try {
        return JSON.parse(readFileSync(path, "utf8"))?.model?.type;
      } catch {
        return "WordLevel"; // let readWordLevel report the parse error
      }
    })();
    if (type === "WordLevel") {
      const tok = readWordLevel(path, bosId);
      if (tok.vocabSize > vocabSize) throw new InputError(path, `has ${tok.vocabSize} words but config.json says vocab_size ${vocabSize}`);
      return tok;
    }
    if (!gpt2) {
      const tok = await readHfTokenizer(path, bosId);
      if (tok.vocabSize > vocabSize) throw new InputError(path, `has ids up to ${tok.vocabSize - 1} but config.json says vocab_size ${vocabSize}`);
      return tok;
    }
  }
  return gpt2 ? gpt2Tokenizer() : undefined;
}

/**
 * `fl.tokenizer("gpt2")`, or the tokenizer of a model folder.
 * @example
 * const tok = await fl.tokenizer("models/tiny-induction");
 */
export async function tokenizer(nameOrDir: string): Promise<Tokenizer> {
  if (nameOrDir === "gpt2") return gpt2Tokenizer();
  const cfgPath = join(nameOrDir, "config.json");
  // Without config.json, tokenizer.json alone says what the tokenizer is.
  let vocab = Number.MAX_SAFE_INTEGER;
  let bos: number | undefined;
  let modelType = "none";
  if (existsSync(cfgPath)) {
    let cfg: Record<string, any>;
    try {
      cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    } catch (e) {
      throw new InputError(cfgPath, `is not valid JSON (${(e as Error).message})`);
    }
    vocab = cfg.vocab_size ?? GPT2_VOCAB_SIZE;
    bos = cfg.bos_token_id ?? undefined;
    modelType = cfg.model_type ?? "gpt2";
  } else if (!existsSync(join(nameOrDir, "tokenizer.json"))) {
    throw new InputError(nameOrDir, `is neither "gpt2" nor a folder with tokenizer.json or config.json`);
  }
  const tok = await folderTokenizer(nameOrDir, vocab, bos, modelType);
  if (!tok) throw new InputError(nameOrDir, `has no tokenizer.json, and vocab_size ${vocab} is not GPT-2's ${GPT2_VOCAB_SIZE}`);
  return tok;
}
