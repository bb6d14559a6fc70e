#!/usr/bin/env bash
# Issue 17's server bars: `sparrow serve` (release build, default batching flags) under 1, 4, 8 and 16
# concurrent streaming clients on /v1/completions (max_tokens 64, temperature 0.7), measured with
# scripts/load_test.py, against `sparrow bench --batch 8` on the same model in the same run.
#   scripts/bench-server-batching.sh                 -> SmolLM2 and the TinyLlama-shape Q4_0 file
#   scripts/bench-server-batching.sh MODEL.gguf ...  -> those files
# Per model: bench --batch 8 (-p 16 -n 64, -r 3, F32 KV cache as the server's engine uses), the
# server levels, then the bench again (the ratio uses the mean of the two, so drift on a shared
# machine shows up as the gap between them). Every request sends vLLM's ignore_eos, so that each
# answer is max_tokens long, as each sequence of the bench's tg is (a model that ends most answers
# early would otherwise pay a prompt per few tokens, which the bench never does); one more level of
# 8 clients without it shows the model's natural answers, for comparison (not a bar).
# Prints a Markdown table per model and the bars:
#   8 clients total tok/s >= 0.8 x bench --batch 8 tg, >= 1.5 x 1 client, 0 errors.
# Exit status 1 when a bar is missed. Environment: CLIENTS ("1 4 8 16"), ROUNDS (requests per
# client, 4; at least 8 requests per level), MAX_TOKENS (64), TEMPERATURE (0.7), PORT (18090),
# BENCH_P (16), BENCH_R (3), SERVE_FLAGS (extra `sparrow serve` flags, e.g. "--max-batch-tokens 64"),
# SPARROW_BIN (a `sparrow` binary to measure instead of building one, to compare builds).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/support/wait-for-server.sh
clients="${CLIENTS:-1 4 8 16}"
rounds="${ROUNDS:-4}"
max_tokens="${MAX_TOKENS:-64}"
temperature="${TEMPERATURE:-0.7}"
port="${PORT:-18090}"
bench_p="${BENCH_P:-16}"
bench_r="${BENCH_R:-3}"
base="http://127.0.0.1:$port"

list=$(scripts/support/batching-bench-models.sh "$@")
mapfile -t models <<<"$list"

bin="${SPARROW_BIN:-$(scripts/build-release.sh)}"
out=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

if git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- Sources || commit+=" + uncommitted changes in Sources"
else
  commit="${COMMIT:-unknown (not a git checkout: set COMMIT)}"
fi
echo "commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU flags: $(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"

bench() {  # $1 model, $2 output file
  "$bin" bench --model "$1" -p "$bench_p" -n "$max_tokens" --batch 8 -r "$bench_r" --kv-cache f32 --json >"$2"
}

for model in "${models[@]}"; do
  name=$(basename "$model" .gguf)
  echo "== $name: sparrow bench --batch 8"
  bench "$model" "$out/$name.bench1.json"
  cat "$out/$name.bench1.json"

  echo "== $name: sparrow serve ${SERVE_FLAGS:-}"
  # shellcheck disable=SC2086  # SERVE_FLAGS is a list of flags
  "$bin" serve --model "$model" --port "$port" ${SERVE_FLAGS:-} >"$out/serve.log" 2>&1 &
  server=$!
  wait_for_server "$base" "$server" "$out/serve.log" 600
  cat "$out/serve.log"
  # Warm-up: first-use costs (thread start, page faults in the weights) stay out of the levels.
  python3 scripts/load_test.py "$base" --model "$name" --path /v1/completions --stream --max-tokens 16 \
    --requests 4 --clients 2 >/dev/null
  for c in $clients; do
    requests=$((c * rounds < 8 ? 8 : c * rounds))
    python3 scripts/load_test.py "$base" --model "$name" --path /v1/completions --stream \
      --max-tokens "$max_tokens" --temperature "$temperature" --clients "$c" --requests "$requests" \
      --ignore-eos | tee "$out/$name.c$c.txt"
  done
  python3 scripts/load_test.py "$base" --model "$name" --path /v1/completions --stream \
    --max-tokens "$max_tokens" --temperature "$temperature" --clients 8 --requests $((8 * rounds)) \
    | tee "$out/$name.natural.txt"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""

  echo "== $name: sparrow bench --batch 8 again"
  bench "$model" "$out/$name.bench2.json"
  cat "$out/$name.bench2.json"
done

python3 - "$out" "$clients" "${models[@]}" <<'PY'
import json, os, sys
out, clients, models = sys.argv[1], [int(c) for c in sys.argv[2].split()], sys.argv[3:]
missed = False
for model in models:
    name = os.path.basename(model)[:-5] if model.endswith(".gguf") else os.path.basename(model)
    benches = [json.load(open(f"{out}/{name}.bench{i}.json")) for i in (1, 2)]
    bench = sum(b["tg_tokens_per_s"] for b in benches) / 2
    rows = {}
    for c in clients:
        with open(f"{out}/{name}.c{c}.txt") as f:
            rows[c] = json.loads(f.readline())
    print(f"\n### {name}\n")
    print("| clients | requests | errors | generated tok/s | tokens per answer | computed prompt + generated tok/s "
          "| TTFT p50 / p95 ms | TBT p50 / p95 / max ms | request p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    with open(f"{out}/{name}.natural.txt") as f:
        natural = json.loads(f.readline())
    for c, r in list(rows.items()) + [("8, natural ends", natural)]:
        computed_prompt = r["prompt_tokens"] - r.get("cached_prompt_tokens", 0)
        r["processed_per_s"] = (r["completion_tokens"] + computed_prompt) / r["seconds"]
        print(f"| {c} | {r['requests']} | {r['errors']} | {r['completion_tokens_per_s']:.1f} | "
              f"{r['completion_tokens'] / r['requests']:.1f} | {r['processed_per_s']:.1f} | "
              f"{r.get('ttft_p50_ms', 0):.0f} / {r.get('ttft_p95_ms', 0):.0f} | "
              f"{r.get('tbt_p50_ms', 0):.1f} / {r.get('tbt_p95_ms', 0):.1f} / {r.get('tbt_max_ms', 0):.0f} | "
              f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} |")
    b1, b2 = (b["tg_tokens_per_s"] for b in benches)
    print(f"\n`sparrow bench --batch 8` tg: {b1:.1f} before, {b2:.1f} after the server (mean {bench:.1f} tok/s)")
    if 8 in rows and 1 in rows:
        eight, one = rows[8]["completion_tokens_per_s"], rows[1]["completion_tokens_per_s"]
        errors = sum(r["errors"] for r in rows.values()) + natural["errors"]
        bars = [
            (f"8 clients / bench --batch 8 = {eight / bench:.2f}", eight / bench >= 0.8, ">= 0.8"),
            (f"8 clients / 1 client = {eight / one:.2f}", eight / one >= 1.5, ">= 1.5"),
            (f"errors = {errors}", errors == 0, "0"),
        ]
        for text, ok, bar in bars:
            print(f"- {text} (bar {bar}): {'met' if ok else 'MISSED'}")
            missed |= not ok
        # Not a bar: the bench's tg runs no prompts, the server also prefills every request's
        # (less what its prefix cache holds).
        print(f"- for comparison, computed prompt + generated tokens at 8 clients / bench --batch 8 = "
              f"{rows[8]['processed_per_s'] / bench:.2f}; with the model's natural ends, generated "
              f"{natural['completion_tokens_per_s'] / bench:.2f} and computed {natural['processed_per_s'] / bench:.2f}")
sys.exit(1 if missed else 0)
PY
