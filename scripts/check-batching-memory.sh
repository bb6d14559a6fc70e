#!/usr/bin/env bash
# Memory check of continuous batching (issue 17, "Memory"): `sparrow serve` on the default model
# (SmolLM2-135M-Instruct) answers 1,000 short requests from 8 client threads — a mix of n, best_of,
# beam search, greedy, whole and streamed answers, /v1/completions and /v1/generate, and clients
# that hang up mid-stream or while their request runs — and its resident memory (VmRSS of
# /proc/PID/status) after all 1,000 must be within 5 % of what it was after the first 20.
#
#   scripts/check-batching-memory.sh                 -> build (release), serve, drive, compare
#   REQUESTS=200 scripts/check-batching-memory.sh    -> fewer requests (a quicker look)
#   RSS_TOLERANCE=0.10 scripts/check-batching-memory.sh
#   BASELINE=200 scripts/check-batching-memory.sh     -> compare with the RSS after 200 requests
#   SPARROW_BIN=path/to/sparrow SERVE_FLAGS="--max-queue 128" scripts/check-batching-memory.sh
#                                                    -> another binary (no build), more serve flags
#   SERVE_FLAGS=--no-prefix-cache scripts/check-batching-memory.sh
#                                                    -> without the prefix cache
#
# `sparrow serve` makes its whole KV cache resident when it loads a model (ModelOptions.
# reservesKVCache), so neither the prefix cache filling it nor the most blocks ever held at once
# shows as growth: what grows is a leak. The server runs with --kv-cache-mib 64 (KV_CACHE_MIB), small
# beside the weights and the rest, so that the 5 % stays a tight bound on everything else; requests
# that do not fit wait their turn.
#
# The server's flags are the ones every version of `sparrow serve` since issue 8 has: --port 0 (a
# free port, read from its "listening on" line) and --max-queue. When GET /health reports each
# model's scheduler ("models": {path: {"free_blocks", "total_blocks", ...}}), the check also wants,
# after the run, every KV block back in the free list and no request, sequence or reservation
# left; older servers report no such figures and only the RSS is checked. The per-block checks of
# each kind of cancellation are Swift tests (Tests/GenerateAPITests/BatchingCancellationTests.swift).
# Linux only (/proc).
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-1000}"
tolerance="${RSS_TOLERANCE:-0.05}"
baseline="${BASELINE:-20}"

model=$(scripts/fetch-default-model.sh)
if [ -n "${SPARROW_BIN:-}" ]; then
  bin="$SPARROW_BIN"
else
  echo "== build (release)"
  bin=$(scripts/build-release.sh)
fi

log=$(mktemp)
# shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
"$bin" serve --model "$model" --port 0 --max-queue 64 --kv-cache-mib "${KV_CACHE_MIB:-64}" ${SERVE_FLAGS:-} 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 600); do
  port=$(sed -nE 's|.*listening on http://[^:]+:([0-9]+).*|\1|p' "$log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "sparrow serve exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "sparrow serve printed no port"; exit 1; }
cat "$log"
# --model with a path serves it under its file name.
name=$(basename "$model" .gguf)

echo "== $requests requests, 8 clients, server pid $server on port $port"
python3 - "$port" "$server" "$name" "$requests" "$tolerance" "$baseline" <<'PY'
import http.client, json, socket, sys, threading, time

port, pid, model, total, tolerance = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
CLIENTS, FIRST = 8, int(sys.argv[6])
TOPICS = ["rivers", "the moon", "bread", "winter", "a lighthouse", "glass", "tigers", "music", "paper", "the number seven"]


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def request(i):
    """Request i of the mix: (path, body, how): how is 'whole', 'stream', 'hangup-stream' (close
    the connection after the first event) or 'hangup' (close it 50 ms after sending)."""
    kind = i % 10
    body = {"model": model, "prompt": f"Write one sentence about {TOPICS[i % len(TOPICS)]}.", "max_tokens": 8,
            "temperature": 0.7, "seed": i}
    path, how = "/v1/completions", "whole"
    if kind == 1:
        body["n"] = 2
    elif kind == 2:
        body.update(n=1, best_of=3)
    elif kind == 3:
        body.update(stream=True, max_tokens=12)
        how = "stream"
    elif kind == 4:
        body.update(stream=True, n=2)
        how = "stream"
    elif kind == 5:
        body.update(stream=True, max_tokens=64)
        how = "hangup-stream"
    elif kind == 6:
        body.update(temperature=0, max_tokens=16)
    elif kind == 7:
        body.update(temperature=0, use_beam_search=True, best_of=2, n=1)
    elif kind == 8:
        body.update(max_tokens=64)
        how = "hangup"
    elif kind == 9:
        path = "/v1/generate"
        body = {"prompt": body["prompt"], "max_tokens": 8, "seed": i, "temperature": 0.7}
    return path, json.dumps(body).encode(), how


