#!/usr/bin/env python3
"""Writes the GGUF reader's fixtures with the reference writer, the `gguf` PyPI package.

  python3 Fixtures/gguf/make_gguf_fixtures.py      (from the repository root)

Outputs, beside this script:
  all-types.gguf           every metadata value type (u8 … f64, bool, string, arrays, nested arrays
                           with mixed inner element types), general.alignment = 64, and tensors of
                           types F32, F16, Q8_0, Q4_K with 1-, 2- and 3-dimensional shapes.
  all-types.expected.json  what gguf's own GGUFReader reads back: metadata with types, tensor infos
                           (shape in GGUF order, ne[0] first), and each tensor's values as
                           gguf.quants.dequantize gives them.
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType as VT, GGMLQuantizationType as QT
from gguf.quants import quantize, dequantize

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "all-types.gguf")


def write():
    w = gguf.GGUFWriter(PATH, arch="testarch")
    w.add_custom_alignment(64)
    w.add_key_value("test.u8", 200, VT.UINT8)
    w.add_key_value("test.i8", -100, VT.INT8)
    w.add_key_value("test.u16", 60000, VT.UINT16)
    w.add_key_value("test.i16", -30000, VT.INT16)
    w.add_key_value("test.u32", 4000000000, VT.UINT32)
    w.add_key_value("test.i32", -2000000000, VT.INT32)
    w.add_key_value("test.f32", 0.1, VT.FLOAT32)
    w.add_key_value("test.bool_true", True, VT.BOOL)
    w.add_key_value("test.bool_false", False, VT.BOOL)
    w.add_key_value("test.string", "héllo ▁wörld 🐦\n\"quoted\"", VT.STRING)
    w.add_key_value("test.empty_string", "", VT.STRING)
    w.add_key_value("test.u64", 18000000000000000000, VT.UINT64)
    w.add_key_value("test.i64", -9000000000000000000, VT.INT64)
    w.add_key_value("test.f64", 2.718281828459045, VT.FLOAT64)
    w.add_key_value("test.array_i32", [1, -2, 3, 2147483647], VT.ARRAY, VT.INT32)
    w.add_key_value("test.array_f32", [0.5, -1.25, 1e-5], VT.ARRAY, VT.FLOAT32)
    w.add_key_value("test.array_string", ["a", "▁b", "<0x0A>", ""], VT.ARRAY, VT.STRING)
    w.add_key_value("test.array_bool", [True, False, True], VT.ARRAY, VT.BOOL)
    w.add_key_value("test.array_u8", [0, 1, 255], VT.ARRAY, VT.UINT8)
    w.add_key_value("test.array_nested", [[1, 2, 3], ["x", "y"], [[7], [8, 9]]], VT.ARRAY)

    rng = np.random.default_rng(1234)
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    f16 = rng.standard_normal((2, 32)).astype(np.float16)
    vec = rng.standard_normal((8,)).astype(np.float32)
    q8 = quantize(rng.standard_normal((2, 64)).astype(np.float32), QT.Q8_0)
    # gguf's numpy quantizer has no Q4_K; random block bytes with sane f16 scales are as valid.
    q4k = rng.integers(0, 256, size=(2, 1, 144), dtype=np.uint8)
    q4k[..., 0:2] = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
    q4k[..., 2:4] = np.frombuffer(np.float16(0.02).tobytes(), dtype=np.uint8)
    w.add_tensor("a.f32", f32)
    w.add_tensor("b.f16", f16)
    w.add_tensor("c.vector", vec)
    w.add_tensor("d.q8_0", q8, raw_dtype=QT.Q8_0)
    w.add_tensor("e.q4_k", q4k, raw_dtype=QT.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


VTNAME = {VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16", VT.UINT32: "u32",
          VT.INT32: "i32", VT.FLOAT32: "f32", VT.BOOL: "bool", VT.STRING: "string", VT.ARRAY: "array",
          VT.UINT64: "u64", VT.INT64: "i64", VT.FLOAT64: "f64"}


def expected():
    r = GGUFReader(PATH)
    meta = {}
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        t = field.types[0]
        if t == VT.ARRAY and field.types[1] == VT.ARRAY:
            continue  # nested arrays: GGUFReader exposes no values for them; spelled out below
        v = field.contents()
        if t == VT.ARRAY:
            meta[name] = {"type": "array", "element_type": VTNAME[field.types[1]], "value": v}
        else:
            if isinstance(v, np.generic):
                v = v.item()
            meta[name] = {"type": VTNAME[t], "value": v}
    # The reference reader does not decode nested arrays; the value written above is the reference.
    meta["test.array_nested"] = {"type": "array", "element_type": "array",
                                 "value": [[1, 2, 3], ["x", "y"], [[7], [8, 9]]]}
    tensors = []
    for t in r.tensors:
        vals = dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32).reshape(-1)
        tensors.append({"name": t.name, "type": t.tensor_type.name, "ne": [int(x) for x in t.shape],
                        "data_offset": int(t.data_offset), "n_bytes": int(t.n_bytes),
                        "values": [float(x) for x in vals]})
    out = {"versions": {"gguf": importlib.metadata.version("gguf"),
                        "numpy": np.__version__, "python": sys.version.split()[0]},
           "alignment": 64, "metadata": meta, "tensors": tensors}
    with open(os.path.join(HERE, "all-types.expected.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    write()
    expected()
    print("wrote", PATH)
