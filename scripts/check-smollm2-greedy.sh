#!/usr/bin/env bash
# Real-model check of issue 4: SmolLM2-135M-Instruct Q4_1 against llama.cpp on the same file
# (Fixtures/transformer/smollm2-greedy.json: 5 prompts, llama.cpp's 32 greedy tokens each with its 8 highest
# logits at every step, made by Fixtures/transformer/make_smollm2_greedy.py with llama-cpp-python).
#
# The yardstick is llama.cpp's own spread: the fixture also holds the logits llama.cpp gives the same tokens
# when it evaluates prompt + continuation as one batch instead of one token at a time. Those differ from its
# one-token logits by up to 0.93 (median 0.20) on the top 8, move the top-2 margin by up to 0.49, and flip one
# of the 160 argmaxes (at margin 0.15): two correct paths through the same file need not agree closer than that.
# For each prompt, with llama.cpp's numerics (auto for a quantized GGUF) and its Float16 KV cache:
#   1. tokenization: `sparrow logits --prompt` must give llama.cpp's prompt ids;
#   2. teacher forcing (`--ids` + `--follow` llama.cpp's 32 tokens): at every step where llama.cpp's top-2
#      margin is at least TAU (0.5, above the 0.49 its own paths move it), Sparrow's argmax must be
#      llama.cpp's; Sparrow's deviation on llama.cpp's top 8 must stay within twice llama.cpp's own spread
#      (median and maximum over the prompt's steps, against the fixture's overall median and maximum);
#   3. free-running greedy from the text: Sparrow's tokens must be llama.cpp's up to the first step whose
#      margin is below TAU (after a near tie either continuation is llama.cpp-correct).
#   scripts/check-smollm2-greedy.sh            -> exit 0 when every prompt passes all three
# The Swift test SmolLM2GreedyTests does checks 2 and 3 from llama.cpp's ids when SPARROW_SMOLLM2 is set
# (about 20 s in a release build, many minutes in a debug one). Set WITH_SWIFT_TEST=1 to run it too.
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

TAU = 0.5

def run(args):
    out = subprocess.run([bin, "logits", "--model", model, "--kv-cache", "f16", "--top", "64", "--json"] + args,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

def median(v):
    v = sorted(v)
    return v[len(v) // 2]

spread = [max(abs(b - t[1]) for b, t in zip(brow, trow))
          for c in cases for brow, trow in zip(c["step_batched"], c["step_top"])]
median_bound, max_bound = 2 * median(spread), 2 * max(spread)
print(f"llama.cpp's own batch-vs-one-token spread on its top 8: median {median(spread):.3f}, max {max(spread):.3f}; "
      f"bounds for Sparrow: median {median_bound:.3f}, max {max_bound:.3f}; argmax checked where margin >= {TAU}")

failures = 0
for i, case in enumerate(cases):
    want, n, margins = case["greedy_ids"], len(case["greedy_ids"]), case["top2_margins"]
    label = f"prompt {i + 1} {case['prompt'][:40]!r}"
    by_text = run(["--prompt", case["prompt"], "--greedy", str(n)])
    tokens_ok = by_text["prompt_ids"] == case["prompt_ids"]
    forced = run(["--ids", json.dumps(case["prompt_ids"]), "--follow", json.dumps(want)])
    deviations, wrong = [], []
    for step, (mine, ref, margin) in enumerate(zip(forced["steps"], case["step_top"], margins)):
        logit = {e["id"]: e["logit"] for e in mine}
        deviations.append(max(abs(logit.get(t, float("-inf")) - l) for t, l in ref))
        if margin >= TAU and mine[0]["id"] != ref[0][0]:
            wrong.append(step)
    decisive = next((k for k, m in enumerate(margins) if m < TAU), n)
    greedy_ok = by_text["greedy_ids"][:decisive] == want[:decisive]
    agree = next((k for k, (a, b) in enumerate(zip(by_text["greedy_ids"], want)) if a != b), n)
    ok = (tokens_ok and not wrong and median(deviations) <= median_bound and max(deviations) <= max_bound
          and greedy_ok)
    print(f"{label}: tokenization {'ok' if tokens_ok else 'DIFFERS'}; teacher-forced deviation median "
          f"{median(deviations):.3f} max {max(deviations):.3f}, argmax {'ok' if not wrong else f'DIFFERS at steps {wrong}'}; "
          f"free-running greedy {agree}/{n} agree ({decisive} decisive steps) -> {'ok' if ok else 'FAIL'}")
    if not tokens_ok:
        print(f"  sparrow ids:   {by_text['prompt_ids']}\n  llama.cpp ids: {case['prompt_ids']}")
    failures += not ok
print(f"{5 - failures} passed, {failures} failed")
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
