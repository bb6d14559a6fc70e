#!/usr/bin/env bash
# Issue 20, "peak memory": quantizing a Llama-3-8B-shape F16 file (16 GB, random weights, written on first
# use by scripts/bench_llama_cpp.py into ~/.cache/sparrow/random-models) to Q4_K_M with `sparrow quantize`
# must peak under 1.5 GB (1430 MiB) resident (GNU time's "Maximum resident set size", which counts the input's mapped
# pages too), and the output must be llama.cpp's Q4_K_M of the same file byte for byte (llama-cpp-python
# 0.3.36's llama_model_quantize, whose peak is printed beside). Needs ~26 GB of disk and ~10 minutes on 2
# cores; not in CI.
#   scripts/check-quantize-memory.sh [TYPE]     (default Q4_K_M)
set -euo pipefail
cd "$(dirname "$0")/.."
type="${1:-Q4_K_M}"
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
source scripts/support/llama-venv.sh
ensure_llama_venv "$cache"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }
input="$cache/random-models/bench-llama3-8b-f16.gguf"
mkdir -p "$cache/random-models"
"$venv/bin/python" scripts/bench_llama_cpp.py make "$input" llama3-8b-f16 >&2
bin=$(scripts/build-release.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/check-quantize-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

peak() { awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$1"; }
elapsed() { awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$1"; }
/usr/bin/time -v "$bin" quantize "$input" "$work/sparrow.gguf" --type "$type" --quiet 2>"$work/sparrow.time"
grep '^wrote' "$work/sparrow.time"
/usr/bin/time -v "$venv/bin/python" scripts/quantize_llama_cpp.py quantize "$input" "$work/llama-cpp.gguf" "$type" --threads 2 \
  >/dev/null 2>"$work/llama-cpp.time"
echo "sparrow:   peak RSS $(peak "$work/sparrow.time") MiB, $(elapsed "$work/sparrow.time")"
echo "llama.cpp: peak RSS $(peak "$work/llama-cpp.time") MiB, $(elapsed "$work/llama-cpp.time")"
status=0
if cmp -s "$work/sparrow.gguf" "$work/llama-cpp.gguf"; then
  echo "outputs identical: sha256 $(sha256sum "$work/sparrow.gguf" | cut -c1-16), $(stat -c %s "$work/sparrow.gguf") bytes"
else
  echo "FAIL: the outputs differ"; "$venv/bin/python" scripts/quantize_llama_cpp.py compare "$work/llama-cpp.gguf" "$work/sparrow.gguf" | head -20
  status=1
fi
if [ "$(peak "$work/sparrow.time")" -ge 1430 ]; then echo "FAIL: sparrow's peak is over 1.5 GB"; status=1; fi
exit $status
