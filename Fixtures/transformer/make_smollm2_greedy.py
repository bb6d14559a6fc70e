#!/usr/bin/env python3
"""llama.cpp's greedy continuations of SmolLM2-135M-Instruct Q4_1, the reference for Sparrow (issue 4).

For each prompt:
  prompt_ids = llama.cpp's tokenization: llama_tokenize(text, add_special=True, parse_special=True), i.e.
               special tokens such as <|im_start|> are parsed, and BOS is added only if the GGUF's vocabulary
               says so (tokenizer.ggml.add_bos_token; recorded in "versions").
  greedy_ids = 32 tokens; each is the argmax of llama.cpp's logits (Llama.eval, no sampling, no penalties),
               fed back one at a time.  top2_margins[i] = llama.cpp's best minus second-best logit at step i
               (a small margin means a near tie that numerical noise can flip); same_with_f32_kv_cache says
               whether llama.cpp with an F32 KV cache (type_k = type_v = F32) produced the same 32 tokens.
               Generation does NOT stop at an end-of-generation token: it goes on to 32 tokens;
               "eog_positions" lists the indices i in greedy_ids where greedy_ids[i] is such a token.
  step_top     = at each of the 32 steps, llama.cpp's 8 highest logits as [id, logit] (same incremental run).
  step_batched = the logits of those 8 ids at the same positions when llama.cpp evaluates prompt + greedy_ids[:-1]
               as ONE batch (logits_all=True): the same tokens through llama.cpp's prompt path instead of its
               one-token path.  |step_batched - step_top| is llama.cpp's own arithmetic spread, the yardstick
               for how far another correct implementation's logits may sit from step_top
               (scripts/check-smollm2-greedy.sh).

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
N_TOP = 8

SYSTEM = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
# Chosen among ~30 candidates for robust greedy paths: llama.cpp gives the same 32 tokens with its default F16
# KV cache and with an F32 one, and no step is a near tie (see top2_margins).  Many other prompts' greedy paths
# flip within 32 tokens between F16 and F32 KV caches on this Q4_1 model, i.e. they are not a fair target.
PROMPTS = [
    "Monday, Tuesday, Wednesday, Thursday,",
    "Ünïcödé test: naïve façade, 東京 is the capital of",
    "import numpy as np\n\ndef softmax(x):\n",
    SYSTEM + "<|im_start|>user\nWrite a haiku about the ocean.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
]


def main() -> None:
    model_path = subprocess.run(["bash", str(REPO / "scripts/fetch-default-model.sh")], check=True,
                                capture_output=True, text=True).stdout.strip().splitlines()[-1]
    llm = Llama(model_path=model_path, n_ctx=512, n_batch=512, n_threads=2, seed=0, logits_all=False, verbose=False)
    llm_batch = Llama(model_path=model_path, n_ctx=512, n_batch=512, n_threads=2, seed=0, logits_all=True,
                      verbose=False)
    llm32 = Llama(model_path=model_path, n_ctx=512, n_batch=512, n_threads=2, seed=0, logits_all=False, verbose=False,
                  type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    md = llm.metadata
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llm.n_vocab()
    eog = lambda t: bool(llama_cpp.llama_vocab_is_eog(vocab, t))  # noqa: E731

    def greedy(model, ids):
        model.reset()
        model.eval(ids)
        out, margins, tops = [], [], []
        for _ in range(N_GREEDY):
            # With logits_all=False llama-cpp-python no longer copies logits into .scores: read llama.cpp's
            # logits of the last evaluated token directly.
            logits = np.ctypeslib.as_array(model._ctx.get_logits_ith(-1), shape=(n_vocab,)).astype(np.float32)
            nxt = int(np.argmax(logits))
            out.append(nxt)
            top2 = np.partition(logits, -2)[-2:]
            margins.append(round(float(top2[1] - top2[0]), 4))
            best = np.argsort(-logits, kind="stable")[:N_TOP]
            tops.append([[int(t), float(logits[t])] for t in best])
            model.eval([nxt])
        return out, margins, tops

    def batched(ids, out, tops):
        llm_batch.reset()
        llm_batch.eval(ids + out[:-1])
        rows = []
        for i, top in enumerate(tops):
            logits = np.asarray(llm_batch.scores[len(ids) - 1 + i], dtype=np.float32)
            rows.append([float(logits[t]) for t, _ in top])
        return rows

    cases = []
    for text in PROMPTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)  # add_special / parse_special
        out, margins, tops = greedy(llm, ids)
        out32, _, _ = greedy(llm32, ids)
        cases.append({
            "prompt": text,
            "prompt_ids": [int(t) for t in ids],
            "greedy_ids": out,
            "eog_positions": [i for i, t in enumerate(out) if eog(t)],
            "top2_margins": margins,
            "step_top": tops,
            "step_batched": batched(ids, out, tops),
            "same_with_f32_kv_cache": out32 == out,
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
                        "tokenize(text, add_bos=True, special=True); eval(prompt_ids), then 32 times: argmax of "
                        "llama_get_logits_ith(ctx, -1) (first maximum), eval([next]); no sampler, no penalties, "
                        "no stop at end-of-generation tokens; step_batched: a second Llama(logits_all=True) "
                        "evaluating prompt_ids + greedy_ids[:-1] in one eval, read from .scores",
        },
        "model": Path(model_path).name,
        "cases": cases,
    }
    (HERE / "smollm2-greedy.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote smollm2-greedy.json")


if __name__ == "__main__":
    main()
