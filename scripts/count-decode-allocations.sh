#!/usr/bin/env bash
# Heap allocations per decoded token: runs `sparrow bench -p 0 -r 1` (a warm-up pass and one timed
# pass) for 8 and for 72 tokens with an LD_PRELOAD allocation counter
# (scripts/support/count_allocations.c) and prints the difference per token: (count(72) − count(8)) /
# (2 passes × 64 tokens). Issue 7 asks for none inside the decode loop; issue 16 for none in batched
# decoding either, measured the same way with `--batch 4` (per step of 4 tokens).
#
#   scripts/count-decode-allocations.sh [MODEL] [THREADS]     # default: the SmolLM2 model, 2 threads
#
# Exits 1 when the longer run allocates 16 or more times beyond the shorter: one allocation per token
# would be 128 more; the counts themselves move by one or two between runs (thread start-up timing).
# CI runs it on the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-$(scripts/fetch-default-model.sh)}
threads=${2:-2}
bin=$(scripts/build-release.sh)
lib=$(mktemp -d)/count_allocations.so
cc -O2 -shared -fPIC -o "$lib" scripts/support/count_allocations.c -ldl
count() {  # prompt tokens, generated tokens [bench arguments...]
  local p=$1 n=$2; shift 2
  LD_PRELOAD="$lib" "$bin" bench --model "$model" -p "$p" -n "$n" -t "$threads" -r 1 "$@" 2>&1 >/dev/null \
    | sed -n 's/^allocations: //p'
}
short=$(count 0 8)
long=$(count 0 72)
echo "allocations: $short for 2 × 8 tokens, $long for 2 × 72 tokens: $(( (long - short) / 128 )) per decoded token"
batched_short=$(count 4 8 --batch 4)
batched_long=$(count 4 72 --batch 4)
echo "batched (4 sequences): $batched_short for 2 × 8 steps, $batched_long for 2 × 72 steps:" \
     "$(( (batched_long - batched_short) / 128 )) per step"
[ $(( long - short )) -lt 16 ] && [ $(( batched_long - batched_short )) -lt 16 ]
