#!/usr/bin/env python3
"""Checks the quantization fixtures against ggml's C quantizers, as a second reference.

Runs `ggml_quantize_chunk` (no importance matrix: the `quantize_row_*_ref` code that
`llama_model_quantize` uses) from the libggml-base.so that llama-cpp-python 0.3.36 ships, over
quantize-input.f32, and compares with each quantize-<type>.bin that gguf.quants wrote.

Run with the Python that has llama-cpp-python (scripts/compare-llama-cpp.sh installs it):
    ~/.cache/sparrow/llama-venv/bin/python Fixtures/quant/check_quantize_fixtures_with_ggml.py
"""
import ctypes
import pathlib

import llama_cpp
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
lib = ctypes.CDLL(str(pathlib.Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
lib.ggml_quantize_init.argtypes = [ctypes.c_int]
lib.ggml_quantize_chunk.restype = ctypes.c_size_t
lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_int64, ctypes.c_void_p]
values = np.fromfile(HERE / "quantize-input.f32", dtype="<f4")
failed = 0
for name, ggml_type in [("f16", 1), ("bf16", 30), ("q4_0", 2), ("q4_1", 3), ("q5_0", 6), ("q5_1", 7), ("q8_0", 8)]:
    expected = (HERE / f"quantize-{name}.bin").read_bytes()
    out = np.zeros(len(expected), np.uint8)
    lib.ggml_quantize_init(ggml_type)
    written = lib.ggml_quantize_chunk(ggml_type, values.ctypes.data, out.ctypes.data, 0, len(values) // 256, 256, None)
    same = written == len(expected) and out.tobytes() == expected
    failed += not same
    print(f"{name}: {'same bytes' if same else 'DIFFERENT'} as ggml")
raise SystemExit(1 if failed else 0)
