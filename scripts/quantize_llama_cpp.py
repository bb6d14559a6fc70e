#!/usr/bin/env python3
"""llama.cpp's side of scripts/check-quantize.sh, and the writer of the committed reference table.
Run it with the cached venv's python (~/.cache/sparrow/llama-venv: llama-cpp-python 0.3.36, numpy).

  quantize_llama_cpp.py quantize IN OUT TYPE [--threads N]
      llama_model_quantize(IN, OUT) with llama_model_quantize_default_params() and ftype
      LLAMA_FTYPE_MOSTLY_<TYPE> (TYPE: F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K)
  quantize_llama_cpp.py compare EXPECTED ACTUAL
      compares two GGUF files: header, every metadata entry (key, type, bytes, order), every tensor's
      name, type, dimensions and offset, every tensor's data, and the bytes between; prints what differs
      and exits 1 if anything does, else prints "identical" (the whole files are then equal byte for byte)
  quantize_llama_cpp.py reference OUT.json NAME=PATH[:FIXTURE] ...
      for every TYPE, quantizes each PATH with llama.cpp and writes the table the Swift test
      QuantizationReferenceTests reads: per case the input's scalar metadata and tensor list, the output's
      tensor order and dimensions, and per TYPE each tensor's type; for a case given a FIXTURE path
      (the same file, relative to Fixtures/), also the output's size, SHA-256, and each tensor's data SHA-256

The GGUF parsing here is a few lines of struct unpacking, independent of both gguf-py and Sparrow.
"""
import hashlib, json, os, struct, sys, tempfile

TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"]
GGML_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
              7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
              12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 30: ("BF16", 1, 2)}
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class GGUF:
    """Header, metadata (each entry's raw bytes and, for scalars and strings, its value) and tensor table."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"GGUF":
            raise SystemExit(f"{path}: not a GGUF file")
        self.version, n_tensors, n_kv = struct.unpack_from("<IQQ", d, 4)
        at = 24
        self.kv = []  # (key, type, raw bytes of type+value, value or None)
        for _ in range(n_kv):
            key, at = self._string(at)
            t = struct.unpack_from("<I", d, at)[0]
            start = at
            at, value = self._value(t, at + 4)
            self.kv.append((key, t, d[start:at], value))
        self.tensors = []  # (name, ne in GGUF order, type id, offset)
        for _ in range(n_tensors):
            name, at = self._string(at)
            n_dims = struct.unpack_from("<I", d, at)[0]
            ne = list(struct.unpack_from(f"<{n_dims}Q", d, at + 4))
            at += 4 + 8 * n_dims
            t, off = struct.unpack_from("<IQ", d, at)
            at += 12
            self.tensors.append((name, ne, t, off))
        self.header_end = at
        self.alignment = next((v for k, _, _, v in self.kv if k == "general.alignment"), 32)
        self.data_offset = (at + self.alignment - 1) // self.alignment * self.alignment

    def _string(self, at):
        n = struct.unpack_from("<Q", self.data, at)[0]
        return self.data[at + 8:at + 8 + n].decode("utf-8", "surrogateescape"), at + 8 + n

    def _value(self, t, at):
        if t in SCALAR:
            return at + struct.calcsize(SCALAR[t]), struct.unpack_from(SCALAR[t], self.data, at)[0]
        if t == 8:
            s, at = self._string(at)
            return at, s
        if t == 9:
            et, n = struct.unpack_from("<IQ", self.data, at)
            at += 12
            for _ in range(n):
                at, _ = self._value(et, at)
            return at, None
        raise SystemExit(f"{self.path}: unknown metadata type {t}")

    def tensor_bytes(self, tensor):
        name, ne, t, off = tensor
        _, block, size = GGML_TYPES[t]
        n = 1
        for x in ne:
            n *= x
        start = self.data_offset + off
        return self.data[start:start + n // block * size]


def quantize(inp, out, type_name, threads=0):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + type_name)
    params.nthread = threads
    if llama_cpp.llama_model_quantize(inp.encode(), out.encode(), params) != 0:
        raise SystemExit(f"llama_model_quantize({inp}, {type_name}) failed")


def compare(expected_path, actual_path):
    a, b = GGUF(expected_path), GGUF(actual_path)
    problems = []
    if (a.version, len(a.kv), len(a.tensors)) != (b.version, len(b.kv), len(b.tensors)):
        problems.append(f"header: version/kv/tensors {a.version}/{len(a.kv)}/{len(a.tensors)} vs "
                        f"{b.version}/{len(b.kv)}/{len(b.tensors)}")
    ka, kb = [k for k, *_ in a.kv], [k for k, *_ in b.kv]
    for k in ka:
        if k not in kb:
            problems.append(f"metadata {k}: only in {expected_path}")
    for k in kb:
        if k not in ka:
            problems.append(f"metadata {k}: only in {actual_path}")
    if [k for k in ka if k in kb] != [k for k in kb if k in ka]:
        problems.append("metadata: keys in another order")
    raw_b = {k: (t, raw, v) for k, t, raw, v in b.kv}
    for k, t, raw, v in a.kv:
        if k in raw_b and raw_b[k][1] != raw:
            problems.append(f"metadata {k}: {t}:{v!r} vs {raw_b[k][0]}:{raw_b[k][2]!r}")
    tb = {t[0]: t for t in b.tensors}
    if [t[0] for t in a.tensors] != [t[0] for t in b.tensors]:
        problems.append("tensors: other names or order")
    differing = []
    for t in a.tensors:
        u = tb.get(t[0])
        if u is None:
            problems.append(f"tensor {t[0]}: only in {expected_path}")
            continue
        if t[1:] != u[1:]:
            problems.append(f"tensor {t[0]}: dims/type/offset {t[1]}/{GGML_TYPES.get(t[2], (t[2],))[0]}/{t[3]} vs "
                            f"{u[1]}/{GGML_TYPES.get(u[2], (u[2],))[0]}/{u[3]}")
        elif a.tensor_bytes(t) != b.tensor_bytes(u):
            x, y = a.tensor_bytes(t), b.tensor_bytes(u)
            first = next(i for i in range(min(len(x), len(y))) if x[i] != y[i]) if len(x) == len(y) else -1
            differing.append(f"tensor {t[0]} ({GGML_TYPES[t[2]][0]}): data differs from byte {first}")
    problems += differing[:20]
    if len(differing) > 20:
        problems.append(f"... and {len(differing) - 20} more tensors")
    if not problems and a.data != b.data:
        problems.append(f"files differ outside metadata and tensor data ({len(a.data)} vs {len(b.data)} bytes)")
    for p in problems:
        print(p)
    if problems:
        return 1
    print("identical")
    return 0


def reference(out_json, specs):
    import llama_cpp, numpy
    cases = []
    for spec in specs:
        name, _, rest = spec.partition("=")
        path, _, fixture = rest.partition(":")
        inp = GGUF(path)
        case = {"name": name, "fixture": fixture or None,
                "metadata": [[k, t, v] for k, t, _, v in inp.kv if t != 9],
                "tensors": [[n, GGML_TYPES[t][0], list(reversed(ne))] for n, ne, t, _ in inp.tensors],
                "outputs": {}}
        for type_name in TYPES:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "out.gguf")
                quantize(path, out, type_name)
                g = GGUF(out)
            order = [n for n, *_ in g.tensors]
            dims = [list(reversed(ne)) for _, ne, _, _ in g.tensors]
            if "order" in case:
                assert case["order"] == order and case["dims"] == dims, f"{name} {type_name}: order or dims changed"
            case["order"], case["dims"] = order, dims
            entry = {"types": [GGML_TYPES[t][0] for _, _, t, _ in g.tensors]}
            if fixture:
                entry["size"] = len(g.data)
                entry["sha256"] = hashlib.sha256(g.data).hexdigest()
                entry["tensor_sha256"] = [hashlib.sha256(g.tensor_bytes(t)).hexdigest()[:16] for t in g.tensors]
            case["outputs"][type_name] = entry
            print(f"{name} {type_name}", file=sys.stderr)
        cases.append(case)
    doc = {"generator": "scripts/quantize_llama_cpp.py reference",
           "llama_cpp_python": llama_cpp.__version__, "numpy": numpy.__version__,
           "types": TYPES, "cases": cases}
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main():
    args = sys.argv[1:]
    if len(args) >= 4 and args[0] == "quantize":
        threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 0
        quantize(args[1], args[2], args[3], threads)
    elif len(args) == 3 and args[0] == "compare":
        sys.exit(compare(args[1], args[2]))
    elif len(args) >= 3 and args[0] == "reference":
        reference(args[1], args[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
