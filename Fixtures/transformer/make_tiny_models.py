#!/usr/bin/env python3
"""Tiny random-weight Llama / Mistral / Phi-3 reference fixtures for Sparrow's Transformer (issue 4).

For each architecture this script
  1. trains a tiny SentencePiece BPE tokenizer (byte fallback, Llama-2 settings) whose vocabulary size
     equals the model's, and saves it as tokenizer.model + Hugging Face tokenizer.json/tokenizer_config.json;
  2. builds the model with Hugging Face transformers (float32, fixed seed, weights re-drawn with a
     larger std so that logits have a sensible range) and saves it with save_pretrained(safe_serialization=True)
     under Fixtures/transformer/<arch>/;
  3. reloads it from disk (attn_implementation="eager", float32) and computes
       prompt_logits  (every position of a fixed 24-token prompt, one batched forward),
       greedy_ids     (8 argmax continuations, each fed back through the KV cache),
       decode_logits  (the logits of each of those 8 decode steps);
     and cross-checks them against (a) a cache-free forward of all 32 tokens and (b) an independent
     float64 numpy implementation of the architecture (which pins down the RoPE / sliding-window semantics);
  4. converts the directory to GGUF with llama.cpp's own converter (convert_hf_to_gguf.py) as
     <arch>-f32.gguf and <arch>-q8_0.gguf;
  5. runs llama-cpp-python on <arch>-q8_0.gguf (logits_all=True, F32 KV cache) over prompt_ids + greedy_ids and
     stores its 32 rows of logits; cross-checks (report.json): llama.cpp on the F32 file vs transformers, a numpy
     forward straight from each GGUF (with and without ggml's Q8_0 rounding of activations) vs llama.cpp;
  6. writes expected/<arch>.json.

Usage (see README.md in this folder):
  python make_tiny_models.py [--arch llama,mistral,phi3] [--llama-cpp-src DIR] [--llama-python PY]

Needs: torch, transformers, sentencepiece, numpy (+ the converter's own needs: gguf-py from the same
vendored llama.cpp tree, which the converter puts on sys.path itself, tqdm, pyyaml, requests) in this
interpreter, and llama-cpp-python in --llama-python (defaults to this interpreter if it can import
llama_cpp, else /root/.cache/sparrow/llama-venv/bin/python).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
LLAMA_CPP_COMMIT = "0c1e57098"  # from llama-cpp-python 0.3.36's CHANGELOG ("update llama.cpp to ggml-org/llama.cpp@0c1e57098")
SEED = 20240604
N_PROMPT = 24
N_DECODE = 8
SPECIAL_IDS = (0, 1, 2)  # <unk>, <s>, </s>

# ---------------------------------------------------------------------------------------------------
# Model definitions.  Shared: 2 layers, hidden 64, 4 heads, 2 KV heads (grouped-query), head_dim 16.
# ---------------------------------------------------------------------------------------------------
ARCHS = {
    "llama": dict(
        cls="LlamaForCausalLM", vocab_size=384, intermediate_size=128, rope_theta=500000.0,
        tie_word_embeddings=False, rms_norm_eps=1e-5, max_position_embeddings=128, weight_std=0.1,
    ),
    "mistral": dict(
        cls="MistralForCausalLM", vocab_size=320, intermediate_size=160, rope_theta=10000.0,
        tie_word_embeddings=True, rms_norm_eps=1e-5, max_position_embeddings=128, weight_std=0.1,
        sliding_window=8, legacy_rope_theta=True,
    ),
    "phi3": dict(
        cls="Phi3ForCausalLM", vocab_size=512, intermediate_size=96, rope_theta=10000.0,
        tie_word_embeddings=True, rms_norm_eps=1e-5, max_position_embeddings=128, weight_std=0.1,
        # llama.cpp's vocabulary loader needs "<|endoftext|>" in any model whose general.name contains "phi3";
        # these are Phi-3's own added special tokens (Phi-3 has them at 32000+; here at 507..511).
        added_tokens=("<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"),
    ),
}
COMMON = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16)


def f32(x) -> float:
    import numpy as np
    return float(np.float32(x))


def rows(a) -> list[list[float]]:
    import numpy as np
    a = np.asarray(a, dtype=np.float32)
    return [[float(v) for v in row] for row in a]


# ---------------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------------
def corpus_lines() -> list[str]:
    """A deterministic made-up corpus (no external data) with enough structure for BPE merges."""
    rng = random.Random(1234)
    syll = ["ka", "to", "ri", "ne", "su", "mo", "la", "pi", "de", "go", "an", "er", "in", "th", "qu",
            "sh", "ow", "ee", "ly", "ch"]
    words = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 3))) for _ in range(300)]
    lines = []
    for _ in range(3000):
        s = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        lines.append(s.capitalize() + rng.choice([".", ",", "!", "?", ";"]) + " " + str(rng.randint(0, 999)))
    return lines


def make_tokenizer(out_dir: Path, vocab_size: int, added: tuple[str, ...] = ()) -> list[int]:
    """SentencePiece model of vocab_size - len(added) pieces, then `added` as special added tokens (ids at the
    end, as in Phi-3).  Returns the ids of the added tokens."""
    import sentencepiece as spm
    from tokenizers import AddedToken
    from transformers import LlamaTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(corpus_lines()), encoding="utf-8")
        # Llama-2's SentencePiece settings: BPE, byte fallback, identity normalisation, dummy prefix,
        # digits split, <unk>=0 <s>=1 </s>=2, no pad.
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "sp"), vocab_size=vocab_size - len(added), model_type="bpe",
            byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            normalization_rule_name="identity", add_dummy_prefix=True, remove_extra_whitespaces=False,
            split_digits=True, allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=str(Path(tmp) / "sp.model"))
        assert sp.vocab_size() == vocab_size - len(added), (sp.vocab_size(), vocab_size)
        # The model proto records the trainer's input path and model prefix: make them independent of tmp.
        from sentencepiece import sentencepiece_model_pb2 as pb
        m = pb.ModelProto()
        m.ParseFromString((Path(tmp) / "sp.model").read_bytes())
        del m.trainer_spec.input[:]
        m.trainer_spec.input.append("corpus.txt")
        m.trainer_spec.model_prefix = "sp"
        (out_dir / "tokenizer.model").write_bytes(m.SerializeToString())
    # Hugging Face files (tokenizer.json + tokenizer_config.json), converted by transformers from tokenizer.model.
    tok = LlamaTokenizer.from_pretrained(str(out_dir), add_bos_token=True, add_eos_token=False)
    if added:
        tok.add_tokens([AddedToken(t, special=True, normalized=False, rstrip=True) for t in added],
                       special_tokens=True)
        tok.eos_token = added[0]
    assert len(tok) == vocab_size, (len(tok), vocab_size)
    tok.save_pretrained(str(out_dir))
    text = "Kato shee ly 123!"
    assert tok.encode(text) == [1] + sp.encode(text), (tok.encode(text), sp.encode(text))
    ids = [tok.convert_tokens_to_ids(t) for t in added]
    assert ids == list(range(vocab_size - len(added), vocab_size)), ids
    return ids


# ---------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------
def build_model(arch: str, out_dir: Path, eos_token_id: int = 2):
    import torch
    import transformers

    spec = ARCHS[arch]
    cfg_cls = getattr(transformers, spec["cls"].replace("ForCausalLM", "Config"))
    kw = dict(COMMON, vocab_size=spec["vocab_size"], intermediate_size=spec["intermediate_size"],
              rms_norm_eps=spec["rms_norm_eps"], max_position_embeddings=spec["max_position_embeddings"],
              tie_word_embeddings=spec["tie_word_embeddings"], bos_token_id=1, eos_token_id=eos_token_id, pad_token_id=None,
              hidden_act="silu", attention_dropout=0.0, torch_dtype="float32")
    rope = {"rope_type": "default", "rope_theta": spec["rope_theta"]}
    if arch == "mistral":
        kw["sliding_window"] = spec["sliding_window"]
    if arch == "phi3":
        kw.pop("head_dim")  # Phi-3 derives it: hidden_size / num_attention_heads = 16
        kw.update(original_max_position_embeddings=spec["max_position_embeddings"], sliding_window=None,
                  resid_pdrop=0.0, embd_pdrop=0.0, partial_rotary_factor=1.0)
        rope["partial_rotary_factor"] = 1.0
    kw["rope_parameters"] = rope
    config = cfg_cls(**kw)
    config._attn_implementation = "eager"

    torch.manual_seed(SEED)
    model = getattr(transformers, spec["cls"])(config).to(torch.float32).eval()
    # Re-draw every weight with a fixed generator: matrices N(0, std), RMSNorm weights 1 + N(0, 0.1)
    # (so that a missing norm weight shows), which gives logits with a spread of a few units.
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(spec["weight_std"] * torch.randn(p.shape, generator=g))
    if spec["tie_word_embeddings"]:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    model.save_pretrained(str(out_dir), safe_serialization=True)
    if spec.get("legacy_rope_theta"):
        # transformers 5 writes {"rope_parameters": {"rope_theta": ..., "rope_type": "default"}}; checkpoints
        # written by transformers 4 (TinyLlama, SmolLM2, Mistral-7B, ...) have a top-level "rope_theta" instead.
        # One fixture keeps that older layout so that loaders are tested on both; transformers 5 reads it back
        # to the same config (checked by the reload in do_arch, whose logits are the expected ones).
        cfg = json.loads((out_dir / "config.json").read_text())
        rp = cfg.pop("rope_parameters")
        assert rp == {"rope_theta": spec["rope_theta"], "rope_type": "default"}, rp
        cfg["rope_theta"] = rp["rope_theta"]
        (out_dir / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return model


def load_model(out_dir: Path, sliding_window="keep"):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(out_dir))
    if sliding_window != "keep":
        config.sliding_window = sliding_window
    model = AutoModelForCausalLM.from_pretrained(str(out_dir), config=config, attn_implementation="eager",
                                                 dtype=torch.float32).eval()
    return model


def run_transformers(model, prompt_ids: list[int]):
    """prompt_logits [24, V]; greedy_ids [8]; decode_logits [8, V]; plus the cache-free full-sequence logits."""
    import numpy as np
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.tensor([prompt_ids]), use_cache=True)
        prompt_logits = out.logits[0].float().numpy().copy()
        cache = out.past_key_values
        nxt = int(np.argmax(prompt_logits[-1]))
        greedy, decode = [], []
        for _ in range(N_DECODE):
            greedy.append(nxt)
            o = model(input_ids=torch.tensor([[nxt]]), past_key_values=cache, use_cache=True)
            cache = o.past_key_values
            row = o.logits[0, -1].float().numpy().copy()
            decode.append(row)
            nxt = int(np.argmax(row))
        full = model(input_ids=torch.tensor([prompt_ids + greedy]), use_cache=False).logits[0].float().numpy()
    return prompt_logits, greedy, np.stack(decode), full


# ---------------------------------------------------------------------------------------------------
# Independent float64 numpy reference (documents the exact math the Swift code must implement)
# ---------------------------------------------------------------------------------------------------
def numpy_reference(out_dir: Path, ids: list[int]):
    import numpy as np
    from safetensors.numpy import load_file

    cfg = json.loads((out_dir / "config.json").read_text())
    W = {k: v.astype(np.float64) for k, v in load_file(str(out_dir / "model.safetensors")).items()}
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    rp = cfg.get("rope_parameters") or {}
    theta = rp.get("rope_theta", cfg.get("rope_theta"))
    window = cfg.get("sliding_window")
    arch = cfg["model_type"]
    T = len(ids)

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    inv_freq = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)        # [hd/2]
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]             # [T, hd/2]
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(x):  # x [T, heads, hd]; Hugging Face "rotate_half": pairs (i, i + hd/2)
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        c, s = cos[:, None, :], sin[:, None, :]
        return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)

    i_idx, j_idx = np.arange(T)[:, None], np.arange(T)[None, :]
    allowed = j_idx <= i_idx
    if window is not None:
        allowed &= (i_idx - j_idx) < window  # position i sees the `window` positions i-window+1 ... i

    x = W["model.embed_tokens.weight"][ids]
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        h = rms(x, W[p + "input_layernorm.weight"])
        if arch == "phi3":
            qkv = h @ W[p + "self_attn.qkv_proj.weight"].T
            q, k, v = np.split(qkv, [nh * hd, nh * hd + nkv * hd], axis=-1)
        else:
            q = h @ W[p + "self_attn.q_proj.weight"].T
            k = h @ W[p + "self_attn.k_proj.weight"].T
            v = h @ W[p + "self_attn.v_proj.weight"].T
        q = rope(q.reshape(T, nh, hd))
        k = rope(k.reshape(T, nkv, hd))
        v = v.reshape(T, nkv, hd)
        att = np.zeros((T, nh, hd))
        for head in range(nh):
            kvh = head // (nh // nkv)
            s = q[:, head, :] @ k[:, kvh, :].T / np.sqrt(hd)
            s = np.where(allowed, s, -np.inf)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            att[:, head, :] = s @ v[:, kvh, :]
        x = x + att.reshape(T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        if arch == "phi3":
            gate, up = np.split(h @ W[p + "mlp.gate_up_proj.weight"].T, 2, axis=-1)  # gate first, then up
        else:
            gate, up = h @ W[p + "mlp.gate_proj.weight"].T, h @ W[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    out_w = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ out_w.T


def q8_0_round_trip(x):
    """ggml's quantize_row_q8_0 applied to the rows of x (blocks of 32), then dequantized: d = amax / 127 is
    stored as f16, q = round(x / d) (computed with the unrounded 1/d), value = f16(d) * q."""
    import numpy as np
    shape = x.shape
    b = x.reshape(-1, 32).astype(np.float32)
    d = np.abs(b).max(axis=-1, keepdims=True) / np.float32(127.0)
    inv = np.where(d > 0, np.float32(1.0) / np.where(d > 0, d, np.float32(1.0)), np.float32(0.0)).astype(np.float32)
    q = np.round(b * inv)
    return (q * d.astype(np.float16).astype(np.float32)).reshape(shape).astype(np.float64)


def gguf_numpy_forward(src: Path, path: Path, ids: list[int], window=None, act_q8: bool = False):
    """Float64 numpy forward straight from a GGUF file (weights dequantized with gguf-py), in GGUF's own
    conventions: llama = adjacent-pair RoPE on the converter-permuted Q/K rows, phi3 = NeoX (half-split) RoPE.
    act_q8=True also rounds the input of every Q8_0-weight matrix product through Q8_0 (what ggml's CPU backend
    does before its q8_0 x q8_0 dot products); the token-embedding lookup is not a matrix product."""
    import numpy as np
    sys.path.insert(0, str(src / "gguf-py"))
    import gguf
    from gguf.quants import dequantize

    r = gguf.GGUFReader(str(path))
    md = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer")}
    arch = md["general.architecture"]
    W, quantized = {}, set()
    for t in r.tensors:
        W[t.name] = dequantize(t.data, t.tensor_type).astype(np.float64)
        if t.tensor_type.name == "Q8_0":
            quantized.add(t.name)
    H, nh, nkv = (md[f"{arch}.embedding_length"], md[f"{arch}.attention.head_count"],
                  md[f"{arch}.attention.head_count_kv"])
    eps, theta, n_layer = (md[f"{arch}.attention.layer_norm_rms_epsilon"], md[f"{arch}.rope.freq_base"],
                           md[f"{arch}.block_count"])
    hd, T = H // nh, len(ids)

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    def mm(x, name):
        return (q8_0_round_trip(x) if act_q8 and name in quantized else x) @ W[name].T

    ang = np.arange(T)[:, None] * (1.0 / theta ** (np.arange(0, hd, 2) / hd))[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rope(x):
        if arch == "phi3":  # NeoX: pairs (i, i + hd/2)
            x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
            return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)
        x1, x2 = x[..., 0::2], x[..., 1::2]  # llama.cpp "normal" RoPE: pairs (2i, 2i + 1)
        o = np.empty_like(x)
        o[..., 0::2], o[..., 1::2] = x1 * c - x2 * s, x2 * c + x1 * s
        return o

    i_idx, j_idx = np.arange(T)[:, None], np.arange(T)[None, :]
    allowed = j_idx <= i_idx
    if window:
        allowed &= (i_idx - j_idx) < window
    x = W["token_embd.weight"][ids]
    for L in range(n_layer):
        p = f"blk.{L}."
        h = rms(x, W[p + "attn_norm.weight"])
        if arch == "phi3":
            q, k, v = np.split(mm(h, p + "attn_qkv.weight"), [nh * hd, nh * hd + nkv * hd], axis=-1)
        else:
            q, k, v = mm(h, p + "attn_q.weight"), mm(h, p + "attn_k.weight"), mm(h, p + "attn_v.weight")
        q, k, v = rope(q.reshape(T, nh, hd)), rope(k.reshape(T, nkv, hd)), v.reshape(T, nkv, hd)
        att = np.zeros((T, nh, hd))
        for head in range(nh):
            kvh = head // (nh // nkv)
            sc = np.where(allowed, q[:, head] @ k[:, kvh].T / np.sqrt(hd), -np.inf)
            sc = np.exp(sc - sc.max(axis=-1, keepdims=True))
            att[:, head] = (sc / sc.sum(axis=-1, keepdims=True)) @ v[:, kvh]
        x = x + mm(att.reshape(T, nh * hd), p + "attn_output.weight")
        h = rms(x, W[p + "ffn_norm.weight"])
        if arch == "phi3":
            gate, up = np.split(mm(h, p + "ffn_up.weight"), 2, axis=-1)  # fused ffn_up: gate rows first
        else:
            gate, up = mm(h, p + "ffn_gate.weight"), mm(h, p + "ffn_up.weight")
        x = x + mm(gate / (1.0 + np.exp(-gate)) * up, p + "ffn_down.weight")
    x = rms(x, W["output_norm.weight"])
    return mm(x, "output.weight" if "output.weight" in W else "token_embd.weight")


# ---------------------------------------------------------------------------------------------------
# llama.cpp: converter and llama-cpp-python
# ---------------------------------------------------------------------------------------------------
def find_llama_cpp_src(arg: str | None) -> Path:
    """The llama.cpp tree vendored in llama-cpp-python==0.3.36's sdist (convert_hf_to_gguf.py, gguf-py)."""
    cands = [arg, os.environ.get("LLAMA_CPP_SRC"),
             str(Path.home() / f".cache/sparrow/llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp")]
    for c in cands:
        if c and (Path(c) / "convert_hf_to_gguf.py").is_file():
            return Path(c)
    dest = Path.home() / ".cache/sparrow"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # --no-binary for this one package only: its build dependencies may come as wheels.
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
                        f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", "-d", tmp], check=True)
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tf:
            tf.extractall(dest, filter="data")
    src = dest / f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}"
    src.rename(dest / f"llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}")
    return dest / f"llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp"


