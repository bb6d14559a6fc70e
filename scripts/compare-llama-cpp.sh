#!/usr/bin/env bash
# Sparrow vs llama.cpp on the same GGUF files, same threads, prompt and generation lengths (issue 7).
#
#   scripts/compare-llama-cpp.sh            all files: SmolLM2-135M Q4_1 (real), random-weight files with
#                                           TinyLlama-1.1B shapes in Q4_0, Q8_0, Q4_K_M, and Llama-3-8B
#                                           shapes in Q4_0 (tg only, 16 tokens, pp 32: it is 4.7 GB)
#   scripts/compare-llama-cpp.sh --quick    CI: SmolLM2 only, pp 64 / tg 16, 2 repetitions
# Environment: THREADS (default 2), PP (128), TG (64), REPS (3), MODELS (space-separated subset of
# smollm2 tinyllama-q4_0 tinyllama-q8_0 tinyllama-q4_k_m llama3-8b-q4_0), BATCHES ("4 8": batched decoding
# at each B, as llama-batched-bench measures it, on BATCH_MODELS "smollm2 tinyllama-q4_0 tinyllama-q4_k_m"
# with BATCH_PP / BATCH_TG tokens per sequence, default 32 / 32; BATCHES="" skips it).
#
# llama.cpp runs through llama-cpp-python==0.3.36 (llama.cpp build 0c1e570), installed from PyPI into
# a cached virtual environment ($cache/llama-venv, reused when present). Both engines are timed as
# llama-bench times them: pp = one batch of PP random tokens from an empty cache, tg = TG single-token
# decodes from an empty cache; one warm-up run excluded, mean ± sd of REPS runs. Sparrow is the plain
# release build (`swift build -c release`; its kernels pick the CPU's instruction set at run time).
# Batched: B sequences of BATCH_PP prompt tokens in one pass, then BATCH_TG steps of B tokens; pp and tg
# count every sequence's tokens (llama-batched-bench's S_PP and S_TG).
# Random weights run at the same speed as trained ones of the same shapes and types.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
threads="${THREADS:-2}"; pp="${PP:-128}"; tg="${TG:-64}"; reps="${REPS:-3}"
models="${MODELS:-smollm2 tinyllama-q4_0 tinyllama-q8_0 tinyllama-q4_k_m llama3-8b-q4_0}"
batches="${BATCHES-4 8}"; batch_models="${BATCH_MODELS:-smollm2 tinyllama-q4_0 tinyllama-q4_k_m}"
bpp="${BATCH_PP:-32}"; btg="${BATCH_TG:-32}"
if [ "${1:-}" = "--quick" ]; then
  models=smollm2; pp=64; tg=16; reps=2; batches=4; batch_models=smollm2
fi

source scripts/support/llama-venv.sh
ensure_llama_venv "$cache"

echo "== building Sparrow (release)" >&2
bin=$(scripts/build-release.sh)

mkdir -p "$cache/random-models"
path_of() {
  case "$1" in
    smollm2) scripts/fetch-default-model.sh ;;
    *) local p="$cache/random-models/bench-$1.gguf"
       "$venv/bin/python" scripts/bench_llama_cpp.py make "$p" "$1" >&2
       echo "$p" ;;
  esac
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for m in $models; do
  path=$(path_of "$m")
  p=$pp; n=$tg; r=$reps
  # The 8B file mostly shows that it loads and decodes; keep its run short.
  if [ "$m" = llama3-8b-q4_0 ] && [ -z "${PP_8B:-}" ]; then p=32; n=16; r=2; fi
  echo "== $m: sparrow" >&2
  s=$("$bin" bench --model "$path" -p "$p" -n "$n" -t "$threads" -r "$r" --json)
  echo "== $m: llama.cpp" >&2
  l=$("$venv/bin/python" scripts/bench_llama_cpp.py time "$path" -p "$p" -n "$n" -t "$threads" -r "$r")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t1\n' "$m" "$p" "$n" "$(du -m "$path" | cut -f1)" "$s" "$l" >> "$results"
done
for m in $batch_models; do
  [ -n "$batches" ] || break
  path=$(path_of "$m")
  for b in $batches; do
    echo "== $m, batch $b: sparrow" >&2
    s=$("$bin" bench --model "$path" -p "$bpp" -n "$btg" -t "$threads" -r "$reps" --batch "$b" --json)
    echo "== $m, batch $b: llama.cpp" >&2
    l=$("$venv/bin/python" scripts/bench_llama_cpp.py time "$path" -p "$bpp" -n "$btg" -t "$threads" -r "$reps" --batch "$b")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$bpp" "$btg" "$(du -m "$path" | cut -f1)" "$s" "$l" "$b" >> "$results"
  done
done

flags=$(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ' || true)
python3 - "$results" "$threads" "$flags" <<'PY'
import json, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(f"threads: {sys.argv[2]}; CPU flags: {sys.argv[3].strip() or 'none'}")
print("| model file | MiB | batch | test | Sparrow tok/s | llama.cpp tok/s | ratio |")
print("|---|---|---|---|---|---|---|")
for name, p, n, mib, s, l, batch in rows:
    s, l = json.loads(s), json.loads(l)
    for key, count in (("pp", p), ("tg", n)):
        a, b = s.get(f"{key}_tokens_per_s"), l.get(f"{key}_tokens_per_s")
        if a is None or b is None:
            continue
        print(f"| {name} | {mib} | {batch} | {key}{count} | {a:.1f} ± {s[key + '_sd']:.1f} | {b:.1f} ± {l[key + '_sd']:.1f} "
              f"| {a / b:.2f} |")
print(f"Sparrow's kernels: {json.loads(rows[0][4]).get('isa', '?') if rows else '?'}")
PY
