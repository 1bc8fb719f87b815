// The OV-incoherent skip-trigram task of Mathwin, Akar & Sharkey (2024): random filler tokens with
// planted skip-trigrams "A … B_i → C_i". Every trigram shares the one source token A, so a head that
// attends from B_i back to A copies the same value whatever i is: its OV circuit alone cannot say
// which C to predict. A one-layer attention-only model with fewer heads than trigrams solves it by
// letting several heads' outputs add up and cancel differently for each B_i — attention-head
// superposition — which the gated attention block is meant to undo.
//
// Vocabulary: 0 = <bos>, 1 = A, 2..n+1 = B_0..B_{n−1}, n+2..2n+1 = C_0..C_{n−1}.
// After <bos>, each token is drawn uniformly from all non-<bos> tokens; once an A has appeared, the
// next B_i (A is not redrawn until then) is followed by C_i: that is one planted trigram. Then the
// sequence goes on as before, so a later A can plant another one. Generation follows the authors'
// dataset algorithm, with <bos> moved to id 0 as in the rest of featurelab.
import { Rng } from "../../engine/random.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `fl.toy.skipTrigrams`. */
export interface SkipTrigramOptions {
  /** Number of sequences. */
  n: number;
  /** Number of skip-trigrams, i.e. of B (and C) tokens (default 5). */
  trigrams?: number;
  /** Tokens per sequence, <bos> included (default 11, as in the post). */
  length?: number;
  seed?: number;
}

const SKIP_TRIGRAM_OPTIONS = optionNames<SkipTrigramOptions>({ n: true, trigrams: true, length: true, seed: true });

/** One planted trigram: in sequence `sequence`, A at position `a`, B_trigram at `b`, C_trigram at b + 1. */
export interface PlantedTrigram {
  sequence: number;
  a: number;
  b: number;
  trigram: number;
}

/** A skip-trigram A … B → C of the task. */
export interface SkipTrigram {
  a: number;
  b: number;
  c: number;
  /** "A … B2 → C2". */
  label: string;
}

/** What `fl.toy.skipTrigrams` returns: token sequences, the trigrams, and where each was planted. */
export interface SkipTrigramData {
  tokens: number[][];
  /** Every planted trigram, in sequence then position order. */
  planted: PlantedTrigram[];
  /** The trigrams' token ids. */
  trigrams: SkipTrigram[];
  /** Token names by id: "<bos>", "A", "B0", …, "C0", …. */
  vocab: string[];
  vocabSize: number;
  bos: number;
}

export function skipTrigramVocabulary(trigrams: number): string[] {
  return ["<bos>", "A", ...Array.from({ length: trigrams }, (_, i) => `B${i}`), ...Array.from({ length: trigrams }, (_, i) => `C${i}`)];
}

export function skipTrigrams(opts: SkipTrigramOptions): SkipTrigramData {
  rejectUnknownOptions("toy.skipTrigrams", opts, SKIP_TRIGRAM_OPTIONS);
  const n = opts.n, T = opts.trigrams ?? 5, length = opts.length ?? 11, seed = opts.seed ?? 0;
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`featurelab: skipTrigrams: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(T) && T >= 1)) throw new Error(`featurelab: skipTrigrams: trigrams must be a positive integer, got ${T}`);
  if (!(Number.isInteger(length) && length >= 4)) throw new Error(`featurelab: skipTrigrams: length must be an integer ≥ 4 (<bos>, A, B, C), got ${length}`);
  if (!Number.isFinite(seed)) throw new Error(`featurelab: skipTrigrams: seed must be a number, got ${seed}`);
  const A = 1, firstB = 2, firstC = 2 + T, V = 2 + 2 * T;
  const rng = new Rng(seed);
  const tokens: number[][] = [], planted: PlantedTrigram[] = [];
  for (let s = 0; s < n; s++) {
    const seq = [0];
    let pendingA = -1; // position of an A still waiting for its B
    let forced = -1; // the C that must come next
    while (seq.length < length) {
      let tok: number;
      if (forced >= 0) tok = forced;
      else if (pendingA >= 0) tok = 2 + rng.int(V - 2); // anything but <bos> and A
      else tok = 1 + rng.int(V - 1); // anything but <bos>
      forced = -1;
      const pos = seq.length;
      seq.push(tok);
      if (tok === A && pendingA < 0) pendingA = pos;
      else if (pendingA >= 0 && tok >= firstB && tok < firstC) {
        // The trigram counts only if its C fits in the sequence.
        if (pos + 1 < length) planted.push({ sequence: s, a: pendingA, b: pos, trigram: tok - firstB });
        forced = tok + T;
        pendingA = -1;
      }
    }
    tokens.push(seq);
  }
  const trigrams = Array.from({ length: T }, (_, i) => ({ a: A, b: firstB + i, c: firstC + i, label: `A … B${i} → C${i}` }));
  return { tokens, planted, trigrams, vocab: skipTrigramVocabulary(T), vocabSize: V, bos: 0 };
}

/** Checks that `data` looks like skipTrigrams output (for functions that take it). */
export function assertSkipTrigramData(data: unknown, where: string): asserts data is SkipTrigramData {
  const d = data as SkipTrigramData;
  if (!d || !Array.isArray(d.tokens) || !Array.isArray(d.planted) || !Array.isArray(d.trigrams) || typeof d.vocabSize !== "number") {
    throw new Error(`featurelab: ${where}: expected the output of fl.toy.skipTrigrams({ n, trigrams, seed })`);
  }
  if (d.tokens.length === 0) throw new Error(`featurelab: ${where}: no sequences`);
}
