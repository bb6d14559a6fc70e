#!/usr/bin/env bash
# Builds `sparrow` in release and prints the binary's path: the build the README runs and the one every
# check and benchmark script uses, so that they share one build. It is the plain `swift build -c release`
# a service gets when it adds the package: the kernels (Sources/CKernels) are compiled for every
# instruction set and pick the CPU's best at run time. SPARROW_TARGET_CPU=native (or e.g. x86-64-v3)
# adds `-target-cpu` for the Swift code, to compare.
#   bin=$(scripts/build-release.sh)
#   scripts/build-release.sh --flags    prints the flags only, for `swift test -c release $(...)`
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release)
if [ -n "${SPARROW_TARGET_CPU:-}" ]; then flags+=(-Xswiftc -target-cpu -Xswiftc "$SPARROW_TARGET_CPU"); fi
if [ "${1:-}" = --flags ]; then echo "${flags[*]}"; exit 0; fi
swift build "${flags[@]}" --product sparrow >/dev/null
echo "$(swift build "${flags[@]}" --show-bin-path)/sparrow"
