#!/usr/bin/env python3
"""Writes the dequantization fixtures in this folder.

For every stored type, `<type>.bin` holds raw little-endian blocks and `<type>.f32` holds the
little-endian float32 values that `gguf.quants.dequantize` (the `gguf` PyPI package) returns for
them. Sparrow's tests must reproduce these bit for bit. See README.md for the format.

Most blocks are crafted byte by byte rather than produced by `quantize`, because the interesting
cases (every quant value, every packed scale, subnormal / infinite / NaN f16 scales) never come out
of a quantizer. The generator is seeded, so re-running it rewrites identical files.

Run: python3 Fixtures/quant/make_quant_fixtures.py
"""
from __future__ import annotations

import importlib.metadata
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

OUT = pathlib.Path(__file__).resolve().parent
rng = np.random.default_rng(0x5EA2)

# f16 scale bit patterns: zeros, ±1, subnormals (smallest and largest), smallest normal, largest
# finite, infinities, and NaNs (quiet, signalling with a payload, negative with a payload).
SCALES = [
    0x0000, 0x8000, 0x3C00, 0xBC00, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400,
    0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7D01, 0xFE5A, 0x2E66,
]
# A shorter list for the second scale (min / dmin) so that the cross product stays small.
MINS = [0x0000, 0x8000, 0x3C00, 0xBC00, 0x0001, 0x83FF, 0x7BFF, 0xFC00, 0x7C00, 0x7E55]
# (scale, min) pairs where both terms of `d*q + m` or `dl*q - ml` can be NaN with different
# payloads (NaN scales, or infinity times a zero quant or zero sub-scale): the result must keep
# the first operand's NaN, as x86 and numpy do.
NAN_PAIRS = [(0x7E00, 0x7E55), (0xFE5A, 0x7D01), (0x7C00, 0xFE5A), (0x7D01, 0xFC00), (0xFC00, 0x7C00)]


def f16(bits: int) -> bytes:
    return int(bits).to_bytes(2, "little")


def u32(value: int) -> bytes:
    return int(value).to_bytes(4, "little")


def rand_bytes(n: int) -> bytes:
    return rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()


def rand_scale() -> int:
    """A finite f16 of moderate magnitude and either sign."""
    return int(np.float16(rng.uniform(-2.0, 2.0)).view(np.uint16))


# Byte j = j | (15 - j) << 4: low nibbles run 0...15 and high nibbles 15...0.
NIBBLES_16 = bytes(j | ((15 - j) << 4) for j in range(16))
# 2-bit fields that cycle 0...3 along the byte index, at every shift.
CYCLE_2BIT = bytes(((i) % 4) | (((i + 1) % 4) << 2) | (((i + 2) % 4) << 4) | (((i + 3) % 4) << 6)
                   for i in range(64))


