#!/usr/bin/env bash
# Issue 20, "conversion parity": `sparrow quantize DIR OUT --type T` converts the tiny Hugging Face fixtures
# (Fixtures/transformer/{llama,mistral,phi3}/) to F32 and F16 GGUF, and llama.cpp (llama-cpp-python 0.3.36 in
# the cached venv, through scripts/check_convert_llama_cpp.py) must load each file, give transformers' logits
# (F32 within 1e-4; F16 within 1% of the range, argmax >= 95%), give for F16 exactly its logits on the
# reference conversion (Fixtures/convert/reference.json), and tokenize sample texts as Sparrow does on the
# GGUF and on the directory. Each output is also compared byte for byte with the reference: the committed
# convert_hf_to_gguf.py output for F32, reference.json's SHA-256 for F16.
#
#   scripts/check-convert.sh [--bin SPARROW]     default: the release build (scripts/build-release.sh)
# Exits 1 if any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift ;;
    *) echo "usage: $0 [--bin SPARROW]" >&2; exit 2 ;;
  esac
  shift
done
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
venv="$cache/llama-venv"
if ! "$venv/bin/python" -c "import llama_cpp, numpy" 2>/dev/null; then
  echo "== installing llama-cpp-python==0.3.36 into $venv (builds llama.cpp; several minutes)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy "llama-cpp-python==0.3.36" >&2
fi
[ -n "$bin" ] || bin=$(scripts/build-release.sh)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for arch in llama mistral phi3; do
  for type in F32 F16; do
    file="$out/$arch-$type.gguf"
    "$bin" quantize "Fixtures/transformer/$arch" "$file" --type "$type" --quiet 2>/dev/null
    if [ "$type" = F32 ]; then
      if cmp -s "$file" "Fixtures/transformer/$arch-f32.gguf"; then echo "ok   $arch F32: the committed convert_hf_to_gguf.py file, byte for byte"
      else echo "FAIL $arch F32: differs from Fixtures/transformer/$arch-f32.gguf"; status=1; fi
    else
      want=$("$venv/bin/python" -c "import json,sys; print(json.load(open('Fixtures/convert/reference.json'))['$arch']['F16'])")
      got=$(sha256sum "$file" | cut -d' ' -f1)
      if [ "$want" = "$got" ]; then echo "ok   $arch F16: reference.json's SHA-256"
      else echo "FAIL $arch F16: SHA-256 $got, reference $want"; status=1; fi
    fi
    "$venv/bin/python" scripts/check_convert_llama_cpp.py check "$arch" "$type" "$file" "Fixtures/transformer/$arch" "$bin" \
      || status=1
  done
done
[ "$status" = 0 ] && echo "all conversion checks passed" || echo "some conversion checks FAILED"
exit "$status"
