#!/usr/bin/env bash
# Real-server check of issue 8: `sparrow serve` on SmolLM2-135M-Instruct, driven by
#   (a) scripts/openai_client_check.py with the official `openai` client from PyPI (chat whole and
#       streamed, a completion whole and streamed, /v1/models, a 400 and a 404), and
#   (b) scripts/load_test.py: 200 requests from 8 concurrent clients with mock_response (chat, whole
#       and streamed, and /v1/generate streamed), then with SmolLM2 and max_tokens 16: 0 errors each,
#       with requests/s and latency percentiles printed (the numbers of BENCHMARKS.md).
#   scripts/check-server.sh            -> everything
#   MOCK_ONLY=1 scripts/check-server.sh -> only the parts that need no generation
#   WITH_SWIFT_TEST=1 scripts/check-server.sh -> also the Swift suite SmolLM2ServerTests, in release
# The openai client lives in a venv cached at ~/.cache/sparrow/openai-venv (created on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/support/wait-for-server.sh
model=$(scripts/fetch-default-model.sh)
port="${SPARROW_SERVE_PORT:-18080}"
base="http://127.0.0.1:$port"

echo "== build (release)"
bin=$(scripts/build-release.sh)

cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
venv="$cache/openai-venv"
if ! "$venv/bin/python" -c "import openai" 2>/dev/null; then
  echo "== creating $venv with the openai client"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "openai==3.57.0"
fi
echo "openai client $("$venv/bin/python" -c 'import openai; print(openai.__version__)')"

log=$(mktemp)
"$bin" serve --model "$model" --port "$port" --max-queue 64 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
wait_for_server "$base" "$server" "$log"
cat "$log"
# --model with a path serves it under its file name.
name=$(basename "$model" .gguf)

echo "== openai client, mock_response"
"$venv/bin/python" scripts/openai_client_check.py "$base" "$name" --mock
echo "== load test, mock_response: 200 requests, 8 clients"
python3 scripts/load_test.py "$base" --model "$name" --mock --requests 200 --clients 8
python3 scripts/load_test.py "$base" --model "$name" --mock --requests 200 --clients 8 --stream
python3 scripts/load_test.py "$base" --model "$name" --mock --requests 200 --clients 8 --stream --path /v1/generate
if [ "${MOCK_ONLY:-0}" = 1 ]; then echo "MOCK_ONLY=1: skipping the SmolLM2 parts"; exit 0; fi

echo "== openai client, SmolLM2"
"$venv/bin/python" scripts/openai_client_check.py "$base" "$name"
echo "== load test, SmolLM2, max_tokens 16: 200 requests, 8 clients"
python3 scripts/load_test.py "$base" --model "$name" --requests 200 --clients 8 --max-tokens 16
python3 scripts/load_test.py "$base" --model "$name" --requests 200 --clients 8 --max-tokens 16 --stream
if [ "${WITH_SWIFT_TEST:-0}" = 1 ]; then
  echo "== SmolLM2ServerTests (release)"
  SPARROW_SMOLLM2="$model" swift test $(scripts/build-release.sh --flags) --filter SmolLM2ServerTests
fi
echo "server check: OK"
