#!/usr/bin/env python3
"""Shows what the reference readers do with the JSON cases of Tests/TensorTests' strict-JSON tests
(`SafetensorsStrictJSONTests` and the index tests in `SafetensorsCheckpointTests`), and asserts it.

Headers go through the `safetensors` package (its Rust reader, serde_json); the index goes through
Python's `json.load` on the file opened as UTF-8, which is how transformers reads
model.safetensors.index.json. Run with `safetensors` (and numpy, for `safe_open(..., "numpy")`)
installed: `python3 Fixtures/safetensors/strict_json_reference.py`. Produced with Python 3.11.7,
safetensors 0.8.0 and numpy 2.4.6; it prints one line per case and exits 1 if any differs.
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np
import safetensors
from safetensors import safe_open

ENTRY = b'{"dtype":"U8","shape":[2],"data_offsets":[0,2]}'
DATA = bytes([7, 9])
failures = 0


def check(name, ok, detail):
    global failures
    failures += 0 if ok else 1
    print(("ok   " if ok else "FAIL ") + name + ": " + detail)


def open_header(header, data=DATA):
    """(metadata, [(name, dtype, shape, values)]) or the error message."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + data)
        try:
            with safe_open(path, "numpy") as f:
                tensors = [(k, f.get_slice(k).get_dtype(), f.get_slice(k).get_shape(), f.get_tensor(k).tolist())
                           for k in f.keys()]
                return f.metadata(), tensors
        except Exception as e:  # safetensors raises its own SafetensorError
            return str(e)


def rejected(name, header):
    result = open_header(header)
    check(name, isinstance(result, str) and "invalid JSON in header" in result, repr(result))


# SafetensorsStrictJSONTests.rejectedHeaders
rejected("trailing comma in the header object", b'{"t":' + ENTRY + b',}')
rejected("trailing comma in a shape", b'{"t":{"dtype":"U8","shape":[2,],"data_offsets":[0,2]}}')
rejected("byte order mark", b"\xef\xbb\xbf" + b'{"t":' + ENTRY + b"}")
# SafetensorsStrictJSONTests.negativeZero: serde_json reads -0 as the float -0.0, not a usize.
rejected("-0 as a dimension", b'{"t":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}')
rejected("-0 as an offset", b'{"t":{"dtype":"U8","shape":[0],"data_offsets":[-0,0]}}')

# SafetensorsStrictJSONTests.repeatedKeys: the last value wins.
result = open_header(b'{"t":' + ENTRY + b',"t":{"dtype":"U8","shape":[1,2],"data_offsets":[0,2]}}')
check("repeated tensor name", result == (None, [("t", "U8", [1, 2], [[7, 9]])]), repr(result))
result = open_header(b'{"__metadata__":{"a":"1","a":"2"},"t":' + ENTRY + b"}")
check("repeated metadata key", result == ({"a": "2"}, [("t", "U8", [2], [7, 9])]), repr(result))


def load_index(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.safetensors.index.json")
        with open(path, "wb") as f:
            f.write(text)
        try:
            with open(path, "r", encoding="utf-8") as f:
                return json.load(f)
        except json.JSONDecodeError as e:
            return "JSONDecodeError: " + str(e)


# SafetensorsCheckpointTests.invalidIndexJSON (its last two cases)
for name, text in [
    ("index with a trailing comma", b'{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors",}}'),
    ("index with a byte order mark", b'\xef\xbb\xbf{"weight_map": {}}'),
]:
    result = load_index(text)
    check(name, isinstance(result, str), repr(result))

# SafetensorsCheckpointTests.repeatedIndexKeys
result = load_index(b'{"weight_map": {"lm_head.weight": "absent.safetensors", '
                    b'"lm_head.weight": "model-00002-of-00002.safetensors"}}')
check("repeated weight_map key", result == {"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}},
      repr(result))

print(f"Python {sys.version.split()[0]}, safetensors {safetensors.__version__}, numpy {np.__version__}")
sys.exit(1 if failures else 0)
