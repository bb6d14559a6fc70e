#!/usr/bin/env python3
"""Writes the quantization fixtures in this folder: quantize-input.f32 and quantize-<type>.bin.

`quantize-input.f32` holds little-endian float32 values (a whole number of 256-value rows);
`quantize-<type>.bin` holds what `gguf.quants.quantize` (the numpy port of ggml's reference
quantizers, bit-exact with `quantize_row_*_ref`) writes for them, for F16, BF16, Q4_0, Q4_1, Q5_0,
Q5_1 and Q8_0. Sparrow's `ElementType.quantize` must reproduce them byte for byte
(Tests/TensorTests/QuantizeTests.swift).

The values: normal random rows at magnitudes from 1e-3 to 1e3, and crafted 32-value blocks: zeros,
constants of either sign, a single non-zero value, ties of the largest magnitude between signs, and
values on the rounding boundaries of each format (x / d + 8.5, + 16.5 or + 0.5 an exact integer;
Q8_0's halves, which round away from zero).

Run (gguf 0.19.0, numpy 2.4.6): python3 Fixtures/quant/make_quantize_fixtures.py
"""
from __future__ import annotations

import importlib.metadata
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

OUT = pathlib.Path(__file__).resolve().parent
rng = np.random.default_rng(0x0A17)

blocks: list[np.ndarray] = []
for scale in (1e-3, 0.05, 1.0, 30.0, 1e3):
    blocks += list(rng.normal(0, scale, size=(64, 32)).astype(np.float32))
blocks.append(np.zeros(32, np.float32))
blocks.append(np.full(32, 0.75, np.float32))
blocks.append(np.full(32, -3.0, np.float32))
one = np.zeros(32, np.float32); one[7] = -2.5; blocks.append(one)
tie = rng.normal(0, 1, 32).astype(np.float32); tie[3] = 4.0; tie[20] = -4.0; blocks.append(tie)
tie = rng.normal(0, 1, 32).astype(np.float32); tie[3] = -4.0; tie[20] = 4.0; blocks.append(tie)
# Q4_0 with max −8 (d = 1): x / d + 8.5 lands on k + 0.5 + 8.5, an exact integer.
b = np.arange(32, dtype=np.float32) / 2 - 8; b[0] = -8; blocks.append(b)
# Q5_0 with max −16 (d = 1).
b = np.arange(32, dtype=np.float32) - 16; b[0] = -16; blocks.append(b)
# Q4_1 / Q5_1 with min 0 and max 15 or 31 (d = 1): (x − min) / d + 0.5 on integers.
b = np.arange(32, dtype=np.float32) / 2; b[-1] = 15; blocks.append(b)
b = np.arange(32, dtype=np.float32) - 0.5; b[0] = 0; b[-1] = 31; blocks.append(b)
# Q8_0 with max 127 (d = 1): halves round away from zero.
b = np.array([k + 0.5 for k in range(-16, 16)], np.float32); b[0] = 127; b[1] = -126.5; blocks.append(b)
# Tiny and huge (but Float16-representable) magnitudes.
blocks.append(rng.normal(0, 1e-6, 32).astype(np.float32))
blocks.append(rng.uniform(-6e4, 6e4, 32).astype(np.float32))
while len(blocks) % 8:
    blocks.append(rng.normal(0, 1, 32).astype(np.float32))

values = np.concatenate(blocks).astype(np.float32)
rows = values.reshape(-1, 256)
(OUT / "quantize-input.f32").write_bytes(values.astype("<f4").tobytes())
for qtype in (T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
    data = quantize(rows, qtype)
    (OUT / f"quantize-{qtype.name.lower()}.bin").write_bytes(np.ascontiguousarray(data).tobytes())
print(f"{len(values)} values; gguf {importlib.metadata.version('gguf')}, numpy {np.__version__}")
