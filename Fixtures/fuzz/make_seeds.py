#!/usr/bin/env python3
"""Writes the seeds that are derived from other fixtures (standard library only; run from the repo root):

- gguf/llama-vocab.gguf: the metadata of Fixtures/transformer/llama-q8_0.gguf (architecture and
  SentencePiece vocabulary, copied byte for byte) with one 4-element F32 tensor instead of 21, so
  the fuzzer reaches the tokenizer through inputs of 9 KB rather than 142 KB.
- tokenizer-json/<name>: tokenizer.json, a NUL byte, tokenizer_config.json (the harness's format).
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

for name in ["gpt2-small", "spm-tiny"]:
    d = f"Fixtures/tokenizer/{name}/"
    body = open(d + "tokenizer.json", "rb").read() + b"\0" + open(d + "tokenizer_config.json", "rb").read()
    open(f"Fixtures/fuzz/tokenizer-json/{name}.json", "wb").write(body)

# template/feature-NNNN.jinja: every 8th case of Fixtures/templates/features.json (the jinja2
# features the interpreter implements), beside the real templates copied from Fixtures/templates.
import json

cases = json.load(open("Fixtures/templates/features.json"))["cases"]
for i in range(0, len(cases), 8):
    open(f"Fixtures/fuzz/template/feature-{i:04d}.jinja", "w").write(cases[i]["template"])
