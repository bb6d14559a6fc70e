#!/usr/bin/env bash
# Issue 17's cost of candidates: the wall time of `sparrow generate --best-of 8 --max-tokens 32` and of
# `--beam-search --best-of 4 --temperature 0`, each against `--n 1` with the same flags, on each model.
# Bars: best_of 8 <= 3.5x, beam search (width 4) <= 2.5x.
#   scripts/bench-candidates.sh                  -> SmolLM2 and the TinyLlama-shape Q4_0 file
#   scripts/bench-candidates.sh MODEL.gguf ...   -> those files
# Every command runs RUNS times (5) in turn with the others, after one warm-up each; the ratios use
# medians. Every run passes --ignore-eos, so that each candidate and the single answer all generate
# exactly 32 tokens: otherwise a single answer that ends at its end token after a few tokens, against
# 8 candidates of which one runs to 32, measures the model's answers, not the cost of batching them.
# Each command is also run once without it, and that ratio printed for comparison. The prompt is raw
# text (`--prompt "Once upon a time, a lighthouse keeper"`: the random-weight files have no chat template).
# 2 threads (the engine's default). Environment: RUNS (5), SPARROW_BIN (a binary to measure instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
list=$(scripts/support/batching-bench-models.sh "$@")
mapfile -t models <<<"$list"
bin="${SPARROW_BIN:-$(scripts/build-release.sh)}"

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU flags: $(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"

python3 - "$bin" "$runs" "${models[@]}" <<'PY'
import statistics, subprocess, sys, time

binary, runs, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
PROMPT = "Once upon a time, a lighthouse keeper"
CASES = {
    "best_of 8": (["--n", "1", "--seed", "1"], ["--n", "1", "--best-of", "8", "--seed", "1"], 3.5),
    "beam search, width 4": (["--n", "1", "--temperature", "0"],
                             ["--n", "1", "--best-of", "4", "--beam-search", "--temperature", "0"], 2.5),
}


def timed(model, flags):
    command = [binary, "generate", "--model", model, "--max-tokens", "32"] + flags + ["--prompt", PROMPT]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


missed = False
for model in models:
    name = model.rsplit("/", 1)[-1]
    print(f"\n### {name}\n")
    print("| case | command | n 1 median s | candidates median s | ratio | bar | without --ignore-eos |")
    print("|---|---|---|---|---|---|---|")
    for case, (single, many, bar) in CASES.items():
        eos = ["--ignore-eos"]
        for flags in (single + eos, many + eos):
            timed(model, flags)  # warm-up: page cache, first-use costs
        times = {0: [], 1: []}
        for _ in range(runs):
            times[0].append(timed(model, single + eos))
            times[1].append(timed(model, many + eos))
        a, b = statistics.median(times[0]), statistics.median(times[1])
        natural = timed(model, many) / timed(model, single)
        ok = b / a <= bar
        missed |= not ok
        print(f"| {case} | `generate --max-tokens 32 {' '.join(many)} --ignore-eos` | {a:.2f} | {b:.2f} | "
              f"**{b / a:.2f}** | <= {bar} {'met' if ok else 'MISSED'} | {natural:.2f} |")
sys.exit(1 if missed else 0)
PY
