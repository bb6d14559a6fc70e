#!/usr/bin/env python3
"""Writes silu.bin, the reference for Sparrow's SiLU/SwiGLU accuracy test
(Tests/TensorTests/ActivationKernelTests.swift).

Each record is four little-endian float32 values: gate, up, silu(gate), silu(gate)*up, where
silu(x) = x / (1 + exp(-x)) is computed by numpy in float64 from the float32 inputs and rounded to
float32 once (the product with `up` is also taken in float64, then rounded once). Gates span
[-88.72, 100], where exp(-gate) is a finite float32 (below, Sparrow's division form gives -0 by
design), with more samples near 0 and at the edges. Deterministic: a fixed numpy seed. Run from
anywhere:

    python3 Fixtures/kernels/make_silu_fixture.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261207)

# The lowest gate: e^(-gate) overflows float32 from about -88.7228 down.
LOWEST = np.float32(-88.72)


def uniform(n, lo, hi):
    return rng.uniform(lo, hi, n).astype(np.float32)


def log_uniform(n, lo_exp, hi_exp):
    """Magnitudes 10^lo_exp ... 10^hi_exp, random signs."""
    magnitude = 10.0 ** rng.uniform(lo_exp, hi_exp, n)
    return (magnitude * rng.choice([-1.0, 1.0], n)).astype(np.float32)


gate = np.concatenate([
    uniform(8192, -10, 10),          # where models' gates live
    uniform(4096, LOWEST, 100),      # the whole finite range
    uniform(1024, LOWEST, -80),      # e^(-gate) near Float's largest value
    uniform(1024, 10, 20),           # 1 + e^(-gate) rounding to 1
    log_uniform(2048, -40, 2),       # tiny to large, subnormals included
])
up = np.concatenate([
    uniform(12288, -3, 3),
    log_uniform(gate.size - 12288, -3, 3),
])
rng.shuffle(up)

x = gate.astype(np.float64)
silu = x / (1.0 + np.exp(-x))
records = np.stack([gate, up, silu.astype(np.float32), (silu * up.astype(np.float64)).astype(np.float32)], axis=1)
records.astype("<f4").tofile(os.path.join(HERE, "silu.bin"))
print(f"silu.bin: {len(records)} records, numpy {np.__version__}")
