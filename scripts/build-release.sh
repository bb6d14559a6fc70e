#!/usr/bin/env bash
# Builds `sparrow` in release for this machine's CPU and prints the binary's path: the build the README
# runs and the one every check and benchmark script uses, so that they share one build.
# Without `-target-cpu` Swift targets baseline x86-64 (SSE2, no FMA): every fused multiply-add becomes a
# libm call and the kernels run 10-50x slower. SPARROW_TARGET_CPU overrides `native` (e.g. x86-64-v3).
#   bin=$(scripts/build-release.sh)
#   scripts/build-release.sh --flags    prints the flags only, for `swift test -c release $(...)`
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release -Xswiftc -target-cpu -Xswiftc "${SPARROW_TARGET_CPU:-native}")
if [ "${1:-}" = --flags ]; then echo "${flags[*]}"; exit 0; fi
swift build "${flags[@]}" --product sparrow >/dev/null
echo "$(swift build "${flags[@]}" --show-bin-path)/sparrow"
