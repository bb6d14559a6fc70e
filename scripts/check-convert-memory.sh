#!/usr/bin/env bash
# Issue 20, scope 3 for Hugging Face checkpoints: converting a TinyLlama-1.1B-shape BF16 checkpoint
# (2.05 GiB of random weights in two safetensors shards, written on first use by
# scripts/make_random_checkpoint.py into ~/.cache/sparrow/random-models) streams tensor by tensor.
# For each output type the peak resident memory (GNU time's "Maximum resident set size", which counts
# the mapped shards' pages too) must stay under LIMIT MiB: the largest tensor's source (the 32000 x
# 2048 embedding, 125 MiB in BF16) and its output, plus the process. Then SIGINT during a conversion
# must exit 130 and leave nothing. Not in CI (needs ~5 GB of disk).
#   scripts/check-convert-memory.sh [LIMIT_MIB]      (default 400)
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${1:-400}"
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }
input="$cache/random-models/hf-tinyllama-bf16"
if [ ! -f "$input/model-00002-of-00002.safetensors" ]; then
  python3 -c "import numpy" 2>/dev/null || { echo "needs python3 with numpy" >&2; exit 1; }
  python3 scripts/make_random_checkpoint.py "$input" >&2
fi
bin=$(scripts/build-release.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/check-convert-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

failures=0
for type in BF16 F16 Q8_0 Q4_K_M; do
  /usr/bin/time -v "$bin" quantize "$input" "$work/out.gguf" --type "$type" --quiet 2>"$work/time" >/dev/null
  peak=$(awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$work/time")
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/time")
  size=$(( $(stat -c %s "$work/out.gguf") / 1048576 ))
  if [ "$peak" -le "$limit" ]; then verdict=ok; else verdict=FAIL; failures=$((failures + 1)); fi
  echo "$verdict $type: peak RSS $peak MiB (limit $limit), $elapsed, output $size MiB"
  rm -f "$work/out.gguf"
done

# An interrupted conversion leaves nothing under the output's name (nor a temporary file).
mkdir "$work/interrupted"
"$bin" quantize "$input" "$work/interrupted/out.gguf" --type Q4_K_M --quiet >/dev/null 2>"$work/interrupt.log" &
pid=$!
sleep 3
kill -INT "$pid"
status=0; wait "$pid" || status=$?
left=$(ls -A "$work/interrupted")
if [ "$status" -eq 130 ] && [ -z "$left" ]; then
  echo "ok SIGINT 3 s into a Q4_K_M conversion: exit 130, nothing left"
else
  echo "FAIL SIGINT: exit $status, left: ${left:-nothing}"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "conversion memory within $limit MiB for every type; interruption leaves nothing" || exit 1
