# SentencePiece-style tokenizers for test/models/hf-tokenizer.test.ts: small BPE models trained here with
# Google's sentencepiece (Debian's python3-sentencepiece, the library Llama 2, Mistral and Gemma were
# tokenized with), written out as tokenizer.json in the layouts Hugging Face's converter gives them —
#   llama2:    normalizer Prepend("▁") + Replace(" ", "▁"), BPE with byte fallback (Llama 2, Mistral);
#   metaspace: pre-tokenizer Metaspace(prepend_scheme "first", split false) (newer conversions);
#   gemma:     normalizer Replace(" ", "▁") only, trained without the dummy prefix (Gemma);
# with merges recovered from the pieces' scores as transformers' SentencePieceExtractor recovers them —
# and the ids sentencepiece itself gives a fixed set of texts (expected.json).
#   /usr/bin/python3 test/models/sentencepiece-reference.py <out dir>
import io
import json
import os
import random
import sys

import sentencepiece as spm

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    " leading space, and  two spaces, and trailing ",
    "line one\nline two\n\nafter a blank line",
    "tabs\tand\tdigits 1234567 3.14159",
    "naïve café déjà vu — “quotes”",
    "emoji 😀 and snow ☃ and 漢字 (byte fallback)",
    "mixedCASE words: Interpretability, superposition, features!",
    "a",
    "",
]

WORDS = ("the of and to in is that for it as with was on be by this are from at or an have not which but all were when we "
         "there can been has more one their will would so if out about up some what into them than then only other time "
         "model layer feature features sparse dictionary neuron neurons attention head heads residual stream token tokens "
         "interpretability superposition circuit circuits activation activations probe probes train training hello world "
         "quick brown fox jumps over lazy dog line two blank after leading space spaces trailing tabs digits words mixed case").split()


def corpus():
    rng = random.Random(0)
    lines = []
    for _ in range(3000):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        if rng.random() < 0.2:
            words.append(str(rng.randint(0, 99999)))
        lines.append(" ".join(words) + rng.choice([".", ",", "!", "?", ""]))
    lines += ["café naïve déjà — “quoted”"] * 20
    return lines


def train(add_dummy_prefix):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()), model_writer=model, vocab_size=800, model_type="bpe", byte_fallback=True,
        character_coverage=0.9995, add_dummy_prefix=add_dummy_prefix, remove_extra_whitespaces=False,
        normalization_rule_name="identity", split_digits=True, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2, num_threads=1)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def merges_of(sp):
    # transformers' SentencePieceExtractor.extract: every split of a piece into two pieces, ordered by the
    # pieces' ids, then all of them by the merged piece's score (best first; the sort is stable).
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    for i in range(sp.get_piece_size()):
        piece, score = sp.id_to_piece(i), sp.get_score(i)
        local = [(piece[:k], piece[k:], score) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        merges += sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]]))
    merges.sort(key=lambda m: m[2], reverse=True)
    return vocab, [f"{l} {r}" for l, r, _ in merges]


def tokenizer_json(sp, style):
    vocab, merges = merges_of(sp)
    special = [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True} for i in range(3)]
    replace = {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
    normalizer = {"llama2": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, replace]}, "metaspace": None, "gemma": replace}[style]
    pre = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False} if style == "metaspace" else None
    decoders = [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]
    if style != "gemma":
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
        "normalizer": normalizer, "pre_tokenizer": pre,
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "vocab": vocab, "merges": merges},
    }


def main():
    out = sys.argv[1]
    expected = {"texts": TEXTS, "styles": {}}
    models = {True: train(True), False: train(False)}
    for style in ("llama2", "metaspace", "gemma"):
        sp = models[style != "gemma"]
        folder = os.path.join(out, style)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf8") as f:
            json.dump(tokenizer_json(sp, style), f, ensure_ascii=False)
        # Hugging Face's Metaspace adds no "▁" before a text that starts with a space (it already starts with
        # one), where sentencepiece adds its dummy prefix to every text: the ids of the text without that space.
        quirk = style == "metaspace"
        ids = [sp.encode(t[1:] if quirk and t.startswith(" ") else t) for t in TEXTS]
        expected["styles"][style] = {"ids": ids, "sentencepiece": [sp.encode(t) for t in TEXTS], "vocab": sp.get_piece_size()}
    with open(os.path.join(out, "expected.json"), "w", encoding="utf8") as f:
        json.dump(expected, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
