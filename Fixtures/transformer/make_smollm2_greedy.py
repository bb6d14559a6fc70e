#!/usr/bin/env python3
"""llama.cpp's greedy continuations of SmolLM2-135M-Instruct Q4_1, the reference for Sparrow (issue 4).

For each prompt:
  prompt_ids = llama.cpp's tokenization: llama_tokenize(text, add_special=True, parse_special=True), i.e.
               special tokens such as <|im_start|> are parsed, and BOS is added only if the GGUF's vocabulary
               says so (tokenizer.ggml.add_bos_token; recorded in "versions").
  greedy_ids = 32 tokens; each is the argmax of llama.cpp's logits (Llama.eval, no sampling, no penalties),
               fed back one at a time.  Generation does NOT stop at an end-of-generation token: it goes on to
               32 tokens; "eog_positions" lists the indices i in greedy_ids where greedy_ids[i] is such a token.

Run with an interpreter that has llama-cpp-python (0.3.36):
  /root/.cache/sparrow/llama-venv/bin/python Fixtures/transformer/make_smollm2_greedy.py
The model path comes from scripts/fetch-default-model.sh (downloads it once).
"""
from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import numpy as np
import llama_cpp
from llama_cpp import Llama

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
N_GREEDY = 32

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the boiling point of water at sea level?<|im_end|>\n<|im_start|>assistant\n",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "In 2024, the café served 1,234 crêpes — a record! Next year, they hope to",
]


def main() -> None:
    model_path = subprocess.run(["bash", str(REPO / "scripts/fetch-default-model.sh")], check=True,
                                capture_output=True, text=True).stdout.strip().splitlines()[-1]
    llm = Llama(model_path=model_path, n_ctx=512, n_batch=512, n_threads=2, seed=0, logits_all=False, verbose=False)
    md = llm.metadata
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    eog = lambda t: bool(llama_cpp.llama_vocab_is_eog(vocab, t))  # noqa: E731

    cases = []
    for text in PROMPTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)  # add_special / parse_special
        llm.reset()
        llm.eval(ids)
        out = []
        for _ in range(N_GREEDY):
            logits = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            nxt = int(np.argmax(logits))
            out.append(nxt)
            llm.eval([nxt])
        cases.append({
            "prompt": text,
            "prompt_ids": [int(t) for t in ids],
            "greedy_ids": out,
            "eog_positions": [i for i, t in enumerate(out) if eog(t)],
            "greedy_text": llm.detokenize(out, special=True).decode("utf-8", errors="replace"),
        })
        print(repr(text[:40]), len(ids), "->", repr(cases[-1]["greedy_text"]), flush=True)

    doc = {
        "versions": {
            "python": platform.python_version(),
            "llama_cpp_python": llama_cpp.__version__,
            "llama_cpp_commit": "0c1e57098",
            "numpy": np.__version__,
            "gguf_tokenizer.ggml.add_bos_token": md.get("tokenizer.ggml.add_bos_token", "(absent)"),
            "gguf_tokenizer.ggml.pre": md.get("tokenizer.ggml.pre", "(absent)"),
            "settings": "Llama(n_ctx=512, n_batch=512, n_threads=2, logits_all=False), default KV cache (f16); "
                        "tokenize(text, add_bos=True, special=True); eval(prompt_ids) then argmax of the last "
                        "row of scores, eval([next]) one token at a time, 32 times; no sampler, no penalties",
        },
        "model": Path(model_path).name,
        "cases": cases,
    }
    (HERE / "smollm2-greedy.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote smollm2-greedy.json")


if __name__ == "__main__":
    main()
