#!/usr/bin/env python3
"""Time to first token with the prefix cache on and off, and its memory bound (issue 18).

Starts `sparrow serve` (with and without --no-prefix-cache) on a model and streams
/v1/completions requests with `stream_options.include_usage`, timing the first token and reading
`usage.prompt_tokens_details.cached_tokens` from the last chunk.

  scripts/bench_prefix_cache.py ttft   --binary B --model M     # chat second turn, shared system prompt
  scripts/bench_prefix_cache.py memory --binary B --model M     # 200 distinct prompts, a 64 MiB cache

Scenarios:
- chat: a conversation whose history is ~1,500 tokens; turn 2 (history + turn 1's answer + a new
  question) is timed on a server that answered turn 1 (cache on) and on a fresh server with the
  cache off.
- system: a ~1,000-token system prompt shared by 8 questions, sent one after another; requests
  2..8 are timed with the cache on and compared with the same requests with the cache off.
- memory: 200 distinct ~500-token prompts (max_tokens 1) through --kv-cache-mib 64; after every
  20 the server's VmRSS is read from /proc; /health's KV figures show the cache at its budget
  and blocks evicted and reused
  (GET /health: `cached_blocks` ≤ `total_blocks`, `evicted_blocks` > 0).

Standard library only. Exits 1 when a bar of issue 18 is missed.
"""
import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

WORDS = ("river stone lantern orchard harbor meadow violet copper canyon ember falcon willow summit "
         "quartz prairie thunder cobalt maple glacier saffron tundra velvet beacon cedar").split()


def filler(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words))


class Server:
    def __init__(self, binary, model, extra):
        self.process = subprocess.Popen(
            [binary, "serve", "--model", model, "--port", "0"] + extra,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.port = None
        deadline = time.time() + 300
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.process.kill()
            raise SystemExit("the server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def health(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/health")
        body = json.loads(c.getresponse().read())
        c.close()
        return body

    def complete(self, prompt, max_tokens=16):
        """Streams one completion; returns (seconds to the first token, cached tokens, prompt tokens, text)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                           "stream_options": {"include_usage": True}})
        start = time.perf_counter()
        c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
        response = c.getresponse()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {response.read()[:300]!r}")
        first, usage, text = None, None, ""
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("choices"):
                if first is None:
                    first = time.perf_counter() - start
                text += chunk["choices"][0].get("text", "")
            if chunk.get("usage"):
                usage = chunk["usage"]
        c.close()
        cached = (usage or {}).get("prompt_tokens_details", {}).get("cached_tokens", 0)
        return first, cached, (usage or {}).get("prompt_tokens", 0), text


def tokens_per_word(server):
    """The model's tokens per filler word (tokenizers differ: a random model's may be byte-level)."""
    _, _, tokens, _ = server.complete(filler(random.Random(0), 200), max_tokens=1)
    return tokens / 200


def ttft(args):
    rng = random.Random(1)
    failures = []
    on = Server(args.binary, args.model, [])
    per_word = tokens_per_word(on)
    words = lambda tokens: max(1, int(tokens / per_word))
    # The chat: ~1,500 tokens of history in 8 exchanges, then turn 1 and turn 2.
    history = "".join(f"User: {filler(rng, words(70))}\nAssistant: {filler(rng, words(105))}\n" for _ in range(8))
    turn1 = history + "User: tell me about the river.\nAssistant:"
    t1, _, p1, answer = on.complete(turn1)
    turn2 = turn1 + answer + "\nUser: and the stone?\nAssistant:"
    hit, cached2, p2, _ = on.complete(turn2)
    on.stop()
    off = Server(args.binary, args.model, ["--no-prefix-cache"])
    miss, cached_off, _, _ = off.complete(turn2)
    off.stop()
    ratio = miss / hit
    print(f"chat: turn 1 {p1} prompt tokens, first token {t1:.2f} s; turn 2 {p2} prompt tokens: "
          f"{hit:.2f} s with the cache ({cached2} cached), {miss:.2f} s without ({cached_off} cached): {ratio:.1f}x")
    if ratio < 10:
        failures.append(f"chat second turn {ratio:.1f}x < 10x")

    # The shared system prompt: ~1,000 tokens, 8 questions.
    system = "System: " + filler(rng, words(1000)) + "\n"
    questions = [f"User: question {i}: what about the {WORDS[i]}?\nAssistant:" for i in range(8)]
    on = Server(args.binary, args.model, [])
    with_cache = [on.complete(system + q) for q in questions]
    on.stop()
    off = Server(args.binary, args.model, ["--no-prefix-cache"])
    without = [off.complete(system + q) for q in questions[:3]]
    off.stop()
    baseline = statistics.median(r[0] for r in without)
    later = [r[0] for r in with_cache[1:]]
    ratio = baseline / max(later)
    print(f"system prompt: {with_cache[0][2]} prompt tokens; first request {with_cache[0][0]:.2f} s; requests 2-8 "
          f"{min(later):.2f}-{max(later):.2f} s with the cache (cached {[r[1] for r in with_cache[1:]]}); "
          f"median {baseline:.2f} s without: {ratio:.1f}x (slowest cached request)")
    if ratio < 5:
        failures.append(f"shared system prompt {ratio:.1f}x < 5x")
    return failures


def memory(args):
    rng = random.Random(2)
    failures = []
    size = os.path.getsize(args.model) / (1 << 20)
    server = Server(args.binary, args.model, ["--kv-cache-mib", "64"])
    prompt_words = max(1, int(500 / tokens_per_word(server)))
    budget = 64 + size
    peak = 0.0
    for i in range(200):
        _, cached, tokens, _ = server.complete(f"Note {i}: " + filler(rng, prompt_words), max_tokens=1)
        if i % 20 == 19:
            rss = server.rss_mib()
            peak = max(peak, rss)
            kv = next(iter(server.health().get("models", {}).values()), {})
            print(f"after {i + 1:3d} prompts ({tokens} tokens each): VmRSS {rss:.0f} MiB; KV {kv}")
    kv = next(iter(server.health().get("models", {}).values()), {})
    server.stop()
    limit = budget * 1.10
    print(f"peak VmRSS {peak:.0f} MiB; KV budget 64 MiB + weights {size:.0f} MiB = {budget:.0f} MiB (+10 %: {limit:.0f})")
    if peak > limit:
        failures.append(f"RSS {peak:.0f} MiB over {limit:.0f} MiB")
    if kv.get("evicted_blocks", 0) <= 0:
        failures.append("no block was evicted")
    if kv.get("cached_blocks", 0) > kv.get("total_blocks", 0):
        failures.append("more blocks cached than the budget holds")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["ttft", "memory"])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    failures = ttft(args) if args.scenario == "ttft" else memory(args)
    for f in failures:
        print("MISSED:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
