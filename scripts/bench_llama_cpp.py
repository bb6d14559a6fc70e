#!/usr/bin/env python3
"""Helper of scripts/compare-llama-cpp.sh.

  bench_llama_cpp.py make PATH KIND      write a random-weight GGUF (KIND below) at PATH unless one this version wrote exists
  bench_llama_cpp.py time MODEL -p P -n N -t T -r R [--batch B]
                                         time llama.cpp (llama-cpp-python) as llama-bench does; prints
                                         {"pp_tokens_per_s", "pp_sd", "tg_tokens_per_s", "tg_sd"} as JSON.
                                         With --batch B, as llama-batched-bench does: B sequences, each a
                                         P-token prompt in one llama_decode, then N steps of one llama_decode
                                         holding one token per sequence id; pp = B*P / prefill time,
                                         tg = B*N / decode time

KIND is one of
  tinyllama-q4_0    TinyLlama-1.1B shapes, Q4_0 with output.weight Q6_K (llama.cpp's "Q4_0" mix)
  tinyllama-q8_0    TinyLlama-1.1B shapes, Q8_0 throughout
  tinyllama-q4_k_m  TinyLlama-1.1B shapes, llama.cpp's Q4_K_M mix: Q4_K, with Q6_K for output.weight and
                    for attn_v / ffn_down of the layers llama.cpp's quantizer gives more bits
  llama3-8b-q4_0    Llama-3-8B shapes, Q4_0 with output.weight Q6_K
  tinyllama-f16     TinyLlama-1.1B shapes, 2-D weights F16 with N(0, 0.02²) values, norms F32 (ones):
                    what scripts/check-quantize.sh --full quantizes
  llama3-8b-f16     Llama-3-8B shapes, likewise (16 GB): the peak-memory measurement of issue 20

Random weights run at the same speed as trained ones of the same shapes and types: every byte is read
and every product computed either way. Scales are fixed small values so no NaN or infinity appears.
The tokenizer is the real one of the shape's model family, copied from llama.cpp's vocabulary files in
Fixtures/vocab (LLaMA's SentencePiece for TinyLlama, LLaMA 3's BPE for the 8B), so that text prompts
(the server and prefix-cache benchmarks) tokenize as they would on the real model: distinct texts give
distinct tokens, and a generated answer re-tokenizes to about as many tokens as it had.
`make` needs only numpy; `time` needs llama_cpp (run it with the cached venv's python).
"""
import json, os, statistics, struct, sys, time

F32, F16, Q4_0, Q8_0, Q4_K, Q6_K = 0, 1, 2, 8, 12, 14
BLOCK = {F16: (1, 2), Q4_0: (32, 18), Q8_0: (32, 34), Q4_K: (256, 144), Q6_K: (256, 210)}

SHAPES = {
    "tinyllama": ({"context_length": 2048, "embedding_length": 2048, "feed_forward_length": 5632, "block_count": 22,
                   "attention.head_count": 32, "attention.head_count_kv": 4}, 32000),
    "llama3-8b": ({"context_length": 8192, "embedding_length": 4096, "feed_forward_length": 14336, "block_count": 32,
                   "attention.head_count": 32, "attention.head_count_kv": 8}, 128256),
}
# The vocabulary file (Fixtures/vocab) whose tokenizer each shape's file carries.
VOCABS = {"tinyllama": "ggml-vocab-llama-spm.gguf", "llama3-8b": "ggml-vocab-llama-bpe.gguf"}
# In general.name; a file made before the real tokenizers (or by another version of `make`) lacks it and
# is written again.
MARKER = "sparrow-bench-2"


def tokenizer_entries(path):
    """The `tokenizer.*` key-value entries of a GGUF file, each as its raw bytes (key, type, value)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    _, _, count = struct.unpack_from("<IQQ", data, 4)
    fixed = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t, at):
        if t == 8:
            return at + 8 + struct.unpack_from("<Q", data, at)[0]
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, at)
            at += 12
            if et in fixed:
                return at + fixed[et] * n
            for _ in range(n):
                at = skip(et, at)
            return at
        return at + fixed[t]

    at, entries = 24, []
    for _ in range(count):
        start = at
        n = struct.unpack_from("<Q", data, at)[0]
        key = data[at + 8:at + 8 + n].decode()
        t = struct.unpack_from("<I", data, at + 8 + n)[0]
        at = skip(t, at + 12 + n)
        if key.startswith("tokenizer."):
            entries.append(data[start:at])
    return entries


def use_more_bits(i, n):
    """llama.cpp's quantizer (llama-quant.cpp): the layers Q4_K_M keeps attn_v and ffn_down in Q6_K."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def tensor_types(kind, layers):
    """name -> GGUF type, as llama.cpp's quantizer mixes them for the file type in `kind`."""
    base = {"q4_0": Q4_0, "q8_0": Q8_0, "q4_k_m": Q4_K, "f16": F16}[kind]
    types = {"token_embd": base, "output": Q8_0 if base == Q8_0 else F16 if base == F16 else Q6_K}
    for l in range(layers):
        for t in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
            types[f"blk.{l}.{t}"] = base
        if kind == "q4_k_m" and use_more_bits(l, layers):
            types[f"blk.{l}.attn_v"] = Q6_K
            types[f"blk.{l}.ffn_down"] = Q6_K
    return types


