#!/usr/bin/env python3
"""Writes Fixtures/json/vectors.tsv: JSON texts with what Python's json module makes of them, the
reference for Tests/JSONTests.

    python3 Fixtures/json/make_vectors.py      # from the repository root; standard library only

Each text is decoded as strict UTF-8 and given to json.loads, with parse_constant refusing NaN,
Infinity and -Infinity (which Python accepts by default and RFC 8259 does not) and strict=True (the
default: no raw control characters in strings). Decoding first is the RFC 8259 reading: given bytes,
json.loads would also take UTF-16/32 and skip a UTF-8 byte order mark.

Columns, tab-separated:
  name       what the case checks
  input      hex:<bytes> or nest:<n> (n "[" then n "]")
  python     accept or reject: json.loads's verdict
  sparrow    accept or reject: the verdict Sparrow's reader must give. It differs from Python's only
             where the note column says why.
  pairs      the value read with object_pairs_hook=list (members in order, repeated keys kept), in
             the canonical form below; "-" when Python refuses the text
  dict       the value as json.loads builds it (dicts: a repeated key keeps its last value, in its
             first place); "-" when Python refuses the text
  note       why Sparrow's verdict differs from Python's, or "-"

Canonical form: null, true, false; i:<decimal> for an int; f:<16 hex digits> for a float's IEEE 754
bits; s:<hex of the UTF-8> for a string; [a,b] for an array; {k=v,k=v} for an object, k a string.
"""
import ast
import json
import os
import struct
import sys

# Sparrow's default nesting limit (JSONValue.defaultMaxDepth).
SPARROW_MAX_DEPTH = 256

LONE_SURROGATE = "Python keeps a lone surrogate in a str; a Swift String cannot hold one (RFC 8259 §8.2 leaves it undefined)"
TOO_DEEP = f"Sparrow refuses more than {SPARROW_MAX_DEPTH} open arrays and objects; Python's limit is its recursion limit"


# One case a line, "name | text": the text a Python str literal (written as UTF-8) or bytes literal.
CASES = r"""
# Literals and whitespace.
null | "null"
true | "true"
false | "false"
whitespace around a value | " \t\n\r null \t\n\r"
literal cut short | "nul"
literal in capitals | "True"
literal with extra letters | "nullx"
empty text | b""
whitespace only | " \n"
NaN | "NaN"
Infinity | "Infinity"
-Infinity | "-Infinity"
form feed is not whitespace | b"\x0c1"
vertical tab is not whitespace | b"\x0b1"
no-break space is not whitespace | b"\xc2\xa01"
UTF-8 byte order mark | b"\xef\xbb\xbf1"
UTF-16 little-endian text | b'\xff\xfe1\x00'
two values | "1 2"
two arrays | "[] []"
block comment | "/**/1"
line comment | "// c\n1"
# Numbers.
zero | "0"
minus zero | "-0"
minus zero float | "-0.0"
integer | "123456789"
negative integer | "-1"
Int64 max | "9223372036854775807"
Int64 max + 1 | "9223372036854775808"
Int64 min | "-9223372036854775808"
Int64 min - 1 | "-9223372036854775809"
big integer | "123456789012345678901234567890"
2^53 + 1 | "9007199254740993"
fraction | "1.5"
fraction with trailing zero | "1.50"
exponent | "1E2"
exponent with plus | "1e+2"
negative exponent | "1e-2"
zero exponent | "0e0"
fraction and exponent | "-12.5e-3"
0.1 | "0.1"
largest double | "1.7976931348623157e308"
past the largest double | "1e400"
past the largest negative double | "-1e400"
smallest subnormal | "4.9e-324"
below the smallest subnormal | "1e-400"
smallest normal, long form | "2.2250738585072011e-308"
integer-valued float | "12345678901234567890.0"
leading zero | "01"
negative leading zero | "-01"
double zero | "00"
fraction without digits | "1."
fraction without integer part | ".5"
fraction dot before exponent | "1.e5"
minus alone | "-"
minus then space | "- 1"
plus sign | "+1"
exponent without digits | "1e"
exponent sign without digits | "1e+"
hexadecimal | "0x10"
# Strings.
empty string | '""'
plain string | '"abc"'
every short escape | r'"\"\\\/\b\f\n\r\t"'
escaped NUL | r'"\u0000"'
escape in lower case | r'"\u00e9"'
escape in upper case | r'"\u00E9"'
escaped U+FFFF | r'"\uffff"'
escaped byte order mark | r'"\ufeff"'
surrogate pair | r'"\ud83d\ude00"'
raw two-byte UTF-8 | '"é"'
raw three-byte UTF-8 | '"€"'
raw four-byte UTF-8 | '"😀"'
raw U+10FFFF | b'"\xf4\x8f\xbf\xbf"'
raw line separator | '"\u2028"'
raw DEL | b'"\x7f"'
canonically equivalent strings stay apart | '["\u1f77", "\u03af"]'
unterminated string | '"abc'
unknown escape | r'"\x41"'
capital U escape | r'"\U0001F600"'
short unicode escape | r'"\u12"'
bad hex digit | r'"\u12G4"'
raw NUL | b'"\x00"'
raw unit separator | b'"\x1f"'
raw tab | b'"a\tb"'
raw newline | b'"a\nb"'
lone high surrogate | r'"\ud800"'
lone low surrogate | r'"\udc00"'
high surrogate then a letter escape | r'"\ud800\u0041"'
high surrogate then a letter | r'"\ud800x"'
low then high surrogate | r'"\udc00\ud800"'
# Ill-formed UTF-8 inside strings.
overlong slash, two bytes | b'"\xc0\xaf"'
overlong, C1 lead | b'"\xc1\xbf"'
overlong slash, three bytes | b'"\xe0\x80\xaf"'
overlong slash, four bytes | b'"\xf0\x80\x80\xaf"'
encoded surrogate | b'"\xed\xa0\x80"'
past U+10FFFF | b'"\xf4\x90\x80\x80"'
F5 lead byte | b'"\xf5\x80\x80\x80"'
lone continuation byte | b'"\x80"'
truncated sequence | b'"\xe2\x82"'
FF byte | b'"\xff"'
invalid UTF-8 outside a string | b"\xff"
# Arrays and objects.
empty array | "[]"
empty array with space | "[ ]"
empty object | "{}"
empty object with space | "{ }"
array | "[1,2,3]"
spaced array | "[ 1 , 2 ]"
nested arrays | "[[[]]]"
object | '{"a":1,"b":[true,null]}'
member order is kept | '{"b":1,"a":2}'
repeated key | '{"a":1,"b":2,"a":3}'
canonically equivalent keys stay apart | '{"\u1f77":1,"\u03af":2}'
empty key | '{"":0}'
spaced object | '{ "a" : 1 , "b" : 2 }'
trailing comma in an array | "[1,]"
trailing comma in an object | '{"a":1,}'
comma alone | "[,]"
missing comma | "[1 2]"
missing colon | '{"a" 1}'
missing comma between members | '{"a":1 "b":2}'
bare key | "{a:1}"
single-quoted key | "{'a':1}"
number key | "{1:1}"
unclosed array | "["
unopened array | "]"
unclosed object | '{"a"'
object closed by a bracket | '{"a":1]'
# Nesting.
"""

