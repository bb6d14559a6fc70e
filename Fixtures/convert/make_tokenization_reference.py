#!/usr/bin/env python3
"""Writes Fixtures/convert/tokenization.json: how the reference tokenizers tokenize the test texts
of ConvertedModelTests for each tiny checkpoint (llama, mistral, phi3 in Fixtures/transformer/):

- "transformers": Hugging Face `tokenizers` on the directory's tokenizer.json (what transformers'
  fast tokenizers run), with add_special_tokens True and False; special tokens always match;
- "llamacpp": llama.cpp (llama-cpp-python) on the committed `<arch>-f32.gguf`, the converter's own
  file, for add_bos × special.

The two disagree on some texts (a space before the text or after a special token, where the
checkpoints' `Metaspace` pre-tokenizer prepends "▁" only at the start of the text and llama.cpp
after every special token); the test uses each reference for its own loader.

    ~/.cache/sparrow/gguf-venv/bin/pip install tokenizers==0.23.3
    ~/.cache/sparrow/gguf-venv/bin/python Fixtures/convert/make_tokenization_reference.py \\
        [--llama-python ~/.cache/sparrow/llama-venv/bin/python]

Made with tokenizers 0.23.3 and llama-cpp-python 0.3.36 (versions are recorded in the output).
"""
import argparse, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHES = ["llama", "mistral", "phi3"]
TEXTS = [
    "Hello world", " leading space and  two", "line\nbreak\ttab", "numbers 12345 and 3.14",
    "ünïcödé 数字 🦙", "<s> inline </s> special", "<|user|> hi<|end|><|assistant|>", "",
    "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n", "<s>[INST] Hi there [/INST] Hello!</s>",
]


def llamacpp_main(out_path):
    import llama_cpp
    from llama_cpp import Llama
    result = {"version": llama_cpp.__version__, "ids": {}}
    for arch in ARCHES:
        model = Llama(str(ROOT / f"Fixtures/transformer/{arch}-f32.gguf"), vocab_only=True, verbose=False)
        result["ids"][arch] = [
            {"add_bos": add_bos, "special": special, "ids": [model.tokenize(t.encode(), add_bos=add_bos, special=special) for t in TEXTS]}
            for add_bos in (False, True) for special in (False, True)
        ]
    Path(out_path).write_text(json.dumps(result))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-python", default=str(Path.home() / ".cache/sparrow/llama-venv/bin/python"))
    ap.add_argument("--llamacpp", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.llamacpp:
        return llamacpp_main(a.llamacpp)
    import tokenizers
    out = {"texts": TEXTS, "tokenizers_version": tokenizers.__version__}
    for arch in ARCHES:
        tok = tokenizers.Tokenizer.from_file(str(ROOT / f"Fixtures/transformer/{arch}/tokenizer.json"))
        out[arch] = {"transformers": [
            {"add_special_tokens": add, "ids": [tok.encode(t, add_special_tokens=add).ids for t in TEXTS]}
            for add in (False, True)
        ]}
    tmp = ROOT / ".build/tokenization-llamacpp.json"
    tmp.parent.mkdir(exist_ok=True)
    subprocess.run([a.llama_python, __file__, "--llamacpp", str(tmp)], check=True)
    llama = json.loads(tmp.read_text())
    out["llama_cpp_python_version"] = llama["version"]
    for arch in ARCHES:
        out[arch]["llamacpp"] = llama["ids"][arch]
    (ROOT / "Fixtures/convert/tokenization.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    disagree = sum(1 for arch in ARCHES for i in range(len(TEXTS))
                   if out[arch]["transformers"][1]["ids"][i] != out[arch]["llamacpp"][3]["ids"][i])
    print(f"wrote tokenization.json; transformers and llama.cpp disagree on {disagree} (arch, text) pairs with specials on")


if __name__ == "__main__":
    sys.exit(main())
