#!/usr/bin/env python3
"""Compares builds by running them in alternation, the order reversed every round, and reporting
each one's paired ratio to the first (geometric mean and quartiles). A shared machine's speed
drifts over tens of seconds; ratios of runs made seconds apart cancel most of that drift, where
separate series of runs do not.

  alternate.py --sparrow ROUNDS MODEL "BENCH ARGS" BINARY...
      `BINARY bench --model MODEL BENCH ARGS --json` per run (e.g. "-p 0 -n 32 -t 2 -r 1");
      tg tokens/s, or pp where there is no tg.
  alternate.py --emulation ROUNDS THREADS TOKENS BINARY...
      decode_emulation.c builds (or scripts that exec one with its environment), each started once
      with SERVE=1 and asked for one run of TOKENS tokens per round.
"""
import json
import math
import os
import statistics
import subprocess
import sys


def report(names, results):
    first = results[0]
    for name, values in zip(names, results):
        ratios = sorted(x / y for x, y in zip(values, first))
        mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"{os.path.basename(name):24s} median {statistics.median(values):7.2f} tok/s   "
              f"vs first: geometric mean {mean:.3f}, quartiles {ratios[len(ratios) // 4]:.3f}–"
              f"{ratios[3 * len(ratios) // 4]:.3f} ({len(ratios)} rounds)")


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in ("--sparrow", "--emulation"):
        sys.exit(__doc__)
    rounds = int(sys.argv[2])
    if sys.argv[1] == "--sparrow":
        model, args, binaries = sys.argv[3], sys.argv[4].split(), sys.argv[5:]

        def measure(i):
            out = subprocess.run([binaries[i], "bench", "--model", model, *args, "--json"], capture_output=True,
                                 text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            return result.get("tg_tokens_per_s") or result["pp_tokens_per_s"]
    else:
        threads, tokens, binaries = sys.argv[3], sys.argv[4], sys.argv[5:]
        processes = [subprocess.Popen([b, threads, tokens], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      env=dict(os.environ, SERVE="1")) for b in binaries]

        def measure(i):
            processes[i].stdin.write("run\n")
            processes[i].stdin.flush()
            return float(processes[i].stdout.readline())

        for i in range(len(binaries)):
            measure(i)  # waits for the setup, and warms up
    results = [[] for _ in binaries]
    for r in range(rounds):
        order = range(len(binaries)) if r % 2 == 0 else reversed(range(len(binaries)))
        for i in order:
            results[i].append(measure(i))
    report(binaries, results)


if __name__ == "__main__":
    main()
