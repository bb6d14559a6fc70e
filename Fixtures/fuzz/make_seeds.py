#!/usr/bin/env python3
"""Writes the seeds that are derived from other fixtures (standard library only; run from the repo root):

- gguf/llama-vocab.gguf: the metadata of Fixtures/transformer/llama-q8_0.gguf (architecture and
  SentencePiece vocabulary, copied byte for byte) with one 4-element F32 tensor instead of 21, so
  the fuzzer reaches the tokenizer through inputs of 9 KB rather than 142 KB.
- tokenizer-json/{gpt2,spm}-mini.json: the byte-level and SentencePiece-style fixtures of
  Fixtures/tokenizer cut to ~4 KB, as tokenizer.json, a NUL byte, tokenizer_config.json (the
  harness's format). tokenizer-json/llama-tiny.json is Fixtures/transformer/llama/tokenizer.json.
"""
import struct

src = open("Fixtures/transformer/llama-q8_0.gguf", "rb").read()
version, n_tensors, n_kv = struct.unpack_from("<IQQ", src, 4)


def skip_string(o):
    (n,) = struct.unpack_from("<Q", src, o)
    return o + 8 + n


SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def skip_value(t, o):
    if t == 8:
        return skip_string(o)
    if t == 9:
        at, n = struct.unpack_from("<IQ", src, o)
        o += 12
        for _ in range(n):
            o = skip_value(at, o)
        return o
    return o + SIZES[t]


o = 24
for _ in range(n_kv):
    o = skip_string(o)
    (t,) = struct.unpack_from("<I", src, o)
    o = skip_value(t, o + 4)
kv = src[24:o]

out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 1, n_kv) + kv)
out += struct.pack("<Q", 1) + b"t" + struct.pack("<IQIQ", 1, 4, 0, 0)  # "t": 1 dim [4], F32, offset 0
out += b"\0" * (-len(out) % 32)
out += struct.pack("<4f", 1.0, -2.0, 0.5, 0.0)
open("Fixtures/fuzz/gguf/llama-vocab.gguf", "wb").write(out)



def mini(name, base_count, merge_count):
    """Fixtures/tokenizer/<name> cut to its first `base_count` tokens (bytes and specials) plus
    what its first `merge_count` merges need, ids renumbered: the same configuration in ~4 KB, so
    the fuzzer runs several times more inputs per second than on the 13-26 KB originals."""
    d = f"Fixtures/tokenizer/{name}/"
    j = json.load(open(d + "tokenizer.json"))
    vocab, merges = j["model"]["vocab"], j["model"]["merges"][:merge_count]
    need = {t for t, i in vocab.items() if i < base_count} | {t["content"] for t in j["added_tokens"] if t["content"] in vocab}
    for m in merges:
        a, b = m.split(" ") if isinstance(m, str) else m
        need |= {a, b, a + b}
    ids = {t: i for i, t in enumerate(sorted(need, key=lambda t: vocab[t]))}
    j["model"]["vocab"], j["model"]["merges"] = ids, merges
    for t in j["added_tokens"]:
        t["id"] = ids.get(t["content"], len(ids))
    return json.dumps(j, ensure_ascii=False, separators=(",", ":")).encode() + b"\0" + open(d + "tokenizer_config.json", "rb").read()


import json

# tokenizer-json/<name>: tokenizer.json, a NUL byte, tokenizer_config.json (the harness's format).
open("Fixtures/fuzz/tokenizer-json/gpt2-mini.json", "wb").write(mini("gpt2-small", 256, 40))
open("Fixtures/fuzz/tokenizer-json/spm-mini.json", "wb").write(mini("spm-tiny", 259, 30))

# template/feature-NNNN.jinja: every 8th case of Fixtures/templates/features.json (the jinja2
# features the interpreter implements), beside the real templates copied from Fixtures/templates.
import json

cases = json.load(open("Fixtures/templates/features.json"))["cases"]
for i in range(0, len(cases), 8):
    open(f"Fixtures/fuzz/template/feature-{i:04d}.jinja", "w").write(cases[i]["template"])
