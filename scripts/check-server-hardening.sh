#!/usr/bin/env bash
# Real-server check of issue 22's connection limits with Python's standard library
# (scripts/check_server_hardening.py): `sparrow serve` on the tiny fixture model, started with
# `ulimit -n 1024` and a 3 s idle timeout;
#   (a) urllib sending a 20 MB body gets the 413 within 2 s;
#   (b) 1,100 idle connections leave /health answering within 1 s, and the idle timeout closes them;
#   (c) with SPARROW_API_KEY, /health is open and /v1/models needs the key; SIGTERM during a stream
#       lets it finish (--shutdown-grace), then the server exits 0; /metrics parses with
#       prometheus_client's parser and its counters move (scripts/check_metrics.py).
#   scripts/check-server-hardening.sh                   -> with the release build
#   SPARROW_BIN=.build/debug/sparrow scripts/check-server-hardening.sh -> with another build
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/support/wait-for-server.sh
port="${SPARROW_SERVE_PORT:-18081}"
base="http://127.0.0.1:$port"
bin="${SPARROW_BIN:-}"
if [ -z "$bin" ]; then
  echo "== build (release)"
  bin=$(scripts/build-release.sh)
fi

log=$(mktemp)
# The server gets the open-file limit of the issue's report; the client raises its own.
(ulimit -n 1024; exec "$bin" serve --model Fixtures/transformer/llama-q8_0.gguf --port "$port" --idle-timeout 3) >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
wait_for_server "$base" "$server" "$log"
python3 scripts/check_server_hardening.py "$base" --idle-timeout 3 --connections 1100
kill -0 "$server" || { cat "$log"; echo "sparrow serve died"; exit 1; }

echo "== SIGTERM: a stream in flight finishes, then the server exits 0"
kill "$server"; wait "$server" 2>/dev/null || true
SPARROW_API_KEY=sk-check "$bin" serve --model Fixtures/transformer/llama-q8_0.gguf --port "$port" --shutdown-grace 20 >"$log" 2>&1 &
server=$!
wait_for_server "$base" "$server" "$log"
# SPARROW_API_KEY: /health is open, the rest needs the key.
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models")
[ "$code" = 401 ] || { echo "FAIL: /v1/models without a key: $code"; exit 1; }
# /metrics through prometheus_client's parser (PyPI, in a venv cached like the openai client's).
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
venv="$cache/prometheus-venv"
if ! "$venv/bin/python" -c "import prometheus_client" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "prometheus-client==0.26.0"
fi
"$venv/bin/python" scripts/check_metrics.py "$base" llama-q8_0 --api-key sk-check
stream=$(mktemp)
curl -sN "$base/v1/completions" -H 'Authorization: Bearer sk-check' -H 'Content-Type: application/json' \
  -d '{"prompt": "Once upon a time", "max_tokens": 100, "ignore_eos": true, "stream": true}' >"$stream" &
client=$!
sleep 0.2
kill -TERM "$server"
status=0; wait "$server" || status=$?
wait "$client" || true
grep -q 'data: \[DONE\]' "$stream" || { echo "FAIL: the stream did not finish: $(tail -c 300 "$stream")"; exit 1; }
[ "$status" = 0 ] || { cat "$log"; echo "FAIL: sparrow serve exited $status after SIGTERM"; exit 1; }
echo "stream finished ($(grep -c '^data: ' "$stream") events); sparrow serve exited 0"
rm -f "$stream"
echo "server hardening check: OK"
