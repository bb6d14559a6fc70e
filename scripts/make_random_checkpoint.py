#!/usr/bin/env python3
"""Writes a Hugging Face checkpoint directory of TinyLlama-1.1B's shapes with random BF16 weights
(about 2.2 GB in two safetensors shards with an index), for scripts/check-convert-memory.sh. The
tokenizer files are the tiny llama fixture's (Fixtures/transformer/llama), which config.json's
vocab_size of 32000 pads as the converter pads a short vocabulary. Random weights convert exactly as
trained ones of the same shapes and types do. Needs numpy only.

    python3 scripts/make_random_checkpoint.py DIRECTORY
"""
import json, os, shutil, struct, sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "intermediate_size": 5632,
    "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 32000,
    "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
}


def tensors():
    c = CONFIG
    d, ffn, vocab = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    kv = d // c["num_attention_heads"] * c["num_key_value_heads"]
    yield "model.embed_tokens.weight", [vocab, d]
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        yield p + "input_layernorm.weight", [d]
        yield p + "self_attn.q_proj.weight", [d, d]
        yield p + "self_attn.k_proj.weight", [kv, d]
        yield p + "self_attn.v_proj.weight", [kv, d]
        yield p + "self_attn.o_proj.weight", [d, d]
        yield p + "post_attention_layernorm.weight", [d]
        yield p + "mlp.gate_proj.weight", [ffn, d]
        yield p + "mlp.up_proj.weight", [ffn, d]
        yield p + "mlp.down_proj.weight", [d, ffn]
    yield "model.norm.weight", [d]
    yield "lm_head.weight", [vocab, d]


def bf16(shape, rng):
    """Normal(0, 0.02) values (norms: ones) as BF16 bit patterns, rounded to nearest even."""
    values = np.ones(shape, np.float32) if len(shape) == 1 else rng.standard_normal(shape, np.float32) * 0.02
    bits = values.view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")


def write_shard(path, names, rng):
    header, offset = {}, 0
    for name, shape in names:
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded)
        for name, shape in names:
            f.write(bf16(shape, rng).tobytes())


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    everything = list(tensors())
    half = len(everything) // 2
    shards = {"model-00001-of-00002.safetensors": everything[:half], "model-00002-of-00002.safetensors": everything[half:]}
    weight_map = {}
    for file, names in shards.items():
        write_shard(out / file, names, rng)
        weight_map.update({name: file for name, _ in names})
    total = sum(int(np.prod(s)) * 2 for _, s in everything)
    (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}))
    (out / "config.json").write_text(json.dumps(CONFIG, indent=1))
    for name in ["tokenizer.model", "tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(ROOT / "Fixtures/transformer/llama" / name, out / name)
    print(f"wrote {out}: {len(everything)} tensors, {total / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
