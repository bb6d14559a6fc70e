#!/usr/bin/env bash
# Batch invariance on a real model (issue 16): `sparrow logits --ids A+B` (one batched prefill) and
# `sparrow logits --ids A --follow B` (A batched, then B one token at a time) must print the same
# top-20 logits, bit for bit (Swift prints each Float in its shortest round-trip form), for prompts
# of several lengths, with a Float and a Float16 KV cache, and with the kernels of every instruction
# set the CPU runs (SPARROW_ISA). Default model: SmolLM2-135M-Instruct Q4_1 (fetched on first use).
#   scripts/check-batch-invariance.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-$(scripts/fetch-default-model.sh)}"
bin=$(scripts/build-release.sh)
flags=$(grep -o 'avx[^ ]*' /proc/cpuinfo | sort -u | tr '\n' ' ' || true)
echo "CPU flags: ${flags:-none}"

ids() {  # N pseudo-random ids below 49152 from seed S
  python3 -c "import random,sys; r=random.Random(int(sys.argv[2])); print([r.randrange(49152) for _ in range(int(sys.argv[1]))])" "$1" "$2"
}
isas=(portable avx2)
grep -q avx_vnni /proc/cpuinfo && isas+=(avxvnni)
grep -q avx512_vnni /proc/cpuinfo && isas+=(avx512vnni)
failures=0; checks=0
for kv in f32 f16; do
  for lengths in "1 1" "5 3" "44 4" "130 9"; do
    read -r a b <<< "$lengths"
    A=$(ids "$a" "$a"); B=$(ids "$b" "$((a + 1000))")
    AB=$(python3 -c "import json,sys; print(json.loads(sys.argv[1]) + json.loads(sys.argv[2]))" "$A" "$B")
    reference=""
    for isa in "${isas[@]}"; do
      whole=$(SPARROW_ISA=$isa "$bin" logits --model "$model" --ids "$AB" --top 20 --kv-cache "$kv" --json \
              | python3 -c "import json,sys; print(json.load(sys.stdin)['top'])")
      stepped=$(SPARROW_ISA=$isa "$bin" logits --model "$model" --ids "$A" --follow "$B" --top 20 --kv-cache "$kv" --json \
                | python3 -c "import json,sys; print(json.load(sys.stdin)['top'])")
      checks=$((checks + 1))
      [ -n "$reference" ] || reference=$whole
      if [ "$whole" != "$stepped" ] || [ "$whole" != "$reference" ]; then
        failures=$((failures + 1))
        echo "DIFFERENT: kv $kv, $a + $b tokens, $isa"
        echo "  A+B:         $whole"
        echo "  A, follow B: $stepped"
        echo "  first ISA:   $reference"
      else
        echo "same bits: kv $kv, $a + $b tokens, $isa"
      fi
    done
  done
done
echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
