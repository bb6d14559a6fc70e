#!/usr/bin/env python3
"""Writes the reference data for Sparrow's kernel tests (Tests/TensorTests/Kernel*.swift).

Everything here is computed with numpy and the `gguf` package's quantizers and dequantizers, so
the tests compare Sparrow against code that shares nothing with it. Run from anywhere:

    python3 Fixtures/kernels/make_kernel_fixtures.py

Outputs (next to this script):
  matvec_<TYPE>.bin     raw stored bytes of an 8 x 512 matrix, row-major, in the ggml layout
  wide_<TYPE>.bin       raw bytes of a 2 x 4352 matrix (longer than MatVec's 2048-value chunk)
  matvec.json           shapes, x, and y = dequantize(W) . x in float64 for both matrix sets
  matmul.json           X (5 tokens x 512) and Y = X . dequantize(W)^T in float64 per type
  sgemm.json            a general C = alpha A B + beta C case
  elementwise.json      RMSNorm, softmax, SiLU, SwiGLU inputs and float64 results
  rope.json             RoPE in both conventions, float32 as Hugging Face computes it
"""
import json
import os

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
         "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]

# gguf 0.19 quantizes only the 32-weight types. For the K-quants any byte pattern is a valid
# block once its f16 scale fields are finite, so blocks are random bytes with the scales set to
# realistic values; the gguf dequantizer then defines what the matrix is.
K_SCALE_FIELDS = {  # byte offsets of (d, dmin) inside the block; dmin None when absent
    "Q2_K": (80, 82), "Q3_K": (108, None), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208, None),
}


def f32(v):
    """Shortest decimal that reads back as the same float32 (keeps the JSON small)."""
    return [float(np.format_float_positional(np.float32(e), unique=True)) for e in np.ravel(v)]


def f64(v):
    return [float(e) for e in np.ravel(v)]


def make_matrix(name, rows, cols):
    """Returns (stored bytes as uint8 array, float32 dequantized matrix)."""
    qtype = T[name]
    if name in K_SCALE_FIELDS:
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        nblocks = rows * cols // block_size
        blocks = rng.integers(0, 256, size=(nblocks, type_size), dtype=np.uint8)
        d_off, m_off = K_SCALE_FIELDS[name]
        d = rng.uniform(0.002, 0.02, size=nblocks).astype(np.float16)
        blocks[:, d_off:d_off + 2] = d.view(np.uint8).reshape(nblocks, 2)
        if m_off is not None:
            dmin = rng.uniform(0.001, 0.01, size=nblocks).astype(np.float16)
            blocks[:, m_off:m_off + 2] = dmin.view(np.uint8).reshape(nblocks, 2)
        stored = blocks.reshape(rows, -1)
    else:
        w = rng.standard_normal((rows, cols)).astype(np.float32) * np.float32(0.5)
        stored = np.ascontiguousarray(quantize(w, qtype)).view(np.uint8).reshape(rows, -1)
    if name == "F32":
        deq = stored.view(np.float32).reshape(rows, cols)
    elif name == "F16":
        deq = stored.view(np.float16).astype(np.float32).reshape(rows, cols)
    else:
        deq = dequantize(stored, qtype).reshape(rows, cols)
    assert deq.dtype == np.float32 and np.all(np.isfinite(deq))
    return stored, deq


def matvec_set(prefix, rows, cols, with_matmul):
    x = rng.standard_normal(cols).astype(np.float32)
    X = rng.standard_normal((5, cols)).astype(np.float32) if with_matmul else None
    mv, mm = {}, {}
    for name in TYPES:
        stored, deq = make_matrix(name, rows, cols)
        stored.tofile(os.path.join(HERE, f"{prefix}_{name}.bin"))
        W = deq.astype(np.float64)
        mv[name] = {"y": f64(W @ x.astype(np.float64)),
                    "absdot": f64(np.abs(W) @ np.abs(x.astype(np.float64)))}
        if with_matmul:
            Y = X.astype(np.float64) @ W.T
            mm[name] = {"Y": f64(Y), "absdot": f64(np.abs(X.astype(np.float64)) @ np.abs(W).T)}
    return {"rows": rows, "cols": cols, "x": f32(x), "types": mv}, (X, mm)


