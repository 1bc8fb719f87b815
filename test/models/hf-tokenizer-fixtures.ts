// Hugging Face tokenizer.json files built from js-tiktoken's GPT-2 ranks: the byte-level vocabulary and
// the merge list that BPE over those ranks implies (each token's bytes, merged with the lower ranks
// only, end as the two parts it is made of). The same ranks drive js-tiktoken, an independent BPE, so
// the two must give the same ids.
import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";

/** GPT-2's byte → printable character map (bytes_to_unicode). */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
}

/** Token bytes (as latin1 strings) by rank. */
function ranksOf(): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const line of gpt2Ranks.bpe_ranks.split("\n").filter(Boolean)) {
    const [, offset, ...tokens] = line.split(" ");
    tokens.forEach((t, i) => ranks.set(Buffer.from(t, "base64").toString("latin1"), Number(offset) + i));
  }
  return ranks;
}

/** The model part of GPT-2's tokenizer.json: vocab and merges. */
export function gpt2BpeModel(): { vocab: Record<string, number>; merges: string[] } {
  const chars = byteChars();
  const show = (s: string) => Array.from(s, (c) => chars[c.charCodeAt(0)]).join("");
  const ranks = ranksOf();
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  for (const [bytes, rank] of [...ranks].sort((a, b) => a[1] - b[1])) {
    vocab[show(bytes)] = rank;
    if (bytes.length < 2) continue;
    let parts = Array.from(bytes);
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < rank && r < bestRank) (best = i), (bestRank = r);
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`GPT-2 token ${rank} does not split into two parts`);
    merges.push(`${show(parts[0])} ${show(parts[1])}`);
  }
  return { vocab, merges };
}

/** Llama 3's (and cl100k's) pre-tokenizer pattern, in the Oniguruma form tokenizer.json files carry. */
export const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same in JavaScript's syntax, as js-tiktoken's cl100k_base writes it. */
const LLAMA3_PATTERN_JS = "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

/** GPT-2's tokenizer.json as Hugging Face writes it (ByteLevel pre-tokenizer with GPT-2's regex). */
export function gpt2TokenizerJson(): object {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(50256, "<|endoftext|>")],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, ...gpt2BpeModel() },
  };
}

/**
 * A Llama 3-style tokenizer.json on GPT-2's ranks: Llama 3's Split pattern then ByteLevel without its
 * regex, <|begin_of_text|> (id 50257) added by the post-processor as Llama 3's is.
 */
export function llama3StyleTokenizerJson(): object {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(50256, "<|endoftext|>"), added(50257, "<|begin_of_text|>")],
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: LLAMA3_PATTERN }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [50257], tokens: ["<|begin_of_text|>"] } },
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true, ...gpt2BpeModel() },
  };
}

/** js-tiktoken over GPT-2's ranks: with GPT-2's pattern, or Llama 3's. */
export function tiktoken(pattern: "gpt2" | "llama3"): Tiktoken {
  return new Tiktoken({ ...gpt2Ranks, pat_str: pattern === "gpt2" ? gpt2Ranks.pat_str : LLAMA3_PATTERN_JS });
}

/** Texts both tokenizers must agree on: words, contractions, digits, punctuation, whitespace runs, accents, CJK, emoji. */
export const TEXTS = [
  "Hello world",
  "Hello world! The quick brown fox's tail — isn't it?",
  "  leading spaces and trailing   ",
  "Numbers: 1234567 3.14159 2026-12-04, 1e-5",
  "Tabs\tand\nnew lines\r\n\n\nand more",
  "CAPITALS'LL AND Contractions'RE here, I'M sure they'D do",
  "naïve café résumé Zürich — “quotes” and ‘single’ … ellipsis",
  "日本語のテキストと中文字符 and 한국어",
  "emoji 🤗🚀👩‍💻 and symbols ∑∫√≠≤ ©®™",
  "def f(x):\n    return x ** 2  # code\n",
  "<|endoftext|> is special in GPT-2",
];
