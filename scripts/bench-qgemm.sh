#!/usr/bin/env bash
# The quantized matrix × matrix kernel alone, one thread: a `rows` × `length` matrix of a ggml type
# times `columns` activation columns (scripts/support/qgemm_bench.c, built against Sources/CKernels).
# With --against REV it also builds REV's kernels and alternates the two binaries, printing each
# one's best time; their checksums must match when both claim the same bits. REV must have this
# tree's sparrow_q8_matrix (neg_sums32: ca79f3c or later). For A/B tests of a
# kernel change on a machine too noisy for whole-model benchmarks. Needs clang (the kernels use its
# vector extensions) (a best-of-N of a ~10 ms kernel
# is steadier than a prefill).
#
#   scripts/bench-qgemm.sh [--against REV] [TYPE ROWS LENGTH COLUMNS]   # default: 12 (Q4_K) 2048 2048 128
#
# ISA defaults to the machine's best (SPARROW_ISA_ID=0…3 picks one: portable, AVX2, AVX-VNNI, AVX-512 VNNI).
set -euo pipefail
cd "$(dirname "$0")/.."
against=""
if [ "${1:-}" = "--against" ]; then against=$2; shift 2; fi
type=${1:-12} rows=${2:-2048} length=${3:-2048} columns=${4:-128}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build() {  # source root, output binary
  clang -O2 -I"$1/Sources/CKernels/include" -I"$1/Sources/CKernels" -o "$2" scripts/support/qgemm_bench.c \
    "$1"/Sources/CKernels/quant*.c "$1/Sources/CKernels/cpu.c" -lm
}
build . "$work/current"
isa=${SPARROW_ISA_ID:-$(printf '#include "CKernels.h"\n#include <stdio.h>\nint main(void){printf("%%d\\n", sparrow_isa_best());}\n' \
  | clang -x c -ISources/CKernels/include -o "$work/isa" - Sources/CKernels/cpu.c && "$work/isa")}
echo "type $type, $rows × $length times $columns columns, ISA $isa, $(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
if [ -z "$against" ]; then
  "$work/current" "$type" "$rows" "$length" "$columns" 40 "$isa"
  exit 0
fi
mkdir "$work/against"
git archive "$against" Sources/CKernels | tar -x -C "$work/against"
build "$work/against" "$work/before"
for round in 1 2 3 4 5 6; do
  for which in before current; do
    echo "$which $("$work/$which" "$type" "$rows" "$length" "$columns" 20 "$isa")"
  done
done | sort -k1,1 -k2,2n | awk '!seen[$1]++ { print }'
