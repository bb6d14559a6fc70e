#!/usr/bin/env python3
"""llama.cpp's side of scripts/check-convert.sh. Run it with the cached venv's python
(~/.cache/sparrow/llama-venv: llama-cpp-python 0.3.36, numpy).

  check_convert_llama_cpp.py check ARCH TYPE GGUF DIRECTORY SPARROW
      loads GGUF (Sparrow's conversion of the Hugging Face fixture DIRECTORY to TYPE, F32 or F16) in
      llama.cpp, evaluates the 32 tokens of Fixtures/transformer/expected/<arch>.json (mistral-full-attention
      for mistral: GGUF has no sliding window) with an F32 KV cache, and compares its logits with transformers'
      float32 logits: F32 within 1e-4 (the parity tests' bound), F16 within 1% of the logit range with the
      same argmax at >= 95% of positions. For F16 it also compares with Fixtures/convert/reference.json's
      llama.cpp logits on the reference F16 file (the same file: identical logits expected). Then it
      tokenizes sample texts with llama.cpp on GGUF and with `SPARROW tokenize` on GGUF and on DIRECTORY,
      and compares the ids. The directory tokenizes as transformers does, which differs from llama.cpp
      where the checkpoint's Metaspace pre-tokenizer prepends "▁" only at the start of the text; those
      texts print as REFERENCES DIFFER with transformers' ids (Fixtures/convert/tokenization.json).
      Prints one line per check; exits 1 if a check fails.
"""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["Hello world", " leading space and  two", "line\nbreak\ttab", "numbers 12345 and 3.14",
         "ünïcödé 数字 🦙", "<s> inline </s> special"]


def main():
    if len(sys.argv) != 7 or sys.argv[1] != "check":
        raise SystemExit(__doc__)
    _, _, arch, typ, gguf_path, directory, sparrow = sys.argv
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama

    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + f"{arch} {typ}: {what}", flush=True)
        if not ok:
            failures.append(what)

    expectation = "mistral-full-attention" if arch == "mistral" else arch
    e = json.loads((ROOT / f"Fixtures/transformer/expected/{expectation}.json").read_text())
    ids = e["prompt_ids"] + e["greedy_ids"]
    transformers = np.asarray(e["prompt_logits"] + e["decode_logits"], dtype=np.float32)
    llm = Llama(model_path=gguf_path, logits_all=True, n_ctx=64, n_batch=64, n_threads=2, seed=0, flash_attn=False,
                verbose=False, type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    check(True, f"llama.cpp {llama_cpp.__version__} loads the file")
    llm.eval(ids)
    ours = np.asarray(llm.scores[: len(ids)], dtype=np.float32)
    delta = float(np.abs(ours - transformers).max())
    span = float(transformers.max() - transformers.min())
    agree = int((ours.argmax(-1) == transformers.argmax(-1)).sum())
    if typ == "F32":
        check(delta <= 1e-4, f"llama.cpp vs transformers max |dlogit| {delta:.3g} <= 1e-4; argmax {agree}/{len(ids)}")
    else:
        check(delta <= 0.01 * span and agree >= 0.95 * len(ids),
              f"llama.cpp vs transformers max |dlogit| {delta:.3g} = {delta / span:.3%} of the range (<= 1%); "
              f"argmax {agree}/{len(ids)}")
        ref = json.loads((ROOT / "Fixtures/convert/reference.json").read_text())[arch]["llamacpp_f16"]
        same = np.array_equal(ours, np.asarray(ref["logits"], dtype=np.float32))
        check(same, "llama.cpp's logits equal those on the reference F16 conversion (reference.json)")

    def sparrow_ids(model, text):
        out = subprocess.run([sparrow, "tokenize", "--model", model, "--bos", "--parse-special", "--", text],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    for text in TEXTS:
        theirs = llm.tokenize(text.encode(), add_bos=True, special=True)
        on_gguf = sparrow_ids(gguf_path, text)
        on_dir = sparrow_ids(directory, text)
        check(theirs == on_gguf, f"tokens of {text!r} on the GGUF: llama.cpp {theirs}, Sparrow {on_gguf}")
        reference = json.loads((ROOT / "Fixtures/convert/tokenization.json").read_text())
        transformers = None
        if text in reference["texts"]:
            transformers = reference[arch]["transformers"][1]["ids"][reference["texts"].index(text)]
        if transformers is not None and transformers != theirs:
            check(on_dir == transformers, f"REFERENCES DIFFER on {text!r}: Sparrow on the directory {on_dir}, "
                                          f"transformers {transformers}; llama.cpp on the GGUF {theirs}")
        else:
            check(on_dir == on_gguf, f"tokens of {text!r}: Sparrow on the directory {on_dir}, on the GGUF {on_gguf}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