def convert(src: Path, model_dir: Path, outfile: Path, outtype: str) -> None:
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # use the gguf-py that ships with this converter
    subprocess.run([sys.executable, str(src / "convert_hf_to_gguf.py"), str(model_dir), "--outfile", str(outfile),
                    "--outtype", outtype], check=True, env=env, stdout=subprocess.DEVNULL)


def gguf_summary(src: Path, path: Path) -> dict:
    sys.path.insert(0, str(src / "gguf-py"))
    import gguf  # noqa: E402

    r = gguf.GGUFReader(str(path))
    keys = {}
    for k, f in r.fields.items():
        if k.startswith("tokenizer.ggml.") and k in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                                      "tokenizer.ggml.token_type", "tokenizer.ggml.merges"):
            keys[k] = f"[{len(f.data)} entries]"
            continue
        try:
            v = f.contents()
        except Exception:  # noqa: BLE001
            v = "?"
        keys[k] = v
    tensors = {t.name: {"type": t.tensor_type.name, "shape": [int(d) for d in t.shape]} for t in r.tensors}
    return {"metadata": keys, "tensors": tensors}


def llama_python(arg: str | None) -> str:
    if arg:
        return arg
    try:
        import llama_cpp  # noqa: F401
        return sys.executable
    except ImportError:
        return "/root/.cache/sparrow/llama-venv/bin/python"


