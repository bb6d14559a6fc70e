#!/usr/bin/env bash
# The VNNI branches of the quantized kernels, checked on any x86 machine: builds quant_body.h with
# VNNI set and plain-C primitives that compute what `vpdpbusd`/`vpdpwssd` compute
# (scripts/support/vnni_emulated.c), and compares every type, for ragged column counts, bit for bit
# with the variant this machine runs. Where the CPU has AVX-VNNI or AVX-512 VNNI, the test suite runs
# those variants themselves; this covers the machines that lack them. Needs clang.
#
#   scripts/check-vnni-emulated.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clang -O2 -ISources/CKernels/include -ISources/CKernels -o "$work/vnni_emulated" scripts/support/vnni_emulated.c \
  Sources/CKernels/quant*.c Sources/CKernels/cpu.c -lm
echo "CPU flags: $(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$work/vnni_emulated"
