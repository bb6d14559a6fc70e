#!/usr/bin/env bash
# Memory and long-context checks of issue 4, on random-weight GGUF files written by this script (random
# weights run exactly like trained ones of the same shapes and types):
#   1. Llama-3-8B's shapes in Q4_0 (about 4.7 GB): loads and decodes with peak resident memory at most
#      the file + the KV cache it fills + 15%.
#   2. TinyLlama-1.1B's shapes in Q4_0: a full 2048-token context (2040 prompt tokens in one prefill, then
#      8 greedy decode steps) runs to the end.
# The files go to $SPARROW_CACHE/random-models (default ~/.cache/sparrow) and are reused.
#   scripts/check-transformer-memory.sh            -> exit 0 when both checks pass
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}/random-models"
mkdir -p "$cache"
bin=$(scripts/build-release.sh)

generator=$(cat <<'PY'
import json, os, random, resource, struct, subprocess, sys
import numpy as np

bin, cache, check = sys.argv[1:]

def write_gguf(path, arch, hp, vocab):
    """A llama-architecture GGUF v3: Q4_0 matrices (random nibbles, scale 0.01), F32 norms of ones."""
    d, ffn, layers = hp["embedding_length"], hp["feed_forward_length"], hp["block_count"]
    heads, kv = hp["attention.head_count"], hp["attention.head_count_kv"]
    hd = d // heads
    tensors = [("token_embd.weight", [vocab, d], 2), ("output_norm.weight", [d], 0), ("output.weight", [vocab, d], 2)]
    for l in range(layers):
        b = f"blk.{l}."
        tensors += [(b + "attn_norm.weight", [d], 0), (b + "attn_q.weight", [heads * hd, d], 2),
                    (b + "attn_k.weight", [kv * hd, d], 2), (b + "attn_v.weight", [kv * hd, d], 2),
                    (b + "attn_output.weight", [d, heads * hd], 2), (b + "ffn_norm.weight", [d], 0),
                    (b + "ffn_gate.weight", [ffn, d], 2), (b + "ffn_up.weight", [ffn, d], 2),
                    (b + "ffn_down.weight", [d, ffn], 2)]
    def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
    meta = [("general.architecture", 8, arch)] + [(f"{arch}.{k}", 4, v) for k, v in hp.items() if isinstance(v, int)]
    meta += [(f"{arch}.attention.layer_norm_rms_epsilon", 6, 1e-5), (f"{arch}.rope.freq_base", 6, 10000.0),
             (f"{arch}.vocab_size", 4, vocab)]
    def nbytes(shape, t):
        n = int(np.prod(shape)); return n * 4 if t == 0 else n // 32 * 18
    with open(path + ".part", "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        for k, t, v in meta:
            f.write(s(k) + struct.pack("<I", t))
            f.write(s(v) if t == 8 else struct.pack("<I", v) if t == 4 else struct.pack("<f", v))
        off = 0
        for name, shape, t in tensors:
            f.write(s(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", x) for x in reversed(shape))
                    + struct.pack("<IQ", t, off))
            off += (nbytes(shape, t) + 31) // 32 * 32
        f.write(b"\0" * (-f.tell() % 32))
        rng = np.random.default_rng(0)
        scale = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
        for name, shape, t in tensors:
            if t == 0:
                f.write(np.ones(shape, dtype=np.float32).tobytes())
            else:
                left = int(np.prod(shape)) // 32
                while left:
                    n = min(left, 1 << 20)
                    blocks = rng.integers(0, 256, size=(n, 18), dtype=np.uint8)
                    blocks[:, 0:2] = scale
                    f.write(blocks.tobytes())
                    left -= n
            f.write(b"\0" * (-f.tell() % 32))
    os.replace(path + ".part", path)

def run(model, ids, greedy, max_context):
    out = subprocess.run([bin, "logits", "--model", model, "--ids", json.dumps(ids), "--greedy", str(greedy),
                          "--max-context", str(max_context), "--top", "1", "--json"],
                         check=True, capture_output=True, text=True).stdout
    # One child per process: its peak resident set (kB on Linux).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return json.loads(out), peak


if check == "llama3":
    # Llama-3-8B shapes, Q4_0: peak RSS within the file + the KV cache it fills + 15%.
    path = os.path.join(cache, "llama3-8b-shapes-q4_0.gguf")
    hp = {"context_length": 8192, "embedding_length": 4096, "feed_forward_length": 14336, "block_count": 32,
          "attention.head_count": 32, "attention.head_count_kv": 8}
    if not os.path.exists(path):
        print("writing", path, flush=True)
        write_gguf(path, "llama", hp, 128256)
    size = os.path.getsize(path)
    ids = [random.Random(1).randrange(3, 128256) for _ in range(8)]
    # The cache is reserved for the whole 8192-token context; only the positions used may become resident.
    result, peak = run(path, ids, 8, 8192)
    kv = 32 * 2 * (len(ids) + 8) * 8 * 128 * 4  # layers × (K, V) × positions × kv width × Float
    limit = (size + kv) * 1.15
    print(f"llama3-8b shapes Q4_0: file {size / 2**30:.2f} GiB, peak RSS {peak / 2**30:.2f} GiB, "
          f"limit {limit / 2**30:.2f} GiB (file + KV + 15%); greedy ids {result['greedy_ids']}")
    sys.exit(0 if peak <= limit else 1)

if check == "tinyllama":
    # TinyLlama-1.1B shapes, Q4_0: the full 2048-token context, 2040 prompt tokens then 8 decode steps.
    path = os.path.join(cache, "tinyllama-shapes-q4_0.gguf")
    hp = {"context_length": 2048, "embedding_length": 2048, "feed_forward_length": 5632, "block_count": 22,
          "attention.head_count": 32, "attention.head_count_kv": 4}
    if not os.path.exists(path):
        print("writing", path, flush=True)
        write_gguf(path, "llama", hp, 32000)
    rng = random.Random(2)
    ids = [rng.randrange(3, 32000) for _ in range(2040)]
    result, peak = run(path, ids, 8, 2048)
    kv = 22 * 2 * 2048 * 4 * 64 * 4
    print(f"tinyllama shapes Q4_0: 2048 positions filled, peak RSS {peak / 2**20:.0f} MiB "
          f"(file {os.path.getsize(path) / 2**20:.0f} MiB, KV {kv / 2**20:.0f} MiB); greedy ids {result['greedy_ids']}")
    sys.exit(0)
PY
)
status=0
python3 -c "$generator" "$bin" "$cache" llama3 || status=1
python3 -c "$generator" "$bin" "$cache" tinyllama || status=1
if [ $status = 0 ]; then echo "2 passed, 0 failed"; else echo "memory checks failed"; fi
exit $status
