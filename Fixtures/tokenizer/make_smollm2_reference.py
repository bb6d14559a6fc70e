#!/usr/bin/env python3
"""SmolLM2's tokenizer as llama.cpp runs it: reference ids for Sparrow's SmolLM2TokenizerTests.

Writes two files next to this script:

  smollm2-vocab.gguf       the vocabulary of SmolLM2-135M-Instruct (the default model, 98 MB, not
                           committed): its tokenizer.* keys (tokens, token types, merges, special ids,
                           flags, chat template) and the small llama.* / general.* scalars llama.cpp
                           needs to open a file, no tensors; like llama.cpp's own ggml-vocab-*.gguf.
                           SmolLM2 is Apache-2.0 (HuggingFaceTB).
  smollm2-reference.json   for each text below, the ids llama-cpp-python gives (add_special and
                           parse_special as listed) and the text it decodes them back to, with the
                           llama-cpp-python version. The ids are checked to be the same from the full
                           model file and from smollm2-vocab.gguf.

Run from the repository root with a Python that has `gguf` (0.19.0 was used):
    python3 Fixtures/tokenizer/make_smollm2_reference.py
It calls the llama-cpp-python interpreter (SPARROW_LLAMA_PYTHON, default
~/.cache/sparrow/llama-venv/bin/python; llama-cpp-python 0.3.36 was used) for the llama.cpp part,
and scripts/fetch-default-model.sh for the model path.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VOCAB = os.path.join(HERE, "smollm2-vocab.gguf")
REFERENCE = os.path.join(HERE, "smollm2-reference.json")

CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")

# (text, add_special, parse_special). The vectors of llama.cpp were made without either; the chat
# texts also run with special-token parsing, the way a prompt is encoded.
CASES = [
    ("Hello world", False, False),
    ("The quick brown fox jumps over the lazy dog.", False, False),
    ("It's a well-known fact that we'll see, they're sure, I'd say, you've done, DON'T SHOUT.", False, False),
    ("SmolLM2 is a family of compact language models available in three sizes: 135M, 360M, and 1.7B parameters.",
     False, False),
    ("def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n", False, False),
    ("func encode(_ text: String) -> [Int] {\n\tvar ids: [Int] = []\n\treturn ids // TODO\n}", False, False),
    ('{"name": "sparrow", "version": "0.1.0", "tags": ["swift", "llm"], "ok": true}', False, False),
    ("if (x >= 10 && y != NULL) { printf(\"%d\\n\", x * y); }", False, False),
    ("自然语言处理是人工智能的一个重要领域。", False, False),
    ("東京は日本の首都です。カタカナとひらがな。", False, False),
    ("한국어 문장도 토큰화합니다.", False, False),
    ("Emoji: 🙂 👍🏽 👨‍👩‍👧 🇯🇵 ❤️", False, False),
    ("    four spaces, then\ttab\t\tand  two   three    four", False, False),
    ("\n\n\nthree newlines\r\n crlf \n \n trailing   ", False, False),
    ("   ", False, False),
    ("Numbers: 0 7 42 123 2024 3.14159 1,000,000 +1-555-0100 1e-9 0x1F", False, False),
    ("Call 867-5309 or visit https://example.com/path?q=1&r=2#frag, email me@example.org.", False, False),
    ("Ελληνικά, русский язык, العربية, עברית, हिन्दी, ไทย", False, False),
    ("café vs cafe\u0301, naïve, Ångström, ß, œ, ŀ", False, False),
    ("**Markdown** _emphasis_ `code` > quote\n- item 1\n- item 2\n\n| a | b |\n|---|---|", False, False),
    ("a" * 64 + " " + "!" * 20 + " " + "ab" * 20, False, False),
    ("Control \x01\x7f and zero-width \u200b\ufeff characters; new in Unicode 16: \u1c89.", False, False),
    ("<|im_start|>user\nHi there<|im_end|>", False, False),
    ("<|im_start|>user\nHi there<|im_end|>", False, True),
    (CHAT, False, False),
    (CHAT, False, True),
    (CHAT, True, True),
    ("Text with <|endoftext|> inside and <|im_end|>glued<|im_start|>", False, True),
    ("Text with <|endoftext|> inside and <|im_end|>glued<|im_start|>", False, False),
    ("<repo_name>sparrow<file_sep>main.swift\nprint(1)", False, True),
    ("", False, False),
    (" ", False, False),
]


def model_path():
    out = subprocess.run([os.path.join(ROOT, "scripts", "fetch-default-model.sh")], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def write_vocab(source, dest):
    """Copies every key except tensor data into a tensor-free GGUF."""
    import gguf

    reader = gguf.GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dest, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def tokenize_with_llama_cpp(paths):
    """Runs in the llama-cpp-python interpreter: ids and decoded text for every case, per file."""
    import llama_cpp

    results = []
    for path in paths:
        llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        rows = []
        for text, add_special, parse_special in CASES:
            ids = llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=parse_special)
            rows.append({
                "ids": ids,
                "decoded": llm.detokenize(ids, special=False).decode("utf-8", "replace"),
                "decoded_special": llm.detokenize(ids, special=True).decode("utf-8", "replace"),
            })
        results.append(rows)
    return {"version": llama_cpp.__version__, "results": results}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--llama-cpp":
        json.dump(tokenize_with_llama_cpp(sys.argv[2:]), sys.stdout)
        return
    model = model_path()
    write_vocab(model, VOCAB)
    python = os.environ.get("SPARROW_LLAMA_PYTHON",
                            os.path.expanduser("~/.cache/sparrow/llama-venv/bin/python"))
    out = subprocess.run([python, os.path.abspath(__file__), "--llama-cpp", model, VOCAB],
                         check=True, capture_output=True, text=True).stdout
    llama = json.loads(out)
    full, vocab_only = llama["results"]
    assert full == vocab_only, "the extracted vocabulary tokenizes differently from the model file"
    cases = [dict(text=text, add_special=add_special, parse_special=parse_special, **row)
             for (text, add_special, parse_special), row in zip(CASES, full)]
    with open(REFERENCE, "w", encoding="utf-8") as f:
        json.dump({
            "generator": "Fixtures/tokenizer/make_smollm2_reference.py",
            "llama_cpp_python": llama["version"],
            "model": os.path.basename(model),
            "vocabulary": os.path.basename(VOCAB),
            "cases": cases,
        }, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {VOCAB} ({os.path.getsize(VOCAB)} bytes) and {REFERENCE} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
