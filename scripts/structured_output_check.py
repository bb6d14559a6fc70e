"""Structured output through the official `openai` client, validated by Python's `jsonschema`.

Usage: structured_output_check.py BASE_URL MODEL SCHEMAS_JSON

1. Each schema of SCHEMAS_JSON through chat.completions with response_format json_schema, n=3,
   temperature 1: every output must parse and validate (jsonschema, the independent reference).
2. response_format json_object (finished outputs must parse; ones cut by max_tokens are counted),
   and vLLM's guided_regex / guided_choice through extra_body.
3. Speed: the same /v1/generate request with and without guided_json (5 seeds each, interleaved),
   median generation tokens/s of each and their ratio.
Exits 1 on any invalid output.
"""
import json
import re
import statistics
import sys
import time
import urllib.request

import jsonschema
from openai import OpenAI

base, model, schemas_path = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base + "/v1", api_key="unused")
schemas = json.load(open(schemas_path))
failures = 0


def fail(message):
    global failures
    failures += 1
    print("FAIL:", message)


total = 0
for entry in schemas:
    name, schema = entry["name"], entry["schema"]
    started = time.time()
    response = client.chat.completions.create(
        model=model, n=3, temperature=1, max_tokens=800, seed=len(name),
        messages=[{"role": "user", "content": f"Give me an example {name} as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}})
    for choice in response.choices:
        total += 1
        text = choice.message.content
        try:
            jsonschema.validate(json.loads(text), schema)
        except Exception as error:  # noqa: BLE001 - any parse or validation error is a failure
            fail(f"{name} choice {choice.index} ({choice.finish_reason}): {error}: {text!r}")
    print(f"{name:10s} 3 outputs in {time.time() - started:5.1f}s, e.g. {response.choices[0].message.content[:70]!r}")
print(f"{total - failures}/{total} schema outputs parse and validate")

response = client.chat.completions.create(
    model=model, n=3, temperature=1, max_tokens=800, seed=1, response_format={"type": "json_object"},
    messages=[{"role": "user", "content": "Describe a cat as a JSON object."}])
for choice in response.choices:
    # Any object is an unbounded language: a sample may run to max_tokens inside a string. Only a
    # finished output must parse; a cut one is counted.
    if choice.finish_reason != "stop":
        print(f"json_object choice {choice.index}: cut by max_tokens ({choice.finish_reason})")
        continue
    try:
        if not isinstance(json.loads(choice.message.content), dict):
            fail(f"json_object gave a non-object: {choice.message.content!r}")
    except Exception as error:  # noqa: BLE001
        fail(f"json_object: {error}: {choice.message.content!r}")
pattern = r"[A-Z][a-z]{2,9}, [0-9]{1,2} (Jan|Feb|Mar)"
response = client.completions.create(model=model, prompt="A name and a date:", n=3, temperature=1, max_tokens=40,
                                     extra_body={"guided_regex": pattern})
for choice in response.choices:
    if not re.fullmatch(pattern, choice.text):
        fail(f"guided_regex: {choice.text!r}")
response = client.completions.create(model=model, prompt="Sentiment of 'great!':", n=3, temperature=1, max_tokens=10,
                                     extra_body={"guided_choice": ["positive", "negative"]})
for choice in response.choices:
    if choice.text not in ("positive", "negative"):
        fail(f"guided_choice: {choice.text!r}")
print("json_object, guided_regex and guided_choice checked")


def generate(body):
    request = urllib.request.Request(base + "/v1/generate", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


schema = next(e["schema"] for e in schemas if e["name"] == "movie")
speeds = {"free": [], "json": []}
for seed in range(5):
    for kind in ("free", "json"):
        body = {"messages": [{"role": "user", "content": "Describe a movie as JSON."}], "max_tokens": 128,
                "temperature": 1, "seed": seed}
        if kind == "json":
            body["guided_json"] = schema
        r = generate(body)
        speeds[kind].append(r["timing"]["generation_tokens_per_s"])
free, constrained = statistics.median(speeds["free"]), statistics.median(speeds["json"])
print(f"speed: unconstrained {free:.1f} tok/s, guided_json {constrained:.1f} tok/s, ratio {constrained / free:.2f}")
sys.exit(1 if failures else 0)
