"""Greedy continuations of the tiny random models (Fixtures/transformer/{llama,mistral,phi3}) by
Hugging Face transformers in float32: the reference for Sparrow's whole request path (tokenizer,
BOS rule, prefill, decode loop, repetition penalty, end tokens) through `Engine.generate`.

    ~/.cache/sparrow/fixtures-venv/bin/python Fixtures/generate/make_generate_reference.py

Writes tiny-greedy.json next to this script. Versions are recorded in the file.
"""
import json
import pathlib
import platform

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = pathlib.Path(__file__).resolve().parent
MODELS = HERE.parent / "transformer"
PROMPTS = ["Hello world", "The quick brown fox jumps over", "1, 2, 3,"]
SETTINGS = [
    {"max_tokens": 12, "repetition_penalty": 1.0},
    {"max_tokens": 12, "repetition_penalty": 1.5},
]

torch.manual_seed(0)
cases = []
for name in ["llama", "mistral", "phi3"]:
    path = MODELS / name
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    eos = model.generation_config.eos_token_id
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        for s in SETTINGS:
            with torch.no_grad():
                out = model.generate(
                    ids, do_sample=False, num_beams=1, max_new_tokens=s["max_tokens"],
                    repetition_penalty=s["repetition_penalty"], eos_token_id=eos, pad_token_id=eos,
                )
            new = out[0, ids.shape[1]:].tolist()
            ends = [eos] if isinstance(eos, int) else list(eos)
            stopped = bool(new) and new[-1] in ends
            cases.append({
                "model": name, "prompt": prompt, "prompt_ids": ids[0].tolist(),
                "max_tokens": s["max_tokens"], "repetition_penalty": s["repetition_penalty"],
                # vLLM (and Sparrow) keep the end token in token_ids.
                "token_ids": new,
                "finish_reason": "stop" if stopped else "length",
            })

report = {
    "versions": {"python": platform.python_version(), "torch": torch.__version__,
                 "transformers": transformers.__version__},
    "settings": "AutoModelForCausalLM float32 eager; generate(do_sample=False, num_beams=1, max_new_tokens, repetition_penalty)",
    "cases": cases,
}
(HERE / "tiny-greedy.json").write_text(json.dumps(report, indent=1) + "\n")
print(f"wrote {len(cases)} cases")
