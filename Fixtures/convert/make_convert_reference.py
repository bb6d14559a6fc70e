#!/usr/bin/env python3
"""Writes Fixtures/convert/reference.json: what llama.cpp's tools make of the tiny Hugging Face fixtures
(Fixtures/transformer/<arch>/), for HuggingFaceConversionTests to hold Sparrow's converter to.

Run it with the gguf venv's python (gguf 0.19.0, numpy):
  ~/.cache/sparrow/gguf-venv/bin/python Fixtures/convert/make_convert_reference.py \
      [--llama-python ~/.cache/sparrow/llama-venv/bin/python]

Per architecture (llama, mistral, phi3):
- F32: the committed <arch>-f32.gguf is convert_hf_to_gguf.py's own output (make_tiny_models.py);
  its SHA-256 is recorded.
- F16 and BF16: what `convert_hf_to_gguf.py --outtype f16|bf16` writes for the same directory. The
  converter's outtype changes two things only: `general.file_type` (1, 32) and the matrices' data,
  each `gguf.quants.quantize(float32 data, F16|BF16)` of the very float32 array its F32 run writes (norms
  and 1-D tensors stay F32). So the file is rebuilt here from the F32 conversion with gguf-py's
  GGUFWriter (the converter's writer), keeping every key, type and order; SHA-256 recorded.
- Q8_0, Q4_0, Q4_K_M, Q6_K: llama.cpp's llama_model_quantize (llama-cpp-python 0.3.36, through
  scripts/quantize_llama_cpp.py) of that F16 file, the converter's default `--outtype auto` for
  float32 weights: the two-command route `sparrow quantize DIR OUT --type T` stands for. SHA-256 recorded.
- llama.cpp's logits on the F16 file for the expectation's 32 tokens (prompt_ids + greedy_ids of
  Fixtures/transformer/expected/<arch>.json, mistral-full-attention.json for mistral: the GGUF has no
  sliding window), with an F32 KV cache, as make_tiny_models.py evaluates the Q8_0 file.

Versions: gguf 0.19.0, numpy 2.4.6, llama-cpp-python 0.3.36 (llama.cpp 0c1e57098); recorded in the output.
"""
import argparse, hashlib, json, os, platform, subprocess, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARCHS = ["llama", "mistral", "phi3"]
QUANT_TYPES = ["Q8_0", "Q4_0", "Q4_K_M", "Q6_K"]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rebuild(f32_path, out_path, qtype_name):
    """The converter's --outtype f16/bf16 file, from its f32 file."""
    import numpy as np
    import gguf

    qtype = getattr(gguf.GGMLQuantizationType, qtype_name)
    file_type = {"F16": 1, "BF16": 32}[qtype_name]
    r = gguf.GGUFReader(str(f32_path))
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(str(out_path), arch)
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = file_type if key == "general.file_type" else field.contents()
        sub = field.types[1] if len(field.types) > 1 else None
        w.add_key_value(key, value, field.types[0], sub_type=sub)
    for t in r.tensors:
        data = np.array(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)])
        # convert_hf_to_gguf.py: 1-D tensors and norms F32, every other weight the outtype.
        if data.ndim <= 1 or t.name.endswith("_norm.weight"):
            w.add_tensor(t.name, data)
        else:
            w.add_tensor(t.name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llamacpp_eval(py, model, ids):
    with tempfile.TemporaryDirectory() as tmp:
        req, res = Path(tmp) / "req.json", Path(tmp) / "res.json"
        req.write_text(json.dumps({"model": str(model), "ids": ids}))
        subprocess.run([py, __file__, "--llamacpp-eval", str(req), str(res)], check=True)
        return json.loads(res.read_text())


def llamacpp_eval_main(req_path, res_path):
    """Runs in the llama-cpp-python interpreter."""
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama

    req = json.loads(Path(req_path).read_text())
    llm = Llama(model_path=req["model"], logits_all=True, n_ctx=64, n_batch=64, n_threads=2, seed=0,
                flash_attn=False, verbose=False, type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    llm.eval(req["ids"])
    scores = np.asarray(llm.scores[: len(req["ids"])], dtype=np.float32)
    Path(res_path).write_text(json.dumps({
        "logits": [[float(x) for x in row] for row in scores],
        "llama_cpp_python": llama_cpp.__version__,
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-python", default=str(Path.home() / ".cache/sparrow/llama-venv/bin/python"))
    ap.add_argument("--llamacpp-eval", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.llamacpp_eval:
        llamacpp_eval_main(*a.llamacpp_eval)
        return
    import numpy
    import gguf  # noqa: F401
    from importlib.metadata import version

    out = {"versions": {"gguf": version("gguf"), "numpy": numpy.__version__, "python": platform.python_version()}}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ARCHS:
            f32 = ROOT / f"Fixtures/transformer/{arch}-f32.gguf"
            entry = {"F32": sha256(f32)}
            for name in ["F16", "BF16"]:
                path = Path(tmp) / f"{arch}-{name}.gguf"
                rebuild(f32, path, name)
                entry[name] = sha256(path)
            f16 = Path(tmp) / f"{arch}-F16.gguf"
            for t in QUANT_TYPES:
                q = Path(tmp) / f"{arch}-{t}.gguf"
                subprocess.run([a.llama_python, str(ROOT / "scripts/quantize_llama_cpp.py"), "quantize", str(f16), str(q), t],
                               check=True, stdout=subprocess.DEVNULL)
                entry[t] = sha256(q)
            expectation = "mistral-full-attention" if arch == "mistral" else arch
            e = json.loads((ROOT / f"Fixtures/transformer/expected/{expectation}.json").read_text())
            ids = e["prompt_ids"] + e["greedy_ids"]
            res = llamacpp_eval(a.llama_python, f16, ids)
            out["versions"]["llama_cpp_python"] = res["llama_cpp_python"]
            entry["llamacpp_f16"] = {"expectation": expectation, "ids": ids, "logits": res["logits"]}
            out[arch] = entry
            print(arch, {k: v for k, v in entry.items() if k != "llamacpp_f16"}, flush=True)
    (HERE / "reference.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
