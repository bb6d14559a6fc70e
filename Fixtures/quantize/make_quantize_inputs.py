#!/usr/bin/env python3
"""Writes the random-weight GGUF models that `sparrow quantize` is checked on against llama.cpp.

  make_quantize_inputs.py                     the two small committed inputs, into this folder
  make_quantize_inputs.py --shapes-only DIR   also the shape-only models, into DIR (not committed)

Committed (small enough for the repository, used by the Swift tests and scripts/check-quantize.sh):
  kquant-f16.gguf  llama, 8 layers, embedding 256, feed-forward 512, 4 heads / 1 KV head: every row
                   length is a multiple of 256, so every K-quant applies; 1-D norms F32, the rest F16.
  odd-bf16.gguf    llama, 2 layers, embedding 256, feed-forward 80 (ffn_down rows of 80 values, which no
                   32-value block fits: F16 fallback), no output.weight (tied embeddings), weights BF16;
                   plus rope_freqs.weight stored as 2-D [1, 32] (written back 1-D) and a 2-D weight with a
                   5-byte name, "extra", which llama.cpp quantizes (its name test passes 5-byte names).

Both keep their hyperparameters' row lengths but only a few rows per tensor (4, or 32 for the
embeddings): llama.cpp's quantizer, like Sparrow's, reads only names, row lengths, dimensions and
hyperparameters to choose types, and quantizes row by row, so fewer rows change nothing but the size.
They are not meant to be run.

Shape-only (generated into DIR for the reference table, 2 rows per tensor, real row lengths):
  tinyllama   llama, 22 layers, 2048 / 5632, 32 heads / 4 KV heads (TinyLlama-1.1B)
  llama70b    llama, 80 layers, 8192 / 28672, 64 heads / 8 KV heads (Llama-2/3-70B: llama.cpp's 70B rules)
  mixtral     llama, 4 layers, 8 experts of which 2 used, 3-D expert tensors, 4 heads / 1 KV head
  phi3mini    phi3, 32 layers, 3072 / 8192, fused attn_qkv and gate|up, untied output (Phi-3-mini)

Needs gguf 0.19.0 and numpy 2.4.6 (the cached venv ~/.cache/sparrow/gguf-venv has both); seeded, so a
run with the same versions rewrites identical files.
"""
import argparse, importlib.metadata, os, sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0x51A7)


def values(shape):
    """Gaussian rows, each at its own scale between 1e-3 and 1 (what trained weights look like to a
    quantizer: per-row magnitudes differ), with a few outliers."""
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    scale = np.exp(rng.uniform(np.log(1e-3), 0.0, size=(rows, 1)))
    x = rng.standard_normal((rows, shape[-1])) * scale
    outliers = rng.random(x.shape) < 0.002
    x[outliers] *= 20
    return x.reshape(shape).astype(np.float32)


def add(w, name, shape, kind):
    x = values(shape)
    if kind == "f32":
        w.add_tensor(name, x)
    elif kind == "f16":
        w.add_tensor(name, x.astype(np.float16))
    elif kind == "bf16":
        w.add_tensor(name, gguf.quants.quantize(x, gguf.GGMLQuantizationType.BF16), raw_dtype=gguf.GGMLQuantizationType.BF16)
    else:
        raise ValueError(kind)


def llama_like(path, arch, layers, d, ff, heads, kv_heads, vocab_rows, rows, kind, *, tied=False, experts=0, used=0,
               fused=False, extra=()):
    w = gguf.GGUFWriter(path, arch)
    w.add_name(os.path.basename(path))
    w.add_context_length(128)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_block_count(layers)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    if experts:
        w.add_expert_count(experts)
        w.add_expert_used_count(used)
    w.add_file_type(1 if kind == "f16" else 32 if kind == "bf16" else 0)
    head_dim = d // heads
    add(w, "token_embd.weight", [vocab_rows, d], kind)
    add(w, "output_norm.weight", [d], "f32")
    if not tied:
        add(w, "output.weight", [vocab_rows, d], kind)
    for name, shape, k in extra:
        add(w, name, shape, k)
    for l in range(layers):
        b = f"blk.{l}."
        add(w, b + "attn_norm.weight", [d], "f32")
        add(w, b + "ffn_norm.weight", [d], "f32")
        if fused:
            add(w, b + "attn_qkv.weight", [rows, d], kind)
        else:
            add(w, b + "attn_q.weight", [rows, d], kind)
            add(w, b + "attn_k.weight", [rows, d], kind)
            add(w, b + "attn_v.weight", [rows, d], kind)
        add(w, b + "attn_output.weight", [rows, heads * head_dim], kind)
        if experts:
            add(w, b + "ffn_gate_inp.weight", [experts, d], "f32")
            add(w, b + "ffn_gate_exps.weight", [experts, rows, d], kind)
            add(w, b + "ffn_up_exps.weight", [experts, rows, d], kind)
            add(w, b + "ffn_down_exps.weight", [experts, rows, ff], kind)
        else:
            if not fused:
                add(w, b + "ffn_gate.weight", [rows, d], kind)
            add(w, b + "ffn_up.weight", [rows, d], kind)
            add(w, b + "ffn_down.weight", [rows, ff], kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes-only", metavar="DIR")
    a = ap.parse_args()
    print(f"gguf {importlib.metadata.version('gguf')}, numpy {np.__version__}", file=sys.stderr)
    llama_like(os.path.join(HERE, "kquant-f16.gguf"), "llama", 8, 256, 512, 4, 1, 32, 4, "f16")
    llama_like(os.path.join(HERE, "odd-bf16.gguf"), "llama", 2, 256, 80, 2, 2, 32, 4, "bf16", tied=True,
               extra=[("rope_freqs.weight", [1, 32], "f32"), ("extra", [4, 256], "bf16")])
    if a.shapes_only:
        d = a.shapes_only
        os.makedirs(d, exist_ok=True)
        llama_like(os.path.join(d, "tinyllama.gguf"), "llama", 22, 2048, 5632, 32, 4, 2, 2, "f16")
        llama_like(os.path.join(d, "llama70b.gguf"), "llama", 80, 8192, 28672, 64, 8, 2, 2, "f16")
        llama_like(os.path.join(d, "mixtral.gguf"), "llama", 4, 256, 512, 4, 1, 2, 2, "f16", experts=8, used=2)
        llama_like(os.path.join(d, "phi3mini.gguf"), "phi3", 32, 3072, 8192, 32, 32, 2, 2, "f16", fused=True)


if __name__ == "__main__":
    main()