lock = threading.Lock()
errors, done, cancelled = [], [0], [0]


def run(i):
    path, body, how = request(i)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        if how == "hangup":
            time.sleep(0.05)
            conn.sock.shutdown(socket.SHUT_RDWR)
            with lock:
                cancelled[0] += 1
            return
        r = conn.getresponse()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {r.read()[:300]!r}")
        if how == "whole":
            reply = json.loads(r.read())
            if not reply.get("choices"):
                raise RuntimeError(f"no choices: {reply}")
        elif how == "stream":
            lines = r.read().decode().splitlines()
            if "data: [DONE]" not in lines:
                raise RuntimeError(f"stream without [DONE]: {lines[-3:]}")
        else:  # hangup-stream: read the first event, then hang up
            while True:
                line = r.fp.readline()
                if not line or line.startswith(b"data:"):
                    break
            conn.sock.shutdown(socket.SHUT_RDWR)
            with lock:
                cancelled[0] += 1
    except Exception as e:  # noqa: BLE001 - every failure is reported
        with lock:
            errors.append(f"request {i} ({path}, {how}): {e}")
    finally:
        conn.close()
        with lock:
            done[0] += 1


def drive(first, last):
    next_i = [first]

    def worker():
        while True:
            with lock:
                i = next_i[0]
                if i >= last:
                    return
                next_i[0] += 1
            run(i)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def settle():
    # Hung-up requests stop at the server's next step; give them (and the allocator) a moment.
    time.sleep(2)


start = time.time()
before = rss_kib()
drive(0, min(FIRST, total))
settle()
rss_first = rss_kib()
print(f"RSS at start {before / 1024:.1f} MiB, after the first {FIRST} requests {rss_first / 1024:.1f} MiB", flush=True)
step = 200
for first in range(FIRST, total, step):
    drive(first, min(first + step, total))
    print(f"  {min(first + step, total)} requests: RSS {rss_kib() / 1024:.1f} MiB, {len(errors)} errors", flush=True)
settle()
rss_last = rss_kib()
growth = rss_last / rss_first - 1


def health():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/health")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def held(status):
    """What a model's scheduler still holds, or "" when it holds nothing."""
    left = {k: status.get(k) for k in ("generating", "sequences", "waiting", "reserved_blocks") if status.get(k)}
    if status.get("free_blocks") != status.get("total_blocks"):
        left["blocks held"] = status.get("total_blocks", 0) - status.get("free_blocks", 0)
    return ", ".join(f"{k} {v}" for k, v in left.items())


models = health().get("models")
blocks_ok = True
if models is None:
    print("GET /health reports no scheduler figures: RSS only")
else:
    deadline = time.time() + 10
    while any(held(s) for s in models.values()) and time.time() < deadline:
        time.sleep(0.2)
        models = health().get("models") or {}
    for path, status in models.items():
        left = held(status)
        print(f"{path}: {status.get('free_blocks')} of {status.get('total_blocks')} KV blocks free"
              + (f"; still held: {left}" if left else ", nothing held"))
        blocks_ok = blocks_ok and not left
print(f"RSS after all {total} requests {rss_last / 1024:.1f} MiB: {growth * 100:+.2f} % over the first {FIRST} "
      f"(bound {tolerance * 100:.0f} %); {cancelled[0]} hung up on purpose, {len(errors)} errors, {time.time() - start:.0f} s")
for e in errors[:10]:
    print("  error:", e)
ok = not errors and growth <= tolerance and blocks_ok
print("memory check: " + ("passed" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
