#!/usr/bin/env python3
"""GET /metrics of a running `sparrow serve` parses with prometheus_client's text-format parser, and
its request and token counters move as requests are made.

  check_metrics.py BASE_URL MODEL [--api-key KEY]
"""
import argparse
import json
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(base, headers):
    with urllib.request.urlopen(urllib.request.Request(f"{base}/metrics", headers=headers), timeout=30) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("model")
    parser.add_argument("--api-key")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    before = scrape(args.base, headers)
    body = json.dumps({"model": args.model, "prompt": "Once upon a time", "max_tokens": 8, "ignore_eos": True}).encode()
    for _ in range(3):
        request = urllib.request.Request(f"{args.base}/v1/completions", data=body,
                                         headers={**headers, "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=60).read()
    # A request is counted once its last byte is written, a moment after the client has it.
    for _ in range(50):
        after = scrape(args.base, headers)
        requests = value(after, "sparrow_http_requests_total", endpoint="/v1/completions", status="200") - \
            value(before, "sparrow_http_requests_total", endpoint="/v1/completions", status="200")
        generated = value(after, "sparrow_generated_tokens_total") - value(before, "sparrow_generated_tokens_total")
        if requests >= 3:
            break
        time.sleep(0.1)
    print(f"/metrics parsed: {len(after)} samples; +{requests:g} completions, +{generated:g} generated tokens")
    if requests != 3 or generated != 24:
        print("FAIL: the counters did not move by 3 requests and 24 tokens")
        sys.exit(1)
    kv = [key for key in after if key[0] == "sparrow_kv_blocks_total"]
    if not kv:
        print("FAIL: no sparrow_kv_blocks_total for the loaded model")
        sys.exit(1)
    print("metrics check: OK")


if __name__ == "__main__":
    main()