def llamacpp_eval_subprocess(py: str, gguf_path: Path, ids: list[int], kv_f32: bool = False) -> tuple[list, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        req, res = Path(tmp) / "req.json", Path(tmp) / "res.json"
        req.write_text(json.dumps({"model": str(gguf_path), "ids": ids, "kv_f32": kv_f32}))
        subprocess.run([py, str(Path(__file__).resolve()), "--llamacpp-eval", str(req), str(res)], check=True)
        out = json.loads(res.read_text())
    assert out["versions"]["llama_cpp_python"] == LLAMA_CPP_PYTHON_VERSION, out["versions"]
    return out["logits"], out["versions"]


def llamacpp_eval_main(req_path: str, res_path: str) -> None:
    """Runs inside the llama-cpp-python interpreter (no torch needed)."""
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama

    req = json.loads(Path(req_path).read_text())
    kw = dict(model_path=req["model"], logits_all=True, n_ctx=64, n_batch=64, n_threads=2, seed=0, flash_attn=False,
              verbose=False)
    if req.get("kv_f32"):
        kw.update(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)  # else llama.cpp's default: F16
    llm = Llama(**kw)
    ids = req["ids"]
    llm.eval(ids)
    scores = np.asarray(llm.scores[: len(ids)], dtype=np.float32)
    versions = {"llama_cpp_python": llama_cpp.__version__, "python_llamacpp_side": platform.python_version(),
                "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip()}
    Path(res_path).write_text(json.dumps({"logits": rows(scores), "versions": versions}))


# ---------------------------------------------------------------------------------------------------
def versions_dict(src: Path) -> dict:
    import numpy
    import safetensors
    import sentencepiece
    import tokenizers
    import torch
    import transformers

    gguf_ver = "?"
    for line in (src / "gguf-py/pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            gguf_ver = line.split("=")[1].strip().strip('"')
            break
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": sentencepiece.__version__,
        "safetensors": safetensors.__version__,
        "llama_cpp_python": LLAMA_CPP_PYTHON_VERSION,
        "llama_cpp_commit": LLAMA_CPP_COMMIT,
        "converter": f"convert_hf_to_gguf.py vendored in llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} sdist (llama.cpp@{LLAMA_CPP_COMMIT})",
        "gguf_py": gguf_ver,
    }


def do_arch(arch: str, src: Path, llama_py: str, report: dict) -> None:
    import numpy as np

    spec = ARCHS[arch]
    out_dir = HERE / arch
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    print(f"== {arch}", flush=True)
    added_ids = make_tokenizer(out_dir, spec["vocab_size"], spec.get("added_tokens", ()))
    built = build_model(arch, out_dir, eos_token_id=added_ids[0] if added_ids else 2)
    model = load_model(out_dir)
    for (n1, p1), (n2, p2) in zip(sorted(built.state_dict().items()), sorted(model.state_dict().items())):
        assert n1 == n2 and bool((p1 == p2).all()), n1
    del built
    assert model.config.rope_parameters["rope_theta"] == spec["rope_theta"], model.config.rope_parameters
    if arch == "mistral":
        assert model.config.sliding_window == spec["sliding_window"]

    V = spec["vocab_size"]
    prng = np.random.default_rng(SEED + V)
    prompt_ids = [int(t) for t in prng.integers(len(SPECIAL_IDS), V - len(added_ids), size=N_PROMPT)]
    assert not set(prompt_ids) & (set(SPECIAL_IDS) | set(added_ids))

    prompt_logits, greedy, decode, full = run_transformers(model, prompt_ids)
    seq = prompt_ids + greedy
    hf_all = np.concatenate([prompt_logits, decode[:-1]])  # logits at positions 0..30 (position 31's = decode[7])
    rep = {"vocab": V, "logit_min": f32(prompt_logits.min()), "logit_max": f32(prompt_logits.max()),
           "logit_std": f32(prompt_logits.std())}
    rep["max_abs_cached_vs_full"] = f32(np.abs(np.concatenate([prompt_logits, decode]) - full).max())
    ref = numpy_reference(out_dir, seq)
    rep["max_abs_hf_vs_numpy_float64"] = f32(np.abs(np.concatenate([prompt_logits, decode]) - ref).max())
    assert rep["max_abs_cached_vs_full"] < 1e-4 and rep["max_abs_hf_vs_numpy_float64"] < 1e-4, rep
    assert all(int(np.argmax(full[N_PROMPT - 1 + i])) == greedy[i] for i in range(N_DECODE))

    variants = {}
    if arch == "mistral":
        # Sliding window really applied?  Same weights with sliding_window=None must differ from position 8 on.
        nowin = load_model(out_dir, sliding_window=None)
        p2, g2, d2, f2 = run_transformers(nowin, prompt_ids)
        W = spec["sliding_window"]
        rep["window_max_abs_diff_positions_lt_W"] = f32(np.abs(prompt_logits[:W] - p2[:W]).max())
        rep["window_max_abs_diff_positions_ge_W"] = f32(np.abs(prompt_logits[W:] - p2[W:]).max())
        assert rep["window_max_abs_diff_positions_lt_W"] < 1e-5 and rep["window_max_abs_diff_positions_ge_W"] > 1e-2, rep
        cfg = json.loads((out_dir / "config.json").read_text())
        cfg["sliding_window"] = None
        with tempfile.TemporaryDirectory() as tmp:
            for f in out_dir.iterdir():
                shutil.copy(f, tmp)
            Path(tmp, "config.json").write_text(json.dumps(cfg))
            ref2 = numpy_reference(Path(tmp), prompt_ids + g2)
        rep["full_attention_max_abs_hf_vs_numpy_float64"] = f32(np.abs(np.concatenate([p2, d2]) - ref2).max())
        assert rep["full_attention_max_abs_hf_vs_numpy_float64"] < 1e-4
        variants["mistral-full-attention"] = (p2, g2, d2)
        del nowin

    # GGUF conversions with llama.cpp's converter.
    f32_path, q8_path = HERE / f"{arch}-f32.gguf", HERE / f"{arch}-q8_0.gguf"
    convert(src, out_dir, f32_path, "f32")
    convert(src, out_dir, q8_path, "q8_0")
    rep["gguf_f32"] = gguf_summary(src, f32_path)
    rep["gguf_q8_0_tensor_types"] = {k: v["type"] for k, v in gguf_summary(src, q8_path)["tensors"].items()}

    versions = versions_dict(src)
    versions["seed"] = SEED
    versions["transformers_attn_implementation"] = "eager"
    versions["transformers_dtype"] = "float32"

    def write_expected(name, p, g, d, hf_window):
        s = prompt_ids + g
        hf = np.concatenate([p, d])  # rows 0..31: prompt positions 0..23, then the 8 decode steps
        rng_ = float(hf.max() - hf.min())
        # The committed llama.cpp reference: Q8_0 file, F32 KV cache, flash attention off (llama-cpp-python's default).
        q8 = np.asarray(llamacpp_eval_subprocess(llama_py, q8_path, s, kv_f32=True)[0], dtype=np.float32)
        # For information only: llama.cpp's default F16 KV cache, llama.cpp on the F32 file, numpy on the GGUF files.
        q8_kv16 = np.asarray(llamacpp_eval_subprocess(llama_py, q8_path, s, kv_f32=False)[0], dtype=np.float32)
        f32_lc = np.asarray(llamacpp_eval_subprocess(llama_py, f32_path, s, kv_f32=True)[0], dtype=np.float32)
        np_f32 = gguf_numpy_forward(src, f32_path, s, window=hf_window)
        np_q8 = gguf_numpy_forward(src, q8_path, s)  # llama.cpp applies no window to these files
        np_q8_act = gguf_numpy_forward(src, q8_path, s, act_q8=True)

        def cmp(x, y):
            dd = np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))
            return {"max_abs": f32(dd.max()), "max_abs_over_range": f32(dd.max() / rng_),
                    "argmax_agreement": float(np.mean(np.argmax(x, -1) == np.argmax(y, -1)))}

        rep[f"expected/{name}.json"] = {
            "transformers_logit_range": f32(rng_),
            "llamacpp_f32_gguf_vs_transformers": cmp(f32_lc, hf),
            "numpy_f32_gguf_vs_transformers": cmp(np_f32, hf),
            "llamacpp_q8_0_vs_transformers": cmp(q8, hf),
            "llamacpp_q8_0_vs_numpy_q8_0_float_activations": cmp(q8, np_q8),
            "llamacpp_q8_0_vs_numpy_q8_0_q8_activations": cmp(q8, np_q8_act),
            "llamacpp_q8_0_kv_f16_vs_kv_f32": cmp(q8_kv16, q8),
        }
        v = dict(versions)
        v["llamacpp_settings"] = (
            f"Llama(model_path='{q8_path.name}', logits_all=True, n_ctx=64, n_batch=64, n_threads=2, seed=0, "
            "type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32, flash_attn=False); eval(prompt_ids + greedy_ids); "
            "scores[:32] (llama.cpp rounds n_ctx up to 256)")
        doc = {"versions": v, "prompt_ids": prompt_ids, "prompt_logits": rows(p), "greedy_ids": [int(t) for t in g],
               "decode_logits": rows(d), "llamacpp_q8_0": {"logits": rows(q8)}}
        EXPECTED.mkdir(exist_ok=True)
        (EXPECTED / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"wrote expected/{name}.json", flush=True)

    write_expected(arch, prompt_logits, greedy, decode, spec.get("sliding_window"))
    for name, (p, g, d) in variants.items():
        write_expected(name, p, g, d, None)
    report[arch] = rep
    print(json.dumps({k: v for k, v in rep.items() if not k.startswith("gguf")}, indent=1), flush=True)
    for k, v in rep.items():
        if k.startswith("expected/"):
            for kk, vv in v.items():
                assert kk != "llamacpp_f32_gguf_vs_transformers" or arch == "mistral" and k == "expected/mistral.json" \
                    or vv["max_abs"] < 1e-4, (k, kk, vv)
            assert v["numpy_f32_gguf_vs_transformers"]["max_abs"] < 1e-4, (k, v)
            assert v["llamacpp_q8_0_vs_numpy_q8_0_q8_activations"]["max_abs"] < 1e-4, (k, v)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="llama,mistral,phi3")
    ap.add_argument("--llama-cpp-src", default=None, help="llama.cpp tree with convert_hf_to_gguf.py")
    ap.add_argument("--llama-python", default=None, help="interpreter that has llama-cpp-python")
    ap.add_argument("--llamacpp-eval", nargs=2, metavar=("REQ", "RES"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.llamacpp_eval:
        llamacpp_eval_main(*a.llamacpp_eval)
        return
    src = find_llama_cpp_src(a.llama_cpp_src)
    py = llama_python(a.llama_python)
    report_path = HERE / "expected" / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    for arch in a.arch.split(","):
        do_arch(arch, src, py, report)
        report_path.parent.mkdir(exist_ok=True)
        report_path.write_text(json.dumps(report, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
