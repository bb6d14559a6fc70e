#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (AddressSanitizer + libFuzzer) and runs each for SECONDS
# (default 60), one after another.
#
#   scripts/fuzz.sh [SECONDS] [gguf|safetensors|tokenizer-json|template|request|grammar ...]
#
# Each harness starts from its seeds in Fixtures/fuzz/<harness>/ plus the corpus it grew on earlier
# runs (Fuzz/.build/corpus/<harness>/, not committed). A crash, an AddressSanitizer report, a hang
# (one input over FUZZ_TIMEOUT seconds, default 10) or an allocation over FUZZ_MALLOC_LIMIT_MB (default
# 1024) writes the input to Fuzz/.build/crashes/ and makes this script exit 1 after the remaining
# harnesses have run. FUZZ_RUNS=N also stops a harness after N executions (whichever comes first).
# One summary line per harness (executions, seconds, corpus size) goes to stdout and to
# Fuzz/.build/fuzz-summary.txt; libFuzzer's own log is Fuzz/.build/logs/<harness>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
all=(gguf safetensors tokenizer-json template request grammar)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")

product() {
  case "$1" in
    gguf) echo FuzzGGUF ;;
    safetensors) echo FuzzSafetensors ;;
    tokenizer-json) echo FuzzTokenizerJSON ;;
    template) echo FuzzTemplate ;;
    request) echo FuzzRequest ;;
    grammar) echo FuzzGrammar ;;
    *) echo "unknown harness '$1' (expected one of: ${all[*]})" >&2; exit 2 ;;
  esac
}
for h in "${harnesses[@]}"; do product "$h" >/dev/null; done

# The harness package resolves the parent's dependencies; reuse the parent's pins when there are any.
[ -f Fuzz/Package.resolved ] || [ ! -f Package.resolved ] || cp Package.resolved Fuzz/Package.resolved

echo "== building the fuzz harnesses (debug, -sanitize=fuzzer,address)"
# -parse-as-library: the harnesses have no top-level code; main() is libFuzzer's driver (see
# Fuzz/Sources/FuzzDriver/include/FuzzDriver.h for why each harness calls it itself).
flags=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
# ld.gold warns about every ASan helper symbol it cannot export; those lines are noise.
swift build --package-path Fuzz "${flags[@]}" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] |Cannot export local symbol' || true; }
bin=$(swift build --package-path Fuzz "${flags[@]}" --show-bin-path)

out=Fuzz/.build
mkdir -p "$out/crashes" "$out/logs"
summary="$out/fuzz-summary.txt"
failed=()
for h in "${harnesses[@]}"; do
  p=$(product "$h")
  corpus="$out/corpus/$h"
  mkdir -p "$corpus"
  log="$out/logs/$h.log"
  extra=()
  [ -f "Fixtures/fuzz/$h.dict" ] && extra+=("-dict=Fixtures/fuzz/$h.dict")
  [ -n "${FUZZ_RUNS:-}" ] && extra+=("-runs=$FUZZ_RUNS")
  echo "== $p for ${seconds}s"
  status=0
  # First the seeds alone, each once, then exit: what the harness holds at exit is then the same on
  # every run, so the sanitizer's exit-time leak check is deterministic for them (it also runs after the
  # timed run below, on whatever that run left).
  "$bin/$p" Fixtures/fuzz/"$h"/* -artifact_prefix="$out/crashes/$h-seeds-" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$(date -u +%Y-%m-%dT%H:%MZ) $h: the seeds alone failed, exit $status" | tee -a "$summary"
    failed+=("$h")
    sed -n '/==[0-9]*==ERROR/,$p' "$log" | head -60 >&2 || true
    continue
  fi
  # The grown corpus comes first: libFuzzer writes new inputs to its first directory only, so the
  # committed seeds are never modified.
  "$bin/$p" "$corpus" "Fixtures/fuzz/$h" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" \
    -malloc_limit_mb="${FUZZ_MALLOC_LIMIT_MB:-1024}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$h-" "${extra[@]}" >"$log" 2>&1 || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || echo '?')
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' || echo "$seconds")
  files=$(find "$corpus" -type f | wc -l)
  line="$(date -u +%Y-%m-%dT%H:%MZ) $h: $runs executions in ${took}s, corpus $files files (+$(find "Fixtures/fuzz/$h" -type f | wc -l) seeds), exit $status"
  echo "$line" | tee -a "$summary"
  if [ "$status" -ne 0 ]; then
    failed+=("$h")
    # The report itself, with its first stack traces, so that a CI log alone says what failed.
    sed -n '/==[0-9]*==ERROR/,$p' "$log" | grep -vE '^(MS:|#[0-9]+\s+(NEW|REDUCE|pulse|INITED))' | head -60 >&2 || true
    grep -E 'SUMMARY|Test unit written' "$log" | head -5 >&2 || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs in $out/crashes/, logs in $out/logs/)" >&2
  exit 1
fi
echo "fuzz: no crash"
