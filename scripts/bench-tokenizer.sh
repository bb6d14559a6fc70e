#!/usr/bin/env bash
# Tokenizer benchmark (not a test): builds sparrow in release and runs `sparrow bench-tokenizer` on
# llama.cpp's 128k-token llama-bpe vocabulary and the 32k-token llama-spm one, printing load time,
# MB/s for 1 MiB and 10 MiB of mixed English/code/CJK text, and the 10x ratio.
#   scripts/bench-tokenizer.sh [MEGABYTES]    (default 1; the larger text is ten times this)
# Scratch folder: $SPARROW_BENCH_SCRATCH, else .build-bench (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${SPARROW_BENCH_SCRATCH:-.build-bench}"
swift build -c release --scratch-path "$scratch" --product sparrow >&2
for vocab in llama-bpe llama-spm; do
    "$scratch/release/sparrow" bench-tokenizer --model "Fixtures/vocab/ggml-vocab-$vocab.gguf" --megabytes "${1:-1}" --repeats 5
    echo
done
