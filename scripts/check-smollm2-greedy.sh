#!/usr/bin/env bash
# Real-model check of issue 4: SmolLM2-135M-Instruct Q4_1's greedy continuations must agree token for
# token with llama.cpp's on the same file (Fixtures/transformer/smollm2-greedy.json: 5 prompts, 32 tokens
# each, made by Fixtures/transformer/make_smollm2_greedy.py with llama-cpp-python).
#
# For each prompt, the release `sparrow logits` runs twice:
#   --prompt TEXT  tokenizer + model: the prompt ids (BOS as the vocabulary says, special tokens parsed)
#                  must be llama.cpp's, and the 32 greedy ids must be llama.cpp's;
#   --ids IDS      the model alone, from llama.cpp's own prompt ids (tells a tokenizer difference from a
#                  model difference).
# Both run as llama.cpp did: its rounding of activations before quantized products (auto for a
# quantized GGUF) and its default Float16 KV cache (--kv-cache f16).
#   scripts/check-smollm2-greedy.sh            -> exit 0 when every prompt agrees for all 32 tokens
# The Swift test SmolLM2GreedyTests does the --ids check when SPARROW_SMOLLM2 is set (about 20 s in a
# release build, many minutes in a debug one). Set WITH_SWIFT_TEST=1 to run it too, in release.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(scripts/fetch-default-model.sh)
expected=Fixtures/transformer/smollm2-greedy.json
[ -s "$expected" ] || { echo "missing $expected"; exit 1; }
bin=$(scripts/build-release.sh)

python3 - "$bin" "$model" "$expected" <<'PY'
import json, subprocess, sys
bin, model, expected = sys.argv[1:]
doc = json.load(open(expected, encoding="utf-8"))
cases = doc["cases"]
assert len(cases) == 5, f"expected 5 prompts, got {len(cases)}"

def run(args, n):
    out = subprocess.run([bin, "logits", "--model", model, "--greedy", str(n), "--kv-cache", "f16",
                          "--top", "1", "--json"] + args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)

def agreeing(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n

failures = 0
for i, case in enumerate(cases):
    want, n = case["greedy_ids"], len(case["greedy_ids"])
    by_text = run(["--prompt", case["prompt"]], n)
    by_ids = run(["--ids", json.dumps(case["prompt_ids"])], n)
    tokens_ok = by_text["prompt_ids"] == case["prompt_ids"]
    text_ok = tokens_ok and by_text["greedy_ids"] == want
    ids_ok = by_ids["greedy_ids"] == want
    print(f"prompt {i + 1} {case['prompt'][:40]!r}: tokenization {'ok' if tokens_ok else 'DIFFERS'}; "
          f"greedy from text {agreeing(by_text['greedy_ids'], want)}/{n}, "
          f"from llama.cpp's ids {agreeing(by_ids['greedy_ids'], want)}/{n}")
    if not tokens_ok:
        print(f"  sparrow ids:   {by_text['prompt_ids']}\n  llama.cpp ids: {case['prompt_ids']}")
    failures += (not text_ok) + (not ids_ok)
print(f"{10 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
PY

# Memory: peak resident set while generating 128 tokens with the full 8192-token context reserved
# must stay under 250 MB (issue 4). The weights are mapped; the KV cache is touched only as it fills.
python3 - "$bin" "$model" <<'PY'
import resource, subprocess, sys
bin, model = sys.argv[1:]
subprocess.run([bin, "logits", "--model", model, "--prompt", "Once upon a time", "--greedy", "128",
                "--max-context", "8192", "--top", "1"], check=True, stdout=subprocess.DEVNULL)
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"SmolLM2 peak resident memory while generating: {peak_mb:.0f} MB (limit 250 MB)")
sys.exit(0 if peak_mb < 250 else 1)
PY

if [ "${WITH_SWIFT_TEST:-0}" = 1 ]; then
  SPARROW_SMOLLM2="$model" swift test $(scripts/build-release.sh --flags) --filter SmolLM2GreedyTests
fi
