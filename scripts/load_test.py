#!/usr/bin/env python3
"""A small closed-loop HTTP load generator for `sparrow serve` (standard library only).

Usage: load_test.py BASE_URL --requests 200 --clients 8 [--mock] [--max-tokens 16] [--stream]
                    [--path /v1/chat/completions]

Each of --clients threads keeps one HTTP/1.1 connection and sends requests back to back until
--requests have been sent in all. A request counts as an error unless it answers 200 with a
well-formed body (a JSON object with choices; for streams, events ending in `data: [DONE]`).
Prints one JSON line: requests, errors, seconds, requests/s, latency p50/p90/p99/max (ms) and
completion tokens/s.
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--mock", action="store_true")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--path", default="/v1/chat/completions")
    p.add_argument("--model", default="SmolLM2-135M-Instruct")
    a = p.parse_args()
    url = urllib.parse.urlparse(a.base)

    def body(i: int) -> bytes:
        req = {"model": a.model, "max_tokens": a.max_tokens, "stream": a.stream, "seed": i}
        if a.path.endswith("chat/completions"):
            req["messages"] = [{"role": "user", "content": f"Write one sentence about the number {i}."}]
        else:
            req["prompt"] = f"Here is a sentence about the number {i}:"
        if a.mock:
            req["mock_response"] = True
        if a.stream and a.path != "/v1/generate":
            req["stream_options"] = {"include_usage": True}
        return json.dumps(req).encode()

    lock = threading.Lock()
    next_index = [0]
    latencies, errors, tokens = [], [], [0]

    def take() -> int:
        with lock:
            if next_index[0] >= a.requests:
                return -1
            next_index[0] += 1
            return next_index[0] - 1

    def check(status: int, data: bytes) -> int:
        """The completion tokens of a good answer; raises on a bad one."""
        if status != 200:
            raise ValueError(f"HTTP {status}: {data[:200]!r}")
        if a.stream:
            events = [e[6:] for e in data.decode().split("\n\n") if e.startswith("data: ")]
            if not events or events[-1] != "[DONE]":
                raise ValueError(f"stream did not end with [DONE]: {data[-200:]!r}")
            last = json.loads(events[-2])
            if "error" in last:
                raise ValueError(f"stream error: {last}")
            usage = last.get("usage") or {}
            return usage.get("completion_tokens", 0)
        obj = json.loads(data)
        if not obj.get("choices"):
            raise ValueError(f"no choices: {data[:200]!r}")
        return obj["usage"]["completion_tokens"]

    def client() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=600)
        while (i := take()) >= 0:
            start = time.perf_counter()
            try:
                conn.request("POST", a.path, body=body(i), headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                n = check(resp.status, data)
                with lock:
                    latencies.append(time.perf_counter() - start)
                    tokens[0] += n
            except Exception as e:  # noqa: BLE001 - every failure is an error to count
                with lock:
                    errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=600)
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    lat = sorted(latencies) or [0.0]

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)

    result = {
        "path": a.path, "mock": a.mock, "stream": a.stream, "max_tokens": a.max_tokens, "clients": a.clients,
        "requests": a.requests, "errors": len(errors), "seconds": round(seconds, 2),
        "requests_per_s": round(a.requests / seconds, 1), "p50_ms": pct(0.5), "p90_ms": pct(0.9),
        "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1),
        "completion_tokens_per_s": round(tokens[0] / seconds, 1),
    }
    print(json.dumps(result))
    for e in errors[:5]:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
