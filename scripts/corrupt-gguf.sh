#!/usr/bin/env bash
# Loads N randomly corrupted copies of the default model (SmolLM2-135M-Instruct Q4_1) through the
# command line's real load paths, `sparrow inspect` (GGUF header, metadata, tensor table) and
# `sparrow tokenize --model` (the tokenizer from the metadata), and checks that each ends in success
# (exit 0) or a typed error (exit 1): never a signal, a hang (30 s timeout) or runaway memory (4 GiB
# address-space limit; peak RSS reported).
#
#   scripts/corrupt-gguf.sh [N=100] [SEED=1]
#
# Each copy flips 1-16 random bytes in the first 2 MiB (header, metadata with the 49k-token
# vocabulary and merges, tensor infos: SmolLM2's header ends at ~1.8 MB), or, one time in eight,
# truncates the file inside that range. Uses the release build if there is one, else the debug build
# (building it if needed). Failing copies are kept in .build/corrupt-gguf/failed/.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
seed=${2:-1}
model=$(scripts/fetch-default-model.sh)

bin=""
for c in .build/release/sparrow .build/debug/sparrow; do
  if [ -x "$c" ]; then bin=$c; break; fi
done
if [ -z "$bin" ]; then
  swift build --product sparrow 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
  bin=.build/debug/sparrow
fi

work=.build/corrupt-gguf
rm -rf "$work/failed"; mkdir -p "$work/failed"
copy="$work/copy.gguf"
ok=0 typed=0 bad=0 peak=0
declare -A reasons=()
for i in $(seq 1 "$n"); do
  # The corruption plan for copy i, from a seeded generator: "flip OFFSET BYTE ..." or "truncate SIZE".
  plan=$(python3 - "$seed" "$i" <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]) * 1_000_003 + int(sys.argv[2]))
span = 2 << 20
if r.random() < 1 / 8:
    print("truncate", r.randrange(span))
else:
    print("flip", " ".join(f"{r.randrange(span)}:{r.randrange(256)}" for _ in range(r.randint(1, 16))))
PY
)
  # One full copy, then only its first 2 MiB restored per round (the tensor data past it is never
  # touched), so a round costs 2 MiB of writes rather than 93 MB.
  python3 - "$model" "$copy" $plan <<'PY'
import os, shutil, sys
model, path, kind, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if not os.path.exists(path) or os.path.getsize(path) != os.path.getsize(model):
    shutil.copyfile(model, path)
with open(model, "rb") as f:
    head = f.read(2 << 20)
with open(path, "r+b") as f:
    f.write(head)
    if kind == "truncate":
        f.truncate(int(args[0]))
    else:
        for a in args:
            off, val = map(int, a.split(":"))
            f.seek(off)
            f.write(bytes([val]))
PY
  for cmd in inspect tokenize; do
    if [ "$cmd" = inspect ]; then args=(inspect "$copy"); else args=(tokenize --model "$copy" "Hello, world!"); fi
    status=0
    # ulimit -v in a subshell bounds only this run; /usr/bin/time reports the peak RSS in KiB.
    ( ulimit -v $((4 << 20)); exec /usr/bin/time -f '%M' -o "$work/rss" timeout 30 "$bin" "${args[@]}" ) \
      >"$work/out" 2>"$work/err" || status=$?
    rss=$(tail -1 "$work/rss" 2>/dev/null | grep -oE '^[0-9]+$' || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss
    case $status in
      0) ok=$((ok + 1)) ;;
      1) typed=$((typed + 1))
         # The error's first line with numbers and quoted names blanked, to group alike errors.
         reason=$(head -1 "$work/err" | sed -E "s/'[^']*'/'…'/g; s/[0-9]+/N/g" | cut -c1-90)
         reasons["$cmd: ${reason:-no message}"]=$(( ${reasons["$cmd: ${reason:-no message}"]:-0} + 1 )) ;;
      *) bad=$((bad + 1))
         cp "$copy" "$work/failed/copy-$seed-$i.gguf"
         echo "copy $i ($plan): sparrow $cmd exited $status" >&2
         tail -5 "$work/err" >&2 ;;
    esac
  done
done
rm -f "$copy"
echo "corrupt-gguf: $n copies (seed $seed), $((2 * n)) loads: $ok succeeded, $typed typed errors (exit 1), $bad crashes/hangs; peak RSS $((peak / 1024)) MiB"
for r in "${!reasons[@]}"; do echo "  ${reasons[$r]}x $r"; done | sort -rn | head -15
[ "$bad" -eq 0 ]
