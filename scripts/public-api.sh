#!/usr/bin/env bash
# Lists the public symbols of every library product, counts them per module, and compares them with
# the committed baseline.
#
#   scripts/public-api.sh                    # writes docs/public-api.txt, compares with the baseline
#   scripts/public-api.sh --write-baseline   # writes docs/public-api-baseline.txt instead
#
# The symbols come from `swift package dump-symbol-graph` (a debug build, then one symbol graph per
# module, public and open symbols only, without the members a type only inherits from a protocol's
# default implementations). The products and their modules come from `swift package dump-package`,
# so a new library product is listed without editing this script; a product's modules are its
# targets and the modules they re-export (`@_exported import`), which its users import through it.
#
# One line per symbol: module, kind, and the symbol's path with its argument labels, e.g.
# `GenerateAPI  method  Engine.generate(request:)`. A symbol declared in an extension of another
# module's type counts for the module that declares it. Overloads that differ only in their types
# share a line, so the counts are of lines, compared as multisets.
#
# Exits 1 if any public symbol's own name starts with "unsafe" (in any case): such kernels are
# `package`, for the package's own targets only.
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/public-api.txt
baseline=docs/public-api-baseline.txt
if [ "${1:-}" = "--write-baseline" ]; then out=$baseline; fi

echo "== swift package dump-symbol-graph (builds the package in debug first)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Graphs of an earlier run would list modules that no longer exist.
rm -rf .build/*/symbolgraph
# The command exits 1 because it cannot load the test bundles' generated modules, which have no
# public API; every module this script reads is checked for below.
swift package dump-symbol-graph --skip-synthesized-members >"$log" 2>&1 || true
graphs=$(sed -n 's/^Files written to //p' "$log" | tail -1)
[ -n "$graphs" ] && [ -d "$graphs" ] || { cat "$log" >&2; echo "public-api: no symbol graphs written" >&2; exit 1; }

mkdir -p docs
swift package dump-package | python3 -c '
import json, os, sys
graphs, out = sys.argv[1], sys.argv[2]
package = json.load(sys.stdin)
paths = {t["name"]: t.get("path") or os.path.join("Sources", t["name"]) for t in package["targets"]}
def reexports(module):
    """The modules `module` re-exports (`@_exported import X` in its sources)."""
    found = []
    for root, _, names in os.walk(paths.get(module, "")):
        for name in names:
            if name.endswith(".swift"):
                with open(os.path.join(root, name)) as f:
                    found += [line.split()[2] for line in f if line.startswith("@_exported import ")]
    return found
modules = []
for product in package["products"]:
    if "library" not in product["type"]:
        continue
    pending = list(product["targets"])
    while pending:
        target = pending.pop(0)
        if target not in modules:
            modules.append(target)
            pending += reexports(target)
lines = []
for module in modules:
    # <Module>.symbols.json, and <Module>@<Other>.symbols.json for extensions of other modules types.
    files = [f for f in os.listdir(graphs) if f == module + ".symbols.json" or f.startswith(module + "@")]
    if module + ".symbols.json" not in files:
        sys.exit(f"public-api: no symbol graph for {module} in {graphs}")
    for name in files:
        with open(os.path.join(graphs, name)) as f:
            graph = json.load(f)
        for symbol in graph["symbols"]:
            if symbol["accessLevel"] not in ("public", "open"):
                continue
            kind = symbol["kind"]["identifier"].removeprefix("swift.")
            lines.append(f"{module}\t{kind}\t" + ".".join(symbol["pathComponents"]))
lines.sort()
with open(out, "w") as f:
    f.write("".join(line + "\n" for line in lines))
' "$graphs" "$out"

echo "== public symbols per module ($out)"
cut -f1 "$out" | sort | uniq -c | awk '{ printf "%-16s %5d\n", $2, $1; total += $1 } END { printf "%-16s %5d\n", "total", total }'

if [ "$out" != "$baseline" ] && [ -f "$baseline" ]; then
  echo "== compared with $baseline"
  added=$(comm -13 <(LC_ALL=C sort "$baseline") <(LC_ALL=C sort "$out"))
  removed=$(comm -23 <(LC_ALL=C sort "$baseline") <(LC_ALL=C sort "$out"))
  count() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l; fi; }
  printf '%-16s %7s %7s %7s %7s\n' module before after added removed
  for m in $(cut -f1 "$baseline" "$out" | sort -u); do
    printf '%-16s %7d %7d %7d %7d\n' "$m" "$(grep -c "^$m	" "$baseline" || true)" "$(grep -c "^$m	" "$out" || true)" \
      "$(count "$(printf '%s\n' "$added" | grep "^$m	" || true)")" "$(count "$(printf '%s\n' "$removed" | grep "^$m	" || true)")"
  done
  printf '%-16s %7d %7d %7d %7d\n' total "$(wc -l <"$baseline")" "$(wc -l <"$out")" "$(count "$added")" "$(count "$removed")"
fi

# The symbol's own name is the last component of its path.
unsafe=$(awk -F'\t' '{ n = split($3, p, "."); if (tolower(p[n]) ~ /^unsafe/) print }' "$out")
if [ -n "$unsafe" ]; then
  echo "public-api: public symbols named unsafe…; make them package:" >&2
  printf '%s\n' "$unsafe" >&2
  exit 1
fi
echo "public-api: no public symbol is named unsafe…"
