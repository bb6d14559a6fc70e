#!/usr/bin/env python3
"""Writes the safetensors fixtures used by Tests/TensorTests/Safetensors*.swift.

Run from anywhere: `python3 Fixtures/safetensors/make_safetensors_fixtures.py`. Output is
deterministic (fixed values and a seeded generator), so re-running reproduces the committed files.

Files are written by the `safetensors` package itself. F32/F16/integer-only files go through
`safetensors.numpy.save_file`. numpy has no bfloat16 dtype, so that API cannot take BF16 arrays;
files holding BF16 go through `safetensors.serialize_file` instead -- the same Rust serializer that
`save_file` calls -- with the BF16 bit patterns in a uint16 array and the dtype given as
"bfloat16". No header is written by hand.

Expected values: `expected/<tensor>.f32` (and `sharded/expected/<tensor>.f32`) hold each float
tensor's elements as raw little-endian float32, computed in numpy: F32 as stored, F16 by numpy's
float16 -> float32 conversion, BF16 as the 16 stored bits shifted left by 16.
"""
import json
import os
import sys

import numpy as np
import safetensors
from safetensors import TensorSpec, deserialize, serialize_file
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def f32_bits(*bits):
    return np.array(bits, dtype="<u4").view("<f4")


def f16_bits(*bits):
    return np.array(bits, dtype="<u2").view("<f2")


class BF16:
    """BF16 bit patterns (uint16) standing in for a bfloat16 array."""

    def __init__(self, bits, shape):
        self.bits = np.array(bits, dtype="<u2").reshape(shape).copy(order="C")

    def expected(self):
        return (self.bits.astype("<u4") << 16).view("<f4")


def write(tensors, path, metadata=None):
    """Writes `tensors` ({name: ndarray or BF16}) with the safetensors package."""
    if not any(isinstance(v, BF16) for v in tensors.values()):
        save_file(tensors, path, metadata=metadata)
        return
    keep = []
    specs = {}
    for name, v in tensors.items():
        arr, dtype = (v.bits, "bfloat16") if isinstance(v, BF16) else (np.array(v, order="C"), v.dtype.name)
        assert arr.dtype.byteorder in "<=|", "little-endian only"
        keep.append(arr)
        specs[name] = TensorSpec(dtype=dtype, shape=arr.shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes)
    serialize_file(specs, path, metadata=metadata)


def write_expected(tensors, folder):
    os.makedirs(folder, exist_ok=True)
    for name, v in tensors.items():
        if isinstance(v, BF16):
            values = v.expected()
        elif v.dtype.kind == "f":
            values = v.astype("<f4")  # exact for f16; identity for f32
        else:
            continue
        values.astype("<f4").tofile(os.path.join(folder, name + ".f32"))


def check_round_trip(tensors, path):
    """Reads the file back through the package and compares the raw bytes."""
    with open(path, "rb") as f:
        back = dict(deserialize(f.read()))
    assert set(back) == set(tensors), (set(back), set(tensors))
    for name, v in tensors.items():
        raw = v.bits.tobytes() if isinstance(v, BF16) else np.array(v, order="C").tobytes()
        assert bytes(back[name]["data"]) == raw, name


def main():
    rng = np.random.default_rng(20240611)

    # --- one file with every float type, an integer tensor and metadata ---
    mixed = {
        # 1-D F32: zeros of both signs, infinities, NaNs (quiet, quiet with payload, signalling),
        # the smallest subnormal, the largest finite value, the smallest normal.
        "f32.vector": f32_bits(0x00000000, 0x80000000, 0x3FC00000, 0xC0100000, 0x7F800000, 0xFF800000,
                               0x7FC00000, 0xFFC00001, 0x7F800001, 0x00000001, 0x7F7FFFFF, 0x00800000),
        "f32.matrix": rng.standard_normal((3, 4)).astype("<f4"),
        "f32.scalar": np.array(-7.25, dtype="<f4"),  # shape []
        "f32.empty": np.zeros((0, 3), dtype="<f4"),
        # 2-D F16: smallest subnormal (2^-24), largest subnormal, -0, infinities, quiet NaNs of both
        # signs, the largest finite value (65504), 1/3 rounded, -2.
        "f16.matrix": f16_bits(0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00,
                               0x7E00, 0xFE00, 0x7BFF, 0x3555, 0xC000).reshape(2, 5),
        "f16.cube": rng.standard_normal((2, 3, 4)).astype("<f2"),
        # 1-D BF16: 1.0, smallest subnormal, -0, infinities, quiet NaN, negative NaN with payload,
        # largest finite value, smallest normal, -2.5.
        "bf16.vector": BF16([0x3F80, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F7F, 0x0080, 0xC020], (10,)),
        "bf16.cube": BF16((rng.standard_normal(12).astype("<f4").view("<u4") >> 16).astype("<u2"), (2, 2, 3)),
        "i32.ids": np.array([0, 1, -1, 2147483647, -2147483648], dtype="<i4"),
        "i64.positions": np.array([[0, 1, 2], [-3, 2**40, -(2**62)]], dtype="<i8"),
    }
    metadata = {"format": "pt", "producer": "make_safetensors_fixtures.py"}
    path = os.path.join(HERE, "mixed.safetensors")
    write(mixed, path, metadata=metadata)
    check_round_trip(mixed, path)
    write_expected(mixed, os.path.join(HERE, "expected"))

    # --- a two-shard checkpoint with an index ---
    shards = {
        "model-00001-of-00002.safetensors": {
            "model.embed_tokens.weight": (np.arange(12, dtype="<f4").reshape(4, 3) * 0.5 - 1).astype("<f4"),
            "model.layers.0.input_layernorm.weight": np.array([1, 0.5, -2], dtype="<f2"),
        },
        "model-00002-of-00002.safetensors": {
            "model.norm.weight": BF16([0x3F80, 0x4000, 0xBF00], (3,)),
            "lm_head.weight": (np.arange(12, dtype="<f4").reshape(4, 3) * -0.25).astype("<f4"),
        },
    }
    folder = os.path.join(HERE, "sharded")
    os.makedirs(folder, exist_ok=True)
    weight_map = {}
    total = 0
    for shard, tensors in shards.items():
        shard_path = os.path.join(folder, shard)
        write(tensors, shard_path)
        check_round_trip(tensors, shard_path)
        write_expected(tensors, os.path.join(folder, "expected"))
        for name, v in tensors.items():
            weight_map[name] = shard
            total += (v.bits if isinstance(v, BF16) else v).nbytes
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")

    print(f"safetensors {safetensors.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
