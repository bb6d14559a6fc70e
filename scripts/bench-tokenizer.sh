#!/usr/bin/env bash
# Tokenizer benchmark (not a test): builds sparrow in release and runs `sparrow bench-tokenizer` on
# llama.cpp's 128k-token llama-bpe vocabulary and the 32k-token llama-spm one, printing load time,
# MB/s for 1 MiB and 10 MiB of mixed English/code/CJK text, and the 10x ratio.
#   scripts/bench-tokenizer.sh [MEGABYTES]    (default 1; the larger text is ten times this)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(scripts/build-release.sh)
for vocab in llama-bpe llama-spm; do
    "$bin" bench-tokenizer --model "Fixtures/vocab/ggml-vocab-$vocab.gguf" --megabytes "${1:-1}" --repeats 9
    echo
done