def sgemm_case():
    m, n, k = 7, 6, 13
    A = rng.standard_normal((m, k)).astype(np.float32)
    B = rng.standard_normal((k, n)).astype(np.float32)
    C = rng.standard_normal((m, n)).astype(np.float32)
    alpha, beta = 0.5, 2.0
    ref = alpha * (A.astype(np.float64) @ B.astype(np.float64)) + beta * C.astype(np.float64)
    # A . B^T with B stored [n, k], the weight layout, and alpha = 1, beta = 0.
    Bt = np.ascontiguousarray(B.T)
    return {"m": m, "n": n, "k": k, "alpha": alpha, "beta": beta,
            "a": f32(A), "b": f32(B), "c": f32(C), "expected": f64(ref),
            "bt": f32(Bt), "expectedABt": f64(A.astype(np.float64) @ B.astype(np.float64))}


def elementwise():
    n = 576
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    w = (1 + 0.2 * rng.standard_normal(n)).astype(np.float32)
    eps = 1e-5
    xd = x.astype(np.float64)
    rms = xd / np.sqrt(np.mean(xd * xd) + eps) * w.astype(np.float64)
    s = rng.standard_normal(1000).astype(np.float32) * np.float32(2)
    sd = s.astype(np.float64)
    e = np.exp(sd - sd.max())
    soft = e / e.sum()
    g = (rng.standard_normal(n) * 4).astype(np.float32)
    u = rng.standard_normal(n).astype(np.float32)
    gd = g.astype(np.float64)
    silu = gd / (1 + np.exp(-gd))
    return {"rmsnorm": {"x": f32(x), "weight": f32(w), "epsilon": eps, "expected": f64(rms)},
            "softmax": {"x": f32(s), "expected": f64(soft)},
            "silu": {"x": f32(g), "expected": f64(silu)},
            "swiglu": {"gate": f32(g), "up": f32(u), "expected": f64(silu * u.astype(np.float64))}}


def inv_freq(base, rope_dims):
    # As transformers' default RoPE init, in float32:
    # 1 / base ** (arange(0, d, 2).float() / d)
    exps = np.arange(0, rope_dims, 2, dtype=np.float32) / np.float32(rope_dims)
    return (np.float32(1) / (np.float32(base) ** exps)).astype(np.float32)


def rope_half_split(x, pos, base, rope_dims):
    """Hugging Face: q*cos + rotate_half(q)*sin on the first rope_dims of each head."""
    h = rope_dims // 2
    ang = np.float32(pos) * inv_freq(base, rope_dims)
    c, s = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    out = x.copy()
    a, b = x[:, :h], x[:, h:rope_dims]
    out[:, :h] = a * c - b * s
    out[:, h:rope_dims] = b * c + a * s
    return out


def rope_adjacent(x, pos, base, rope_dims):
    """GGUF llama: rotate (x[2i], x[2i+1]) with the same frequencies."""
    ang = np.float32(pos) * inv_freq(base, rope_dims)
    c, s = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    out = x.copy()
    a, b = x[:, 0:rope_dims:2], x[:, 1:rope_dims:2]
    out[:, 0:rope_dims:2] = a * c - b * s
    out[:, 1:rope_dims:2] = b * c + a * s
    return out


def rope():
    heads, head_dim = 2, 64
    x = rng.standard_normal((heads, head_dim)).astype(np.float32)
    cases = []
    for base in (10000.0, 500000.0):
        for rope_dims in (64, 32):
            for pos in (0, 1, 17, 1000, 4095):
                cases.append({"base": base, "ropeDims": rope_dims, "position": pos,
                              "halfSplit": f32(rope_half_split(x, pos, base, rope_dims)),
                              "adjacentPairs": f32(rope_adjacent(x, pos, base, rope_dims)),
                              "invFreq": f32(inv_freq(base, rope_dims))})
    return {"heads": heads, "headDim": head_dim, "x": f32(x), "cases": cases}


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main():
    versions = {"numpy": np.__version__, "gguf": "0.19.0"}
    mv, (X, mm) = matvec_set("matvec", 8, 512, with_matmul=True)
    wide, _ = matvec_set("wide", 2, 4352, with_matmul=False)
    dump("matvec.json", {"versions": versions, "matvec": mv, "wide": wide})
    dump("matmul.json", {"versions": versions, "tokens": 5, "rows": 8, "cols": 512,
                         "x": f32(X), "types": mm})
    dump("sgemm.json", {"versions": versions, **sgemm_case()})
    dump("elementwise.json", {"versions": versions, **elementwise()})
    dump("rope.json", {"versions": versions, **rope()})


if __name__ == "__main__":
    main()
