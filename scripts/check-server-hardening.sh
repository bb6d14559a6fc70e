#!/usr/bin/env bash
# Real-server check of issue 22's connection limits with Python's standard library
# (scripts/check_server_hardening.py): `sparrow serve` on the tiny fixture model, started with
# `ulimit -n 1024` and a 3 s idle timeout;
#   (a) urllib sending a 20 MB body gets the 413 within 2 s;
#   (b) 1,100 idle connections leave /health answering within 1 s, and the idle timeout closes them.
#   scripts/check-server-hardening.sh                   -> with the release build
#   SPARROW_BIN=.build/debug/sparrow scripts/check-server-hardening.sh -> with another build
set -euo pipefail
cd "$(dirname "$0")/.."
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
for _ in $(seq 1 300); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "sparrow serve exited"; exit 1; }
  sleep 0.1
done
curl -fsS "$base/health" >/dev/null || { cat "$log"; echo "sparrow serve did not answer /health"; exit 1; }
python3 scripts/check_server_hardening.py "$base" --idle-timeout 3 --connections 1100
kill -0 "$server" || { cat "$log"; echo "sparrow serve died"; exit 1; }
