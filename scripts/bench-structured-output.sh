#!/usr/bin/env bash
# What structured output costs on one model, in one command: the compile time of the 20 schemas of
# Fixtures/structured, the masker's first masks on the model's vocabulary, and the generation
# tokens/s of a guided_json request against the same request unconstrained (5 seeds each,
# interleaved, medians and their ratio; the issue's bar is 0.85). In-process (`sparrow
# bench-structured`, release build), so no server or Python is needed; prints the CPU flags too.
#   scripts/bench-structured-output.sh [MODEL.gguf] [extra bench-structured options]
#   scripts/bench-structured-output.sh Fixtures/vocab/ggml-vocab-llama-bpe.gguf --masks-only
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-$(scripts/fetch-default-model.sh)}
shift || true
bin=$(scripts/build-release.sh)
echo "cpu flags: $(grep -o 'avx[^ ]*' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ')"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)  $(date -u '+%Y-%m-%d %H:%M UTC')"
"$bin" bench-structured --model "$model" "$@"