def random_blocks(rng, t, n):
    """n random blocks of type t with valid, small scales."""
    import numpy as np
    size = BLOCK[t][1]
    b = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    half = lambda v: np.frombuffer(np.float16(v).tobytes(), dtype=np.uint8)
    if t in (Q4_0, Q8_0):
        b[:, 0:2] = half(0.01 if t == Q4_0 else 0.001)
    elif t == Q4_K:
        b[:, 0:2] = half(0.001)   # d (6-bit sub-block scales multiply it)
        b[:, 2:4] = half(0.0005)  # dmin
    elif t == Q6_K:
        b[:, 192:208] = rng.integers(-32, 32, size=(n, 16)).astype(np.int8).view(np.uint8)
        b[:, 208:210] = half(0.0005)
    return b


def write_gguf(path, kind):
    import numpy as np
    shape_name, _, quant = kind.rpartition("-")
    hp, vocab = SHAPES[shape_name]
    d, ffn, layers = hp["embedding_length"], hp["feed_forward_length"], hp["block_count"]
    heads, kv = hp["attention.head_count"], hp["attention.head_count_kv"]
    hd = d // heads
    types = tensor_types(quant, layers)
    tensors = [("token_embd.weight", [vocab, d], types["token_embd"]), ("output_norm.weight", [d], F32),
               ("output.weight", [vocab, d], types["output"])]
    for l in range(layers):
        b = f"blk.{l}."
        tensors += [(b + "attn_norm.weight", [d], F32), (b + "attn_q.weight", [heads * hd, d], types[b + "attn_q"]),
                    (b + "attn_k.weight", [kv * hd, d], types[b + "attn_k"]),
                    (b + "attn_v.weight", [kv * hd, d], types[b + "attn_v"]),
                    (b + "attn_output.weight", [d, heads * hd], types[b + "attn_output"]),
                    (b + "ffn_norm.weight", [d], F32), (b + "ffn_gate.weight", [ffn, d], types[b + "ffn_gate"]),
                    (b + "ffn_up.weight", [ffn, d], types[b + "ffn_up"]),
                    (b + "ffn_down.weight", [d, ffn], types[b + "ffn_down"])]

    def s(x):
        e = x.encode()
        return struct.pack("<Q", len(e)) + e

    arch = "llama"
    file_type = {"q4_0": 2, "q8_0": 7, "q4_k_m": 15, "f16": 1}[quant]
    meta = [("general.name", 8, f"{MARKER} {kind}"), ("general.architecture", 8, arch),
            ("general.file_type", 4, file_type)]
    meta += [(f"{arch}.{k}", 4, v) for k, v in hp.items()]
    meta += [(f"{arch}.attention.layer_norm_rms_epsilon", 6, 1e-5), (f"{arch}.rope.freq_base", 6, 10000.0),
             (f"{arch}.vocab_size", 4, vocab)]
    vocab_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "vocab", VOCABS[shape_name])
    tokenizer = tokenizer_entries(vocab_file)

    def nbytes(shape, t):
        n = int(np.prod(shape))
        if t == F32:
            return n * 4
        per, size = BLOCK[t]
        return n // per * size

    rng = np.random.default_rng(0)
    with open(path + ".part", "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta) + len(tokenizer)))
        def scalar(t, v):
            return s(v) if t == 8 else struct.pack("<I", v) if t == 4 else struct.pack("<i", v) if t == 5 \
                else struct.pack("<f", v)
        for k, t, v in meta:
            f.write(s(k) + struct.pack("<I", t))
            if t == 9:
                et, items = v
                f.write(struct.pack("<IQ", et, len(items)))
                if et == 6:
                    f.write(np.asarray(items, dtype="<f4").tobytes())
                elif et == 5:
                    f.write(np.asarray(items, dtype="<i4").tobytes())
                else:
                    f.write(b"".join(scalar(et, x) for x in items))
            else:
                f.write(scalar(t, v))
        for entry in tokenizer:
            f.write(entry)
        off = 0
        for name, shape, t in tensors:
            f.write(s(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", x) for x in reversed(shape))
                    + struct.pack("<IQ", t, off))
            off += (nbytes(shape, t) + 31) // 32 * 32
        f.write(b"\0" * (-f.tell() % 32))
        for name, shape, t in tensors:
            if t == F32:
                f.write(np.ones(shape, dtype=np.float32).tobytes())
            elif t == F16:
                left = int(np.prod(shape))
                while left:
                    n = min(left, 1 << 22)
                    f.write((rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)).astype(np.float16).tobytes())
                    left -= n
            else:
                left = int(np.prod(shape)) // BLOCK[t][0]
                while left:
                    n = min(left, 1 << 18)
                    f.write(random_blocks(rng, t, n).tobytes())
                    left -= n
            f.write(b"\0" * (-f.tell() % 32))
    os.replace(path + ".part", path)


def time_llama_cpp(model, p, n, threads, reps):
    """llama-bench's pp and tg tests through llama-cpp-python: pp = one batch of p random tokens from an
    empty cache; tg = n single-token decodes from an empty cache. One warm-up run each, not counted."""
    import random
    import llama_cpp
    from llama_cpp import Llama
    llm = Llama(model_path=model, n_ctx=max(p, n, 16) + 16, n_batch=max(p, 512), n_ubatch=max(p, 512),
                n_threads=threads, n_threads_batch=threads, verbose=False)
    vocab = llm.n_vocab()
    rnd = random.Random(1234)
    ctx, batch = llm._ctx, llm._batch

    def run(tokens, one_by_one):
        ctx.kv_cache_clear()
        t0 = time.perf_counter()
        if one_by_one:
            for i, tok in enumerate(tokens):
                batch.set_batch([tok], n_past=i, logits_all=False)
                ctx.decode(batch)
        else:
            batch.set_batch(tokens, n_past=0, logits_all=False)
            ctx.decode(batch)
        llama_cpp.llama_synchronize(ctx.ctx)
        return len(tokens) / (time.perf_counter() - t0)

    out = {"engine": "llama.cpp", "threads": threads, "repetitions": reps}
    for key, count, one in (("pp", p, False), ("tg", n, True)):
        if count <= 0:
            continue
        tokens = [rnd.randrange(vocab) for _ in range(count)]
        rates = [run(tokens, one) for _ in range(reps + 1)][1:]
        out[f"{key}_tokens_per_s"] = statistics.mean(rates)
        out[f"{key}_sd"] = statistics.stdev(rates) if len(rates) > 1 else 0.0
    return out


def time_llama_cpp_batched(model, p, n, threads, reps, B):
    """llama-batched-bench's measurement through llama.cpp's C API: a context with B sequence ids and a
    unified KV cache; the B prompts (P random tokens each) as one batch, then N batches of B tokens, one
    per sequence. One warm-up run, not counted."""
    import random
    import llama_cpp
    from llama_cpp import Llama
    llm = Llama(model_path=model, n_ctx=16, n_threads=threads, verbose=False)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = B * (p + n) + 16
    params.n_batch = max(B * p, B, 512)
    params.n_ubatch = params.n_batch
    params.n_seq_max = B
    params.kv_unified = True
    params.n_threads = threads
    params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(llm._model.model, params)
    batch = llama_cpp.llama_batch_init(max(B * p, B), 0, 1)
    vocab = llm.n_vocab()
    rnd = random.Random(1234)
    prompts = [[rnd.randrange(vocab) for _ in range(p)] for _ in range(B)]
    generated = [[rnd.randrange(vocab) for _ in range(n)] for _ in range(B)]

    def decode(entries):
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, 1, logits
            batch.seq_id[i][0] = seq
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    def run():
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        t0 = time.perf_counter()
        if p:
            decode([(prompts[s][i], i, s, i == p - 1) for s in range(B) for i in range(p)])
            llama_cpp.llama_synchronize(ctx)
        t1 = time.perf_counter()
        for step in range(n):
            decode([(generated[s][step], p + step, s, True) for s in range(B)])
        llama_cpp.llama_synchronize(ctx)
        t2 = time.perf_counter()
        return (B * p / (t1 - t0) if p else None), (B * n / (t2 - t1) if n else None)

    runs = [run() for _ in range(reps + 1)][1:]
    out = {"engine": "llama.cpp", "threads": threads, "repetitions": reps, "batch": B}
    for key, i in (("pp", 0), ("tg", 1)):
        rates = [r[i] for r in runs if r[i] is not None]
        if rates:
            out[f"{key}_tokens_per_s"] = statistics.mean(rates)
            out[f"{key}_sd"] = statistics.stdev(rates) if len(rates) > 1 else 0.0
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    return out


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "make":
        path, kind = sys.argv[2], sys.argv[3]
        current = False
        if os.path.exists(path):
            with open(path, "rb") as f:
                current = MARKER.encode() in f.read(4096)
        if not current:
            print(f"writing {path}", file=sys.stderr, flush=True)
            write_gguf(path, kind)
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "time":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("model")
        ap.add_argument("-p", type=int, default=128)
        ap.add_argument("-n", type=int, default=64)
        ap.add_argument("-t", type=int, default=2)
        ap.add_argument("-r", type=int, default=3)
        ap.add_argument("--batch", type=int, default=0)
        a = ap.parse_args(sys.argv[2:])
        if a.batch > 0:
            print(json.dumps(time_llama_cpp_batched(a.model, a.p, a.n, a.t, a.r, a.batch)))
        else:
            print(json.dumps(time_llama_cpp(a.model, a.p, a.n, a.t, a.r)))
        return
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