# Arrays nested n deep: n "[" then n "]".
NESTING = [SPARROW_MAX_DEPTH, SPARROW_MAX_DEPTH + 1, 100_000]


def cases():
    """(name, input column, bytes) for every case."""
    for line in CASES.strip().splitlines():
        if line.startswith("#"):
            continue
        name, literal = line.split(" | ", 1)
        text = ast.literal_eval(literal)
        data = text.encode("utf-8") if isinstance(text, str) else text
        yield name, "hex:" + data.hex(), data
    for n in NESTING:
        yield f"nested {n} deep", f"nest:{n}", ("[" * n + "]" * n).encode()


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def load(data, pairs):
    text = data.decode("utf-8")  # UnicodeDecodeError (a ValueError) for ill-formed UTF-8
    hook = {"object_pairs_hook": Pairs} if pairs else {}
    return json.loads(text, parse_constant=refuse_constant, strict=True, **hook)


class Pairs(list):
    """An object's members as object_pairs_hook hands them over."""


def canon(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return f"i:{v}"
    if isinstance(v, float):
        return "f:" + struct.pack(">d", v).hex()
    if isinstance(v, str):
        return "s:" + v.encode("utf-8", "surrogatepass").hex()
    if isinstance(v, (Pairs, dict)):
        members = v if isinstance(v, Pairs) else v.items()
        return "{" + ",".join(canon(k) + "=" + canon(x) for k, x in members) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    raise TypeError(type(v))


def has_lone_surrogate(v):
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, (list, tuple)):
        return any(has_lone_surrogate(x) for x in v)
    if isinstance(v, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(x) for k, x in v.items())
    return False


def main():
    rows = []
    for name, source, data in cases():
        try:
            value = load(data, pairs=True)
            python, pairs, plain = "accept", canon(value), canon(load(data, pairs=False))
        except (ValueError, RecursionError):
            python, value, pairs, plain = "reject", None, "-", "-"
        sparrow, note = python, "-"
        if python == "accept" and has_lone_surrogate(value):
            sparrow, note = "reject", LONE_SURROGATE
        if source.startswith("nest:") and int(source[5:]) > SPARROW_MAX_DEPTH and python == "accept":
            sparrow, note = "reject", TOO_DEEP
        if sparrow == "reject":
            pairs = plain = "-"
        rows.append("\t".join([name, source, python, sparrow, pairs, plain, note]))
    header = (f"# Written by Fixtures/json/make_vectors.py with Python {sys.version.split()[0]} "
              f"(json {json.__version__}); see the script for the columns.")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
