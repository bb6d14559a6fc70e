#!/usr/bin/env python3
"""Writes Fixtures/json/string_vectors.tsv: strings with Python's json.dumps of them, the reference
for JSONValue.writeString in Tests/JSONTests.

    python3 Fixtures/json/make_string_vectors.py      # from the repository root; standard library only

Columns, tab-separated:
  name     what the case checks
  input    hex:<the string's UTF-8 bytes>
  plain    json.dumps(s, ensure_ascii=False), as hex of its UTF-8 bytes
  ascii    json.dumps(s, ensure_ascii=True), as hex of its UTF-8 bytes
"""
import json
import sys
from pathlib import Path

CASES = [
    ("empty", ""),
    ("plain ascii", "hello, world"),
    ("quote and backslash", 'say "hi" \\ bye'),
    ("named escapes", "\n\r\t\b\f"),
    ("other controls", "".join(chr(c) for c in range(0x20))),
    ("slash stays", "a/b"),
    ("delete", "\x7f"),
    ("latin and cjk", "café 日本"),
    ("astral", "emoji 😀 and 𝄞"),
    ("line separators", "\u2028\u2029"),
    ("bom and nbsp", "\ufeff\u00a0"),
    ("last scalar", "\U0010ffff"),
]

def main():
    out = Path(__file__).with_name("string_vectors.tsv")
    lines = [f"# python {sys.version.split()[0]}, json {json.__version__}"]
    for name, s in CASES:
        plain = json.dumps(s, ensure_ascii=False).encode()
        ascii_ = json.dumps(s, ensure_ascii=True).encode()
        lines.append("\t".join([name, "hex:" + s.encode().hex(), plain.hex(), ascii_.hex()]))
    out.write_text("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
