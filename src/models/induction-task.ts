// The in-context copying task the shipped tiny transformer is trained on: after a BOS token, a span
// of L distinct random tokens repeats until the context is full (L varies per sequence, so no fixed
// offset works). Once a token has been seen, the next one is predictable only by looking back at
// what followed it last time — exactly what an induction head does.
import { Rng } from "../engine/random.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `fl.toy.induction`. */
export interface InductionOptions {
  /** Number of sequences. */
  n: number;
  /** Tokens per sequence, BOS included (default 48). */
  length?: number;
  /** Token ids the spans draw from: first..vocab−1 (default 1..63: id 0 is BOS). */
  vocab?: number;
  first?: number;
  bos?: number;
  /** Span length range, inclusive (default 4..20). */
  minSpan?: number;
  maxSpan?: number;
  seed?: number;
}

const INDUCTION_OPTIONS = optionNames<InductionOptions>({ n: true, length: true, vocab: true, first: true, bos: true, minSpan: true, maxSpan: true, seed: true });

/** What `fl.toy.induction` returns: token sequences, each one's span length, and which positions are predictable. */
export interface InductionSequences {
  tokens: number[][];
  /** Span length of each sequence. */
  spans: number[];
  /**
   * Per sequence and position t: true where the next token is predictable by induction (t ≥ L + 1,
   * the current token seen before). Aligned with positions, so it can mask per-position metrics.
   */
  scored: boolean[][];
}

export function inductionSequences(opts: InductionOptions): InductionSequences {
  rejectUnknownOptions("toy.induction", opts, INDUCTION_OPTIONS);
  const length = opts.length ?? 48, vocab = opts.vocab ?? 64, first = opts.first ?? 1, bos = opts.bos ?? 0;
  const minSpan = opts.minSpan ?? 4, maxSpan = opts.maxSpan ?? 20;
  if (!(Number.isInteger(opts.n) && opts.n > 0)) throw new Error(`featurelab: inductionSequences: n must be a positive integer, got ${opts.n}`);
  if (!(minSpan >= 1 && maxSpan >= minSpan && maxSpan <= vocab - first)) throw new Error(`featurelab: inductionSequences: spans ${minSpan}..${maxSpan} need ${maxSpan} distinct tokens; ${vocab - first} are available`);
  if (length < 2 * maxSpan + 2) throw new Error(`featurelab: inductionSequences: length ${length} is too short to repeat a span of ${maxSpan}`);
  const rng = new Rng(opts.seed ?? 0);
  const tokens: number[][] = [], spans: number[] = [], scored: boolean[][] = [];
  for (let s = 0; s < opts.n; s++) {
    const L = minSpan + rng.int(maxSpan - minSpan + 1);
    const perm = rng.permutation(vocab - first);
    const span = Array.from(perm.subarray(0, L), (i) => i + first);
    const seq = [bos];
    for (let t = 0; seq.length < length; t++) seq.push(span[t % L]);
    tokens.push(seq);
    spans.push(L);
    scored.push(seq.map((_, t) => t >= L + 1 && t + 1 < length));
  }
  return { tokens, spans, scored };
}

/** Syllable names for the task's tokens: "<bos>", then ba, be, bi, … (readable in tables and plots). */
export function syllableVocabulary(size: number): string[] {
  const out = ["<bos>"];
  for (const c of "bdfgklmnprstvz") for (const v of "aeiou") out.push(c + v);
  if (size > out.length) throw new Error(`featurelab: at most ${out.length} syllable tokens, asked for ${size}`);
  return out.slice(0, size);
}
