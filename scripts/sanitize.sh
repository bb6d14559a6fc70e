#!/usr/bin/env bash
# Runs the whole test suite under a sanitizer:
#
#   scripts/sanitize.sh address    # swift test --sanitize=address
#   scripts/sanitize.sh thread     # swift test --sanitize=thread
#
# Each sanitizer builds into its own scratch directory (.build-sanitize-<name>/), so the normal
# debug build is not thrown away; a first run is a full debug build of everything (~15 min or more
# on a 2-core machine). Extra arguments go to swift test (e.g. --filter ConcurrentEngineTests).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread [swift test arguments]}
shift
# Wall-clock bounds in the tests (hostile templates, health-check latency) are for a plain debug
# build; sanitized code runs several times slower (TSan more than ASan), so they are scaled.
case "$kind" in
  address) export SPARROW_TIME_SCALE=${SPARROW_TIME_SCALE:-4} ;;
  thread) export SPARROW_TIME_SCALE=${SPARROW_TIME_SCALE:-10} ;;
  *) echo "unknown sanitizer '$kind' (address or thread)" >&2; exit 2 ;;
esac
# halt_on_error: the first report fails the run instead of scrolling past.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
# The suppressions name state that is guarded by Synchronization.Mutex, which TSan on Linux cannot see.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$PWD/scripts/support/tsan-suppressions.txt}
echo "== swift test --sanitize=$kind ($(date -u +%Y-%m-%dT%H:%MZ))"
swift test --sanitize="$kind" --scratch-path ".build-sanitize-$kind" "$@" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
echo "== sanitize $kind: passed ($(date -u +%Y-%m-%dT%H:%MZ))"
