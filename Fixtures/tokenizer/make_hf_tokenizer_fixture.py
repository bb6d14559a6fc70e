#!/usr/bin/env python3
"""Builds two small Hugging Face tokenizer directories and reference ids computed by `tokenizers`.

  gpt2-small/  byte-level BPE: GPT-2's first 256 byte tokens and first MERGES merges (taken from
               Fixtures/vocab/ggml-vocab-gpt-2.gguf, where token 256 + i is merge i), plus
               <|endoftext|> as a special added token. Pre-tokenizer ByteLevel (GPT-2's regex).
  spm-tiny/    SentencePiece-style BPE with byte fallback, Llama-2 layout: <unk> <s> </s>, the 256
               <0xNN> byte tokens, then a vocabulary trained by `tokenizers` on CORPUS below.
               Merges are rewritten the way transformers' SpmConverter writes them for SentencePiece
               models (every split of every token into two tokens, ordered by the token's rank), so
               that "highest-scoring token first" (llama.cpp) and "lowest-ranked merge first"
               (Hugging Face) agree.

Each directory gets tokenizer.json, tokenizer_config.json and expected.json:
  [{"text": ..., "ids": encode(text, add_special_tokens=False),
    "ids_with_special": encode(text, add_special_tokens=True)}, ...]
Hugging Face always matches special added tokens in the text, so texts containing them correspond
to Sparrow's encode(text, parseSpecial: true).

Usage: python3 Fixtures/tokenizer/make_hf_tokenizer_fixture.py   (from the repository root)
Requires: tokenizers, gguf (versions recorded in README.md).
"""

import json
import os

import gguf
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MERGES = 1000

TEXTS = [
    "",
    " ",
    "Hello world",
    " Hello world",
    "Hello, world! How are you?",
    "  two leading spaces\tand a tab\nand a newline",
    "I'm sure they'll say it's fine, we've done it.",
    "numbers 1234567 and 3.14159",
    "emoji 🦙 and accents: café, naïve, Ærøskøbing",
    "CJK 我想在apple工作 and Cyrillic Привет",
    "special tokens inline: <s>Hello</s> and <|endoftext|>done",
    "x" * 50,
    "<|user|>  hi there<|end|> <s> after",
    "  <|user|>\nline <|end|>",
]

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "Hello world, hello there; the world is large and the fox is quick",
    "tokenizers split text into pieces and merge the most frequent pairs",
    "a sentence with numbers 123 456 and punctuation! does it work? yes.",
    "llamas and alpaca live in the mountains of south america",
] * 20


def write(directory, tokenizer, config):
    os.makedirs(directory, exist_ok=True)
    tokenizer.save(os.path.join(directory, "tokenizer.json"), pretty=False)
    with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
        f.write("\n")
    expected = [
        {
            "text": t,
            "ids": tokenizer.encode(t, add_special_tokens=False).ids,
            "ids_with_special": tokenizer.encode(t, add_special_tokens=True).ids,
        }
        for t in TEXTS
    ]
    with open(os.path.join(directory, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


def gpt2_small():
    reader = gguf.GGUFReader(os.path.join(ROOT, "Fixtures/vocab/ggml-vocab-gpt-2.gguf"))
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    merges = reader.fields["tokenizer.ggml.merges"].contents()[:MERGES]
    for i, m in enumerate(merges):
        assert m.replace(" ", "") == tokens[256 + i], "GPT-2 token 256+i is merge i"
    vocab = {t: i for i, t in enumerate(tokens[: 256 + MERGES])}
    model = models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges])
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>"])
    write(os.path.join(HERE, "gpt2-small"), tok, {
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "add_bos_token": False, "add_eos_token": False,
    })


def spm_tiny_metaspace(tok, scheme):
    """spm-tiny with transformers' newer layout: no normalizer, a `Metaspace` pre-tokenizer with
    `prepend_scheme` `scheme`, and added tokens that strip the whitespace beside them."""
    tok = Tokenizer.from_str(tok.to_str())
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=scheme, split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme=scheme, split=False)
    tok.add_special_tokens([AddedToken("<|user|>", rstrip=True, special=True, normalized=False),
                            AddedToken("<|end|>", lstrip=True, special=True, normalized=False)])
    write(os.path.join(HERE, f"spm-metaspace-{scheme}"), tok, {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
    })


def spm_tiny():
    # 1. Train a small BPE on the corpus (characters of the corpus as the base alphabet).
    trainer_model = Tokenizer(models.BPE())
    trainer_model.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=400, show_progress=False)
    trainer_model.train_from_iterator(CORPUS, trainer)
    trained = json.loads(trainer_model.to_str())["model"]
    trained_vocab = sorted(trained["vocab"].items(), key=lambda kv: kv[1])

    # 2. Llama-2 layout: specials, byte tokens, then the trained tokens in training order.
    pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    pieces += [t for t, _ in trained_vocab if t not in pieces]
    vocab = {t: i for i, t in enumerate(pieces)}

    # 3. SpmConverter-style merges: a token's rank is its position among merged tokens.
    merged = [t for t, _ in trained_vocab if len(t) > 1]
    rank = {t: r for r, t in enumerate(merged)}
    merges = []
    for t in merged:
        local = [(t[:k], t[k:]) for k in range(1, len(t)) if t[:k] in vocab and t[k:] in vocab]
        local.sort(key=lambda p: (vocab[p[0]], vocab[p[1]]))
        merges += [(l, r, rank[t]) for l, r in local]
    merges.sort(key=lambda m: m[2])

    tok = Tokenizer(models.BPE(vocab=vocab, merges=[(l, r) for l, r, _ in merges], unk_token="<unk>",
                               byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    write(os.path.join(HERE, "spm-tiny"), tok, {
        "bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
        "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
    })
    return tok


if __name__ == "__main__":
    gpt2_small()
    tiny = spm_tiny()
    spm_tiny_metaspace(tiny, "first")
    spm_tiny_metaspace(tiny, "always")
