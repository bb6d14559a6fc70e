#!/usr/bin/env bash
# Issue 20, "bit for bit with llama.cpp": for every TYPE, llama.cpp's llama_model_quantize (llama-cpp-python
# 0.3.36 in the cached venv, default parameters, ftype LLAMA_FTYPE_MOSTLY_<TYPE>, through
# scripts/quantize_llama_cpp.py) and `sparrow quantize INPUT OUTPUT --type TYPE` (release build) quantize the
# same GGUF file, and the two outputs must be the same file, byte for byte: header, metadata, tensor table and
# every tensor's data. llama_model_quantize records nothing about the tool that ran it (no key but
# general.quantization_version and general.file_type changes, and Sparrow writes both alike), so no key is
# exempt. When the files differ, the helper's `compare` says where (metadata keys, tensor types, tensor data).
#
#   scripts/check-quantize.sh                     the small inputs: Fixtures/quantize/{kquant-f16,odd-bf16}.gguf
#                                                 and Fixtures/transformer/{llama,mistral,phi3}-f32.gguf
#   scripts/check-quantize.sh --full              also the TinyLlama-shape F16 file (2.2 GB, written on first use
#                                                 by scripts/bench_llama_cpp.py into ~/.cache/sparrow/random-models)
#   scripts/check-quantize.sh --input FILE ...    these GGUF files instead (repeatable)
#   scripts/check-quantize.sh --types "Q4_0 Q4_K_M"   only these types (default: all twelve)
#   scripts/check-quantize.sh --interrupt-only    only the interruption checks below
#   THREADS=2 (both tools' threads)
# With --full or --interrupt-only it also checks interrupted runs on the TinyLlama-shape file: SIGINT and
# SIGTERM a second into `sparrow quantize` must exit 130 and leave the output's directory empty (no output,
# no temporary file); and, where a tmpfs can be mounted (root), quantizing into a 16 MiB tmpfs must fail
# with "No space left on device" and leave it empty. Where no tmpfs can be mounted that check says so and
# is skipped: there is no other way to make a write fail halfway here.
# Exits 1 if any output differs, either tool fails, or an interruption check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

types="F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K"
inputs=()
full=0
interrupt=0
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1; interrupt=1 ;;
    --interrupt-only) interrupt=1; types="" ;;
    --input) inputs+=("$2"); shift ;;
    --types) types="$2"; shift ;;
    *) echo "usage: $0 [--full | --interrupt-only] [--input FILE]... [--types \"T ...\"]" >&2; exit 2 ;;
  esac
  shift
done
threads="${THREADS:-2}"
if [ ${#inputs[@]} -eq 0 ]; then
  inputs=(Fixtures/quantize/kquant-f16.gguf Fixtures/quantize/odd-bf16.gguf
          Fixtures/transformer/llama-f32.gguf Fixtures/transformer/mistral-f32.gguf Fixtures/transformer/phi3-f32.gguf)
fi

cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
source scripts/support/llama-venv.sh
ensure_llama_venv "$cache"
tinyllama="$cache/random-models/bench-tinyllama-f16.gguf"
if [ "$full" = 1 ] || [ "$interrupt" = 1 ]; then
  mkdir -p "$cache/random-models"
  "$venv/bin/python" scripts/bench_llama_cpp.py make "$tinyllama" tinyllama-f16 >&2
fi
[ "$full" = 1 ] && inputs+=("$tinyllama")

bin=$(scripts/build-release.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/check-quantize.XXXXXX")
mounted=""
trap '[ -n "$mounted" ] && umount "$mounted"; rm -rf "$work"' EXIT

seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
echo "llama-cpp-python $("$venv/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)'), sparrow $bin, $threads threads"
failures=0
for input in "${inputs[@]}"; do
  [ -s "$input" ] || { echo "no input file: $input" >&2; exit 1; }
  for type in $types; do
    expected="$work/llama-cpp.gguf" actual="$work/sparrow.gguf"
    t0=$(date +%s.%N)
    if ! "$venv/bin/python" scripts/quantize_llama_cpp.py quantize "$input" "$expected" "$type" --threads "$threads" \
        >"$work/llama-cpp.log" 2>&1; then
      echo "FAIL $type $(basename "$input"): llama.cpp failed"; tail -3 "$work/llama-cpp.log"; failures=$((failures + 1)); continue
    fi
    t1=$(date +%s.%N)
    if ! "$bin" quantize "$input" "$actual" --type "$type" --threads "$threads" --quiet 2>"$work/sparrow.log"; then
      echo "FAIL $type $(basename "$input"): sparrow failed"; cat "$work/sparrow.log"; failures=$((failures + 1)); continue
    fi
    t2=$(date +%s.%N)
    timing="llama.cpp $(seconds "$t0" "$t1") s, sparrow $(seconds "$t1" "$t2") s"
    if cmp -s "$expected" "$actual"; then
      echo "same $type $(basename "$input"): $(stat -c %s "$actual") bytes, sha256 $(sha256sum "$actual" | cut -c1-16) ($timing)"
    else
      echo "DIFF $type $(basename "$input") ($timing):"
      "$venv/bin/python" scripts/quantize_llama_cpp.py compare "$expected" "$actual" | sed 's/^/  /' || true
      failures=$((failures + 1))
    fi
    rm -f "$expected" "$actual"
  done
done
if [ "$interrupt" = 1 ]; then
  for signal in INT TERM; do
    dir="$work/interrupted-$signal"
    mkdir -p "$dir"
    "$bin" quantize "$tinyllama" "$dir/out.gguf" --type Q4_0 --threads "$threads" --quiet 2>"$work/signal.log" &
    pid=$!
    for _ in $(seq 100); do compgen -G "$dir/.out.gguf.*.partial" >/dev/null && break; sleep 0.1; done
    sleep 1
    kill -"$signal" "$pid"
    status=0
    wait "$pid" || status=$?
    left=$(ls -A "$dir")
    if [ "$status" = 130 ] && [ -z "$left" ]; then
      echo "SIG$signal after 1 s: exit 130, nothing left in the output's directory ($(cat "$work/signal.log"))"
    else
      echo "FAIL SIG$signal: exit $status, left: ${left:-nothing}"; failures=$((failures + 1))
    fi
  done
  small="$work/tmpfs"
  mkdir -p "$small"
  if mount -t tmpfs -o size=16m tmpfs "$small" 2>/dev/null; then
    mounted="$small"
    status=0
    "$bin" quantize "$tinyllama" "$small/out.gguf" --type Q4_0 --threads "$threads" --quiet 2>"$work/full.log" || status=$?
    left=$(ls -A "$small")
    umount "$small" && mounted=""
    if [ "$status" = 1 ] && [ -z "$left" ] && grep -q "No space left on device" "$work/full.log"; then
      echo "full disk (16 MiB tmpfs): exit 1, nothing left ($(cat "$work/full.log"))"
    else
      echo "FAIL full disk: exit $status, left: ${left:-nothing}: $(cat "$work/full.log")"; failures=$((failures + 1))
    fi
  else
    echo "full disk: skipped, a tmpfs cannot be mounted here (needs root); no other way to fail a write halfway"
  fi
fi
if [ "$failures" -gt 0 ]; then echo "$failures of the runs differ or failed"; exit 1; fi
[ -n "$types" ] && echo "every output is llama.cpp's, byte for byte"
exit 0