def pack_q3k_scales(s: list[int]) -> bytes:
    """Packs sixteen 6-bit values the way Q3_K stores them: low nibbles in bytes 0-7 (values 8-15
    in the high nibbles), the top two bits of value i in byte 8 + i % 4 at shift 2 * (i // 4)."""
    out = bytearray(12)
    for i, v in enumerate(s):
        out[i % 8] |= (v & 0x0F) << (4 * (i // 8))
        out[8 + i % 4] |= (v >> 4) << (2 * (i // 4))
    return bytes(out)


def pack_k4_scales(sc: list[int], mn: list[int]) -> bytes:
    """Packs eight 6-bit scales and eight 6-bit mins the way Q4_K and Q5_K store them."""
    out = bytearray(12)
    for j in range(8):
        if j < 4:
            out[j] |= sc[j]
            out[j + 4] |= mn[j]
        else:
            out[j + 4] = (sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4)
            out[j - 4] |= (sc[j] >> 4) << 6
            out[j] |= (mn[j] >> 4) << 6
    return bytes(out)


def quantized(qtype: T, n_blocks: int, block: int) -> list[bytes]:
    """Blocks produced by gguf's own quantizer from random floats of several magnitudes, plus an
    all-zero block and a constant block."""
    rows = []
    for magnitude in (1e-3, 1.0, 100.0, 5e4):
        rows.append(rng.normal(0.0, magnitude, size=n_blocks * block).astype(np.float32))
    rows.append(np.zeros(block, dtype=np.float32))
    rows.append(np.full(block, -0.75, dtype=np.float32))
    # The largest magnitude overflows some f16 mins to infinity, which numpy warns about; keep it.
    with np.errstate(over="ignore"):
        return [quantize(row.reshape(1, -1), qtype).tobytes() for row in rows]


def probe(qtype: T, block: bytes, expected: set[float]) -> None:
    """Checks with gguf's own decoder that a crafted pattern, under unit scales, yields every
    quant value it is meant to enumerate."""
    values = dequantize(np.frombuffer(block, dtype=np.uint8).reshape(1, -1), qtype)
    assert set(values.ravel().tolist()) == expected, (qtype.name, sorted(set(values.ravel().tolist())))


def q4_0() -> list[bytes]:
    probe(T.Q4_0, f16(0x3C00) + NIBBLES_16, {float(v) for v in range(-8, 8)})
    blocks = [f16(d) + NIBBLES_16 for d in SCALES]
    blocks += [f16(d) + rand_bytes(16) for d in SCALES]
    blocks += [f16(rand_scale()) + rand_bytes(16) for _ in range(16)]
    return blocks + quantized(T.Q4_0, 8, 32)


def q4_1() -> list[bytes]:
    probe(T.Q4_1, f16(0x3C00) + f16(0) + NIBBLES_16, {float(v) for v in range(16)})
    blocks = [f16(d) + f16(m) + NIBBLES_16 for d in SCALES for m in MINS]
    blocks += [f16(rand_scale()) + f16(rand_scale()) + rand_bytes(16) for _ in range(16)]
    return blocks + quantized(T.Q4_1, 8, 32)


Q5_HIGH = [0x00000000, 0xFFFFFFFF, 0x0000FFFF, 0xFFFF0000, 0xAAAAAAAA, 0x55555555]


def q5_0() -> list[bytes]:
    probe(T.Q5_0, f16(0x3C00) + u32(0x0000FFFF) + NIBBLES_16, {float(v) for v in range(-16, 16)})
    blocks = [f16(d) + u32(h) + NIBBLES_16 for d in SCALES for h in Q5_HIGH]
    blocks += [f16(rand_scale()) + rand_bytes(20) for _ in range(16)]
    return blocks + quantized(T.Q5_0, 8, 32)


def q5_1() -> list[bytes]:
    probe(T.Q5_1, f16(0x3C00) + f16(0) + u32(0xFFFF0000) + NIBBLES_16, {float(v) for v in range(32)})
    blocks = [f16(d) + f16(m) + u32(h) + NIBBLES_16
              for d in SCALES for m in MINS[:5] for h in (0, 0xFFFFFFFF)]
    blocks += [f16(d) + f16(m) + u32(h) + NIBBLES_16 for d, m in NAN_PAIRS for h in (0, 0xFFFFFFFF)]
    blocks += [f16(d) + f16(rand_scale()) + rand_bytes(20) for d in SCALES]
    blocks += [f16(rand_scale()) + f16(rand_scale()) + rand_bytes(20) for _ in range(16)]
    return blocks + quantized(T.Q5_1, 8, 32)


def q8_0() -> list[bytes]:
    all_i8 = bytes(range(256))
    blocks = [f16(d) + all_i8[32 * k:32 * k + 32] for d in SCALES for k in range(8)]
    blocks += [f16(rand_scale()) + rand_bytes(32) for _ in range(16)]
    return blocks + quantized(T.Q8_0, 8, 32)


def q2_k() -> list[bytes]:
    # Layout: 16 scale/min bytes, 64 bytes of 2-bit quants, f16 d, f16 dmin.
    probe(T.Q2_K, bytes([0x01] * 16) + CYCLE_2BIT + f16(0x3C00) + f16(0), {0.0, 1.0, 2.0, 3.0})
    n = len(SCALES)
    # Sixteen blocks whose scale bytes enumerate all 256 (scale, min) nibble pairs.
    blocks = [bytes(range(16 * b, 16 * b + 16)) + CYCLE_2BIT + f16(SCALES[b % n]) + f16(MINS[b % len(MINS)])
              for b in range(16)]
    blocks += [bytes(range(16)) + CYCLE_2BIT + f16(d) + f16(m) for d, m in NAN_PAIRS]
    blocks += [rand_bytes(80) + f16(d) + f16(SCALES[(i + 5) % n]) for i, d in enumerate(SCALES)]
    blocks += [rand_bytes(80) + f16(rand_scale()) + f16(rand_scale()) for _ in range(8)]
    return blocks


def q3_k() -> list[bytes]:
    # Layout: 32 bytes high-bit mask, 64 bytes of 2-bit quants, 12 bytes of 6-bit scales, f16 d.
    # hmask byte j is 0xFF or 0x00 in runs of 4, so with the 2-bit quants cycling along j every
    # 16-weight sub-block sees all eight 3-bit values.
    hmask = bytes(0xFF if (j // 4) % 2 else 0x00 for j in range(32))
    unit = pack_q3k_scales([33] * 16)  # stored 33 means scale 1
    probe(T.Q3_K, hmask + CYCLE_2BIT + unit + f16(0x3C00), {float(v) for v in range(-4, 4)})
    n = len(SCALES)
    # Four blocks whose sixteen 6-bit scales enumerate 0...63 (scale -32...31).
    blocks = [hmask + CYCLE_2BIT + pack_q3k_scales(list(range(16 * b, 16 * b + 16))) + f16(SCALES[b])
              for b in range(4)]
    blocks += [rand_bytes(108) + f16(d) for d in SCALES]
    blocks += [bytes([0x00] * 32) + CYCLE_2BIT + rand_bytes(12) + f16(rand_scale()),
               bytes([0xFF] * 32) + CYCLE_2BIT + rand_bytes(12) + f16(rand_scale())]
    blocks += [rand_bytes(108) + f16(SCALES[(i * 3) % n] if i < 2 else rand_scale()) for i in range(8)]
    return blocks


# Four-bit quants for Q4_K / Q5_K: byte i holds i % 16 low and 15 - i % 16 high, so every
# 32-weight sub-block sees all sixteen nibbles.
NIBBLES_128 = bytes((i % 16) | ((15 - i % 16) << 4) for i in range(128))


def k4_scale_blocks() -> list[bytes]:
    """Eight packed scale sets whose scales enumerate 0...63 and whose mins run 63...0."""
    return [pack_k4_scales(list(range(8 * b, 8 * b + 8)), [63 - v for v in range(8 * b, 8 * b + 8)])
            for b in range(8)]


# Scales and mins with zeros among non-zeros, for the NaN pairs.
ZERO_MIXED_K4 = pack_k4_scales([0, 1, 63, 0, 7, 0, 33, 0], [0, 0, 5, 63, 0, 1, 0, 62])


def q4_k() -> list[bytes]:
    # Layout: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
    unit = pack_k4_scales([1] * 8, [0] * 8)
    probe(T.Q4_K, f16(0x3C00) + f16(0) + unit + NIBBLES_128, {float(v) for v in range(16)})
    n = len(SCALES)
    blocks = [f16(SCALES[b]) + f16(MINS[b]) + s + NIBBLES_128 for b, s in enumerate(k4_scale_blocks())]
    blocks += [f16(d) + f16(m) + ZERO_MIXED_K4 + NIBBLES_128 for d, m in NAN_PAIRS]
    blocks += [f16(d) + f16(SCALES[(i + 7) % n]) + rand_bytes(140) for i, d in enumerate(SCALES)]
    blocks += [f16(rand_scale()) + f16(rand_scale()) + rand_bytes(140) for _ in range(8)]
    return blocks


def q5_k() -> list[bytes]:
    # Layout: f16 d, f16 dmin, 12 bytes of scales and mins, 32 bytes high bits, 128 bytes nibbles.
    # qh byte j is 0x00 for j < 16 and 0xFF after, so each sub-block sees all 32 five-bit values.
    qh = bytes(0x00 if j < 16 else 0xFF for j in range(32))
    unit = pack_k4_scales([1] * 8, [0] * 8)
    probe(T.Q5_K, f16(0x3C00) + f16(0) + unit + qh + NIBBLES_128, {float(v) for v in range(32)})
    n = len(SCALES)
    blocks = [f16(SCALES[b]) + f16(MINS[b]) + s + qh + NIBBLES_128 for b, s in enumerate(k4_scale_blocks())]
    blocks += [f16(d) + f16(m) + ZERO_MIXED_K4 + qh + NIBBLES_128 for d, m in NAN_PAIRS]
    blocks += [f16(d) + f16(SCALES[(i + 3) % n]) + rand_bytes(172) for i, d in enumerate(SCALES)]
    blocks += [f16(rand_scale()) + f16(rand_scale()) + rand_bytes(172) for _ in range(8)]
    return blocks


def q6_k() -> list[bytes]:
    # Layout: 128 bytes low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, f16 d.
    # Low nibbles run j % 16 along j; the high field at shift 2t is (j // 16 + t) % 4, so over the
    # four groups of a half every (high, low) pair, hence all 64 six-bit values, occurs.
    ql = bytes((j % 16) | ((j % 16) << 4) for j in range(128))
    qh = bytes(sum((((j % 32) // 16 + t) % 4) << (2 * t) for t in range(4)) for j in range(64))
    probe(T.Q6_K, ql + qh + bytes([1] * 16) + f16(0x3C00), {float(v) for v in range(-32, 32)})
    n = len(SCALES)
    # Sixteen blocks whose int8 scales enumerate -128...127.
    blocks = [ql + qh + bytes(range(16 * b, 16 * b + 16)) + f16(SCALES[b % n]) for b in range(16)]
    blocks += [rand_bytes(208) + f16(d) for d in SCALES]
    blocks += [rand_bytes(208) + f16(rand_scale()) for _ in range(8)]
    return blocks


def f16_all() -> list[bytes]:
    # Every bit pattern: ±0, subnormals, normals, ±infinity, quiet and signalling NaNs.
    return [np.arange(65536, dtype="<u2").tobytes()]


def bf16_values() -> list[bytes]:
    # Every sign and exponent (so ±0, subnormals, ±infinity, NaNs) with assorted mantissas.
    mantissas = [0x00, 0x01, 0x40, 0x7F, 0x2A]
    bits = [(s << 15) | (e << 7) | m for s in (0, 1) for e in range(256) for m in mantissas]
    bits += rng.integers(0, 65536, size=512).tolist()
    return [np.array(bits, dtype="<u2").tobytes()]


def f32_values() -> list[bytes]:
    special = [0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0x7F800000,
               0xFF800000, 0x7FC00000, 0x7F800001, 0xFFBFFFFF, 0x3F800000, 0xBF800000]
    bits = special + rng.integers(0, 2**32, size=243, dtype=np.uint64).tolist()
    return [np.array(bits, dtype="<u4").tobytes()]


GENERATORS = {
    T.F32: f32_values, T.F16: f16_all, T.BF16: bf16_values,
    T.Q4_0: q4_0, T.Q4_1: q4_1, T.Q5_0: q5_0, T.Q5_1: q5_1, T.Q8_0: q8_0,
    T.Q2_K: q2_k, T.Q3_K: q3_k, T.Q4_K: q4_k, T.Q5_K: q5_k, T.Q6_K: q6_k,
}


def main() -> None:
    print(f"gguf {importlib.metadata.version('gguf')}, numpy {np.__version__}")
    total = 0
    for qtype, make in GENERATORS.items():
        raw = np.frombuffer(b"".join(make()), dtype=np.uint8)
        # Infinite and NaN scales make numpy warn about invalid products; those are the point.
        with np.errstate(all="ignore"):
            values = dequantize(raw.reshape(1, -1), qtype)
        values = np.ascontiguousarray(values, dtype=np.float32).ravel()
        name = qtype.name.lower()
        (OUT / f"{name}.bin").write_bytes(raw.tobytes())
        (OUT / f"{name}.f32").write_bytes(values.astype("<f4").tobytes())
        size = raw.nbytes + values.nbytes
        total += size
        print(f"{qtype.name:5} {values.size:6} values from {raw.nbytes:6} bytes ({size} bytes written)")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
