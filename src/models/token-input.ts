// What a language model accepts as input — text, one document of token ids, or many — turned into
// documents of checked token ids, and those into padded batches. Padding goes on the right: with a
// causal model, later (padded) positions never change earlier ones, and they are dropped from caches
// and metrics by each document's length.
import { tf } from "../engine/backend.js";
import type { Tokenizer } from "./tokenizer.js";
import type { ModelBatch } from "./hooked-model.js";

/** Text, texts, one document of token ids, or a batch of documents (arrays, typed arrays or an int tensor [B, T]). */
export type TokenInput = string | readonly string[] | readonly number[] | readonly ArrayLike<number>[] | tf.Tensor;

export interface TokenOptions {
  /** Put the tokenizer's BOS token before each text (TransformerLens' default, true). Ignored for token ids. */
  prependBos?: boolean;
}

export interface TokenBatch {
  /** Index, in the whole input, of the first document. */
  start: number;
  /** Token ids, each document padded with 0 to the longest. */
  tokens: number[][];
  lengths: number[];
}

export interface Limits {
  vocabSize: number;
  context: number;
  tokenizer?: Tokenizer;
  model: string;
}

export function toDocuments(input: TokenInput, limits: Limits, opts: TokenOptions = {}): number[][] {
  let docs: number[][];
  if (input instanceof tf.Tensor) {
    if (input.rank !== 2 && input.rank !== 1) throw new Error(`featurelab: ${limits.model} reads token ids [batch, position]; got a tensor of shape [${input.shape}]`);
    const v = input.arraySync() as number[] | number[][];
    docs = input.rank === 1 ? [v as number[]] : (v as number[][]);
  } else if (typeof input === "string") {
    docs = [encode(input, limits, opts)];
  } else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string")) {
    docs = (input as string[]).map((s) => encode(s, limits, opts));
  } else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "number")) {
    docs = [Array.from(input as number[])];
  } else if (Array.isArray(input) && input.length > 0 && input.every((x) => x != null && typeof (x as ArrayLike<number>).length === "number" && typeof x !== "string")) {
    docs = (input as ArrayLike<number>[]).map((d) => Array.from(d));
  } else if (ArrayBuffer.isView(input)) {
    docs = [Array.from(input as unknown as ArrayLike<number>)];
  } else {
    throw new Error(`featurelab: ${limits.model} reads text, an array of token ids, or an array of such arrays; got ${describe(input)}`);
  }
  docs.forEach((doc, d) => {
    if (doc.length === 0) throw new Error(`featurelab: document ${d} is empty`);
    if (doc.length > limits.context) {
      throw new Error(`featurelab: document ${d} has ${doc.length} tokens; ${limits.model}'s context is ${limits.context} (n_positions)`);
    }
    doc.forEach((t, p) => {
      if (!Number.isInteger(t) || t < 0 || t >= limits.vocabSize) {
        throw new Error(`featurelab: document ${d}, position ${p}: token id ${t} is outside the vocabulary 0..${limits.vocabSize - 1}`);
      }
    });
  });
  return docs;
}

function encode(text: string, limits: Limits, opts: TokenOptions): number[] {
  const tok = limits.tokenizer;
  if (!tok) throw new Error(`featurelab: ${limits.model} has no tokenizer; pass token ids (arrays of integers) instead of text`);
  const ids = tok.encode(text);
  const bos = opts.prependBos ?? true;
  if (bos && tok.bos === undefined) throw new Error(`featurelab: the ${tok.name} tokenizer has no BOS token; pass { prependBos: false }`);
  return bos ? [tok.bos!, ...ids] : ids;
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return x.length === 0 ? "an empty array" : `an array of ${typeof x[0]}`;
  return typeof x;
}

/** Documents in batches of `size`, padded on the right. */
export function* tokenBatches(docs: number[][], size: number): Generator<TokenBatch> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`featurelab: batchSize must be a positive integer, got ${size}`);
  for (let start = 0; start < docs.length; start += size) {
    const slice = docs.slice(start, start + size);
    const width = Math.max(...slice.map((d) => d.length));
    yield { start, tokens: slice.map((d) => (d.length === width ? d : [...d, ...new Array(width - d.length).fill(0)])), lengths: slice.map((d) => d.length) };
  }
}

/** A language model's batches: documents of token ids, padded, each position's target the next token (−1 past the end). */
export function languageModelBatches(input: TokenInput, limits: Limits, opts: { batchSize: number; prependBos?: boolean }): { batches: ModelBatch[]; documents: number[][] } {
  const documents = toDocuments(input, limits, { prependBos: opts.prependBos });
  const batches: ModelBatch[] = [];
  for (const tb of tokenBatches(documents, opts.batchSize)) {
    const width = tb.tokens[0].length;
    const targets = new Int32Array(tb.tokens.length * width).fill(-1);
    tb.tokens.forEach((doc, i) => {
      for (let t = 0; t + 1 < tb.lengths[i]; t++) targets[i * width + t] = doc[t + 1];
    });
    const flat = Int32Array.from(tb.tokens.flat());
    batches.push({ start: tb.start, size: tb.tokens.length, width, lengths: tb.lengths, tokens: tb.tokens, targets, input: () => tf.tensor2d(flat, [tb.tokens.length, width], "int32") });
  }
  return { batches, documents };
}
