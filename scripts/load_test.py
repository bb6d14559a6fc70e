#!/usr/bin/env python3
"""A small closed-loop HTTP load generator for `sparrow serve` (standard library only).

Usage: load_test.py BASE_URL --requests 200 --clients 8 [--mock] [--max-tokens 16] [--stream]
                    [--temperature 0.7] [--path /v1/chat/completions] [--prompt "Count: {i},"]

Each of --clients threads keeps one HTTP/1.1 connection and sends requests back to back until
--requests have been sent in all. A request counts as an error unless it answers 200 with a
well-formed body (a JSON object with choices; for streams, events ending in `data: [DONE]`).
Prints one JSON line: requests, errors, seconds, requests/s, latency p50/p90/p99/max (ms) and
completion tokens/s (all the answers' completion tokens over the wall time of the whole run), and
prompt tokens, with those the server took from its prefix cache, so that computed prompt +
completion tokens/s says how many tokens the model ran.

With --stream the events are read as they arrive, and the line also has, in ms:
- ttft_p50/p95: time to first token, from sending the request to its first event with text;
- tbt_p50/p95/max: time between tokens, between consecutive events with text of one request
  (the server sends one event per token, except where a token ends inside a UTF-8 character
  and waits to be completed by the next).
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
    p.add_argument("--temperature", type=float, help="sent when given (the server's default is 1)")
    p.add_argument("--ignore-eos", action="store_true",
                   help="send vLLM's ignore_eos: every answer runs to max_tokens, as a benchmark's fixed length")
    p.add_argument("--path", default="/v1/chat/completions")
    p.add_argument("--model", default="SmolLM2-135M-Instruct")
    p.add_argument("--prompt", help="the prompt (completions, /v1/generate) or user message (chat), {i} the "
                   "request's index; default: a sentence about the number i")
    a = p.parse_args()
    url = urllib.parse.urlparse(a.base)

    def body(i: int) -> bytes:
        req = {"model": a.model, "max_tokens": a.max_tokens, "stream": a.stream, "seed": i}
        if a.temperature is not None:
            req["temperature"] = a.temperature
        if a.ignore_eos:
            req["ignore_eos"] = True
        if a.path.endswith("chat/completions"):
            text = a.prompt or "Write one sentence about the number {i}."
            req["messages"] = [{"role": "user", "content": text.format(i=i)}]
        else:
            req["prompt"] = (a.prompt or "Here is a sentence about the number {i}:").format(i=i)
        if a.mock:
            req["mock_response"] = True
        if a.stream and a.path != "/v1/generate":
            req["stream_options"] = {"include_usage": True}
        return json.dumps(req).encode()

    lock = threading.Lock()
    next_index = [0]
    latencies, errors, tokens, prompt_tokens, cached_tokens = [], [], [0], [0], [0]
    ttfts, gaps = [], []  # seconds, streams only

    def take() -> int:
        with lock:
            if next_index[0] >= a.requests:
                return -1
            next_index[0] += 1
            return next_index[0] - 1

    def counts(usage: dict) -> tuple[int, int, int]:
        """Completion, prompt and cached prompt tokens of a `usage` object."""
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        return usage.get("completion_tokens", 0), usage.get("prompt_tokens", 0), cached

    def check(status: int, data: bytes) -> tuple[int, int, int]:
        """The token counts of a good whole answer; raises on a bad one."""
        if status != 200:
            raise ValueError(f"HTTP {status}: {data[:200]!r}")
        obj = json.loads(data)
        if not obj.get("choices"):
            raise ValueError(f"no choices: {data[:200]!r}")
        return counts(obj.get("usage") or {})

    def has_text(event: dict) -> bool:
        """Whether a streamed event carries generated text (not a role, finish or usage chunk)."""
        if "object" not in event:  # /v1/generate: {"index", "text"} deltas, then the whole response
            return "choices" not in event and bool(event.get("text"))
        return any(c.get("text") or (c.get("delta") or {}).get("content") for c in event["choices"])

    def read_stream(resp, start: float) -> tuple[tuple[int, int, int], list[float]]:
        """Reads a stream as it arrives: its token counts and the times (since `start`) of its
        events with text; raises on a bad stream."""
        events, times = [], []
        for line in resp:  # http.client undoes the chunked encoding
            if not line.startswith(b"data: "):
                continue
            now = time.perf_counter() - start
            payload = line[6:].strip().decode()
            events.append(payload)
            if payload != "[DONE]" and has_text(json.loads(payload)):
                times.append(now)
        if not events or events[-1] != "[DONE]":
            raise ValueError(f"stream did not end with [DONE]: {events[-2:]!r}")
        last = json.loads(events[-2]) if len(events) > 1 else {}
        if "error" in last:
            raise ValueError(f"stream error: {last}")
        return counts(last.get("usage") or {"completion_tokens": len(times)}), times

    def client() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=600)
        while (i := take()) >= 0:
            start = time.perf_counter()
            try:
                conn.request("POST", a.path, body=body(i), headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                times = []
                if a.stream and resp.status == 200:
                    (n, prompt, cached), times = read_stream(resp, start)
                else:
                    n, prompt, cached = check(resp.status, resp.read())
                with lock:
                    latencies.append(time.perf_counter() - start)
                    tokens[0] += n
                    prompt_tokens[0] += prompt
                    cached_tokens[0] += cached
                    if times:
                        ttfts.append(times[0])
                        gaps.extend(b - a_ for a_, b in zip(times, times[1:]))
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

    def pct(q: float, values: list[float] = lat) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    result = {
        "path": a.path, "mock": a.mock, "stream": a.stream, "max_tokens": a.max_tokens, "clients": a.clients,
        "requests": a.requests, "errors": len(errors), "seconds": round(seconds, 2),
        "requests_per_s": round(a.requests / seconds, 1), "p50_ms": pct(0.5), "p90_ms": pct(0.9),
        "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1),
        "completion_tokens": tokens[0], "completion_tokens_per_s": round(tokens[0] / seconds, 1),
        "prompt_tokens": prompt_tokens[0], "cached_prompt_tokens": cached_tokens[0],
    }
    if a.temperature is not None:
        result["temperature"] = a.temperature
    if a.ignore_eos:
        result["ignore_eos"] = True
    if ttfts:
        ttft, tbt = sorted(ttfts), sorted(gaps) or [0.0]
        result.update({
            "ttft_p50_ms": pct(0.5, ttft), "ttft_p95_ms": pct(0.95, ttft),
            "tbt_p50_ms": pct(0.5, tbt), "tbt_p95_ms": pct(0.95, tbt), "tbt_max_ms": round(tbt[-1] * 1000, 1),
        })
    print(json.dumps(result))
    for e in errors[:5]:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
