#!/usr/bin/env bash
# Structured output on a real server: `sparrow serve` on SmolLM2-135M-Instruct (or MODEL), driven
# by scripts/structured_output_check.py with the official `openai` client. The 20 schemas of
# Fixtures/structured/schemas.json go through response_format json_schema with n 3 at temperature 1,
# and every output is validated with Python's `jsonschema` (the independent reference); then
# json_object, guided_regex and guided_choice; then the speed of a guided_json request against the
# same request unconstrained (generation tokens/s, medians of 5 seeds); then tool calls
# (scripts/tool_calls_check.py): get_weather with tool_choice required, whole and streamed, a named
# function, and the follow-up turn with the tool's result.
#   scripts/check-structured-output.sh [MODEL]
# The client and the validator live in a venv cached at ~/.cache/sparrow/structured-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/support/wait-for-server.sh
model=${1:-$(scripts/fetch-default-model.sh)}
port="${SPARROW_SERVE_PORT:-18081}"
base="http://127.0.0.1:$port"

echo "== build (release)"
bin=$(scripts/build-release.sh)

cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
venv="$cache/structured-venv"
if ! "$venv/bin/python" -c "import openai, jsonschema" 2>/dev/null; then
  echo "== creating $venv with the openai client and jsonschema"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "openai==3.57.0" "jsonschema==4.23.0"
fi

log=$(mktemp)
"$bin" serve --model "$model" --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
wait_for_server "$base" "$server" "$log"
name=$(basename "$model" .gguf)
"$venv/bin/python" scripts/structured_output_check.py "$base" "$name" Fixtures/structured/schemas.json
"$venv/bin/python" scripts/tool_calls_check.py "$base" "$name"
