#!/usr/bin/env bash
# The model files the batching benchmarks (bench-server-batching.sh, bench-candidates.sh) run on,
# one path per line: the arguments if any, else SmolLM2 (fetched on first use) and the
# TinyLlama-shape Q4_0 file (written on first use by scripts/bench_llama_cpp.py, which needs numpy).
# Exits 1 naming a file that is missing or empty.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -gt 0 ]; then
  models=("$@")
else
  cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
  tinyllama="$cache/random-models/bench-tinyllama-q4_0.gguf"
  mkdir -p "$cache/random-models"
  python3 scripts/bench_llama_cpp.py make "$tinyllama" tinyllama-q4_0 >&2
  models=("$(scripts/fetch-default-model.sh)" "$tinyllama")
fi
for model in "${models[@]}"; do [ -s "$model" ] || { echo "no model file: $model" >&2; exit 1; }; done
printf '%s\n' "${models[@]}"
