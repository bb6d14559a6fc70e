#!/usr/bin/env python3
"""Checks the quantization fixtures against ggml's C quantizers, and writes the K-quant ones.

Runs `ggml_quantize_chunk` (no importance matrix: the `quantize_row_*_ref` code that
`llama_model_quantize` uses) from the libggml-base.so that llama-cpp-python 0.3.36 ships, over
quantize-input.f32. For F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 it compares with the
quantize-<type>.bin that gguf.quants wrote (a second reference); for Q2_K to Q6_K, which
gguf 0.19.0 cannot quantize, it writes quantize-<type>.bin (`--write`) or compares with it.

Run with the Python that has llama-cpp-python (scripts/compare-llama-cpp.sh installs it):
    ~/.cache/sparrow/llama-venv/bin/python Fixtures/quant/check_quantize_fixtures_with_ggml.py [--write]
"""
import ctypes
import pathlib
import sys

import llama_cpp
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
lib = ctypes.CDLL(str(pathlib.Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
lib.ggml_quantize_init.argtypes = [ctypes.c_int]
lib.ggml_quantize_chunk.restype = ctypes.c_size_t
lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_int64, ctypes.c_void_p]
values = np.fromfile(HERE / "quantize-input.f32", dtype="<f4")
write = "--write" in sys.argv
failed = 0
types = [("f16", 1, 2, 1), ("bf16", 30, 2, 1), ("q4_0", 2, 18, 32), ("q4_1", 3, 20, 32), ("q5_0", 6, 22, 32),
         ("q5_1", 7, 24, 32), ("q8_0", 8, 34, 32), ("q2_k", 10, 84, 256), ("q3_k", 11, 110, 256), ("q4_k", 12, 144, 256), ("q5_k", 13, 176, 256), ("q6_k", 14, 210, 256)]
for name, ggml_type, block_bytes, block_size in types:
    out = np.zeros(len(values) // block_size * block_bytes, np.uint8)
    lib.ggml_quantize_init(ggml_type)
    written = lib.ggml_quantize_chunk(ggml_type, values.ctypes.data, out.ctypes.data, 0, len(values) // 256, 256, None)
    assert written == len(out), (name, written, len(out))
    path = HERE / f"quantize-{name}.bin"
    if write and name.endswith("_k"):
        path.write_bytes(out.tobytes())
        print(f"{name}: wrote {path.name}")
        continue
    same = out.tobytes() == path.read_bytes()
    failed += not same
    print(f"{name}: {'same bytes' if same else 'DIFFERENT'} as ggml")
raise SystemExit(1 if failed else 0)
