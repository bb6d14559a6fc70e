#!/usr/bin/env python3
"""Reference splits for Sparrow's hand-written pre-tokenizers (Tests/TokenizerTests/PreTokenizerTests.swift).

For each family the text goes through its regexes one after another, the way llama.cpp's
`unicode_regex_split` applies them: each regex re-splits every piece of the one before, every match
is a piece and so is every stretch between matches, and a regex sees only its piece (lookaheads and
`$` stop at the piece's end).

Two columns per text:
  * "reference": the original regexes (tokenizer.json's, or llama.cpp's where only llama.cpp has the
    family), run by Python's `regex` module with its own Unicode version.
  * "pieces": what llama.cpp does, which the Swift tests expect. It is the same computation with
    llama.cpp's deliberate differences applied, each of which shows up in "differences":
      1. Llama-3 / Qwen2 contractions: llama.cpp uses `(?:'[sS]|'[tT]|...)` instead of
         `(?i:'s|'t|...)`, so only ASCII letters fold ("'ſ" is no contraction there; `regex` folds
         U+017F LONG S to "s").
      2. Unicode version: llama.cpp's category tables are Unicode 15.1; a character added later
         (U+1C89, U+0897, U+11380 below, all Unicode 16.0) has no category there, so it is neither
         \\p{L} nor \\p{N} but falls into [^\\s\\p{L}\\p{N}].
      3. Literal bracket classes (DeepSeek): llama.cpp replaces non-ASCII whitespace by \\v before
         matching, so U+3000 IDEOGRAPHIC SPACE never matches `[　-。]`; it only matches \\s.
  GPT-2's regex in llama.cpp lacks the final `|\\s+`; that changes nothing (a lone whitespace
  character the regex leaves out becomes a piece anyway), and this script checks it.

Run: python3 Fixtures/tokenizer/make_pretokenizer_splits.py > Fixtures/tokenizer/pretokenizer-splits.json
"""
import json
import sys

import regex

# Characters in the texts below that Unicode 16.0 added (after llama.cpp's 15.1 tables).
ASSIGNED_AFTER_15_1 = "\u1c89\u0897\U00011380"
NEWER = "[" + ASSIGNED_AFTER_15_1 + "]"
L = r"[\p{L}--" + NEWER + "]"
N = r"[\p{N}--" + NEWER + "]"
P = r"[\p{P}--" + NEWER + "]"

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
GPT2_LLAMA = rf"'s|'t|'re|'ve|'m|'ll|'d| ?{L}+| ?{N}+| ?[^\s{L}{N}]+|\s+(?!\S)"
CONTRACTIONS = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_LLAMA = CONTRACTIONS + rf"|[^\r\n{L}{N}]?{L}+|{N}{{1,3}}| ?[^\s{L}{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_LLAMA = CONTRACTIONS + rf"|[^\r\n{L}{N}]?{L}+|{N}| ?[^\s{L}{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

def char_class(ranges):
    """A bracket body from (first, last) code points, written with escapes so that no editor or
    tool can normalise the characters (several of DeepSeek's are canonically equivalent to others)."""
    def esc(c):
        return "\\U%08x" % c
    return "".join(esc(a) if a == b else esc(a) + "-" + esc(b) for a, b in ranges)


# DeepSeek LLM's classes, range by range as in its tokenizer.json (and llama-vocab.cpp).
DS_LETTERS = char_class([
    (0x41, 0x5A), (0x61, 0x7A), (0xB5, 0xB5), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x1BA), (0x1BC, 0x1BF),
    (0x1C4, 0x293), (0x295, 0x2AF), (0x370, 0x373), (0x376, 0x377), (0x37B, 0x37D), (0x37F, 0x37F),
    (0x386, 0x386), (0x388, 0x38A), (0x38C, 0x38C), (0x38E, 0x3A1), (0x3A3, 0x3F5), (0x3F7, 0x481),
    (0x48A, 0x52F), (0x531, 0x556), (0x10A0, 0x10C5), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1C90, 0x1CBA),
    (0x1CBD, 0x1CBF), (0x1D00, 0x1D2B), (0x1D6B, 0x1D77), (0x1D79, 0x1D9A), (0x1E00, 0x1F15), (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59), (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D),
    (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4), (0x1FB6, 0x1FBC), (0x1FBE, 0x1FBE), (0x1FC2, 0x1FC4), (0x1FC6, 0x1FCC),
    (0x1FD0, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FE0, 0x1FEC), (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFC), (0x2102, 0x2102),
    (0x2107, 0x2107), (0x210A, 0x2113), (0x2115, 0x2115), (0x2119, 0x211D), (0x2124, 0x2124), (0x2126, 0x2126),
    (0x2128, 0x2128), (0x212A, 0x212D), (0x212F, 0x2134), (0x2139, 0x2139), (0x213C, 0x213F), (0x2145, 0x2149),
    (0x214E, 0x214E), (0x2183, 0x2184), (0x2C00, 0x2C7B), (0x2C7E, 0x2CE4), (0x2CEB, 0x2CEE), (0x2CF2, 0x2CF3),
    (0xA640, 0xA66D), (0xA680, 0xA69B), (0xA722, 0xA76F), (0xA771, 0xA787), (0xA78B, 0xA78E), (0xAB70, 0xABBF),
    (0xFB00, 0xFB06), (0xFB13, 0xFB17), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A), (0x10400, 0x1044F),
    (0x104B0, 0x104D3), (0x104D8, 0x104FB), (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2), (0x118A0, 0x118DF),
    (0x1E900, 0x1E943),
])
DS_PUNCT = char_class([(0x21, 0x2F), (0x3A, 0x7E), (0xFF01, 0xFF0F), (0xFF1A, 0xFF5E), (0x2018, 0x201F), (0x3000, 0x3002)])
DS_CJK = char_class([(0x4E00, 0x9FA5), (0x800, 0x4E00), (0xAC00, 0xD7FF)])

# family -> (reference regexes, llama.cpp regexes; the latter compiled with regex.V1 for set operations)
FAMILIES = {
    "gpt2": ([GPT2], [GPT2_LLAMA]),
    "llama3": ([LLAMA3], [LLAMA3_LLAMA]),
    "qwen2": ([QWEN2], [QWEN2_LLAMA]),
    "starcoder": ([r"\p{N}", GPT2], [N, GPT2_LLAMA]),
    "default": ([r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
                [rf"[{P}\$\+<=>\^~\|]+", GPT2_LLAMA, rf"{N}+", r"[0-9][0-9][0-9]"]),
    "falcon": ([r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
               [rf"[{P}\$\+<=>\^~\|`]+", GPT2_LLAMA, r"[0-9][0-9][0-9]"]),
    # `\Z`: std::regex's `$` matches only at the very end (Python's also before a final "\n").
    "deepseek-llm": (["[\r\n]", rf"\s?[{DS_LETTERS}]+", rf"\s?[{DS_PUNCT}]+", r"\s+\Z", rf"[{DS_CJK}]+", r"\p{N}+"],
                     ["[\r\n]", rf"\s?[[{DS_LETTERS}]--\s]+", rf"\s?[[{DS_PUNCT}]--\s]+", r"\s+\Z", rf"[[{DS_CJK}]--\s]+", rf"{N}+"]),
    "deepseek-coder": (["[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", rf"[{DS_CJK}]+", r"\p{N}"],
                       ["[\r\n]", rf"\s?{L}+", rf"\s?{P}+", rf"[[{DS_CJK}]--\s]+", N]),
}

TEXTS = [
    "Hello, world! It's a test.",
    "don't DON'T I'm we'LL they'Re you'VE she'D 'tis",
    "''s 's' x' ' '",
    "'\u017f and '\u017ft x'\u017ft it'\u017f",  # 1: U+017F LONG S
    "a  b   c    ",
    "   leading and trailing   ",
    "\t\tindented\n\n\nlines \n  \n\r\n\r\rend",
    " \n ",
    "x \u00a0y\u3000z\u2028w\u0085v",
    "1234567 12 345 6,789.01 x1y22z333",
    "\u0661\u0662\u0663\u0664 \u00bd\u00be \u216b \u2460\u2461 2\u00b3",
    "$100 + 20% = <|im_start|>user\n",
    "a+b=c; x->y; ~~tilde~~ ^_^ |pipe| `tick`",
    "...!!!??? --- ***\n\n",
    "\u00abguillemets\u00bb \u2014dash\u2014 \u201cquotes\u201d \u2018single\u2019",
    "caf\u00e9 cafe\u0301 na\u00efve \u00c0\u00d6\u00d7\u00d8\u00f6\u00f7\u00f8",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0e01\u0e47 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "\u4f60\u597d\u4e16\u754c\uff0c\u6d4b\u8bd5\u3002\u3053\u3093\u306b\u3061\u306f \u30ab\u30bf\u30ab\u30ca \ud55c\uad6d\uc5b4",
    "\u9fa5\u9fa6\u4e00 \u0800\u0801",
    "\uff21\uff22\uff43 \uff11\uff12 \uff01\uff1f\u3000\u3001x",
    "\u03a9mega \u0416\u0443\u043a \u1f00\u1f01 \u2126\u212a",
    "\U0001f642 \U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1ef\U0001f1f5",
    "\x01\x1c\x1f\x7f\u200b\ufeff ctrl",
    "\x0b\x0cvt ff",
    "\u0378 unassigned \ue000 private \U000f0000",
    "\u1c89 tje \u0897mark \U00011380 tulu a\u1c89b c\u0897d x\U00011380y 1\u1c892",  # 2: Unicode 16.0 characters
    "camelCaseWord snake_case_var = 42;",
    "def f(x):\n    return x**2  # comment\n",
    "if (a != b) {\n\tprintf(\"%d\\n\", a);\n}\n",
    "<s>[INST] hi [/INST]</s>",
    "\u3000\u3000indent",  # 3: ideographic spaces
    "x\u3000\u3001\u3002y",
    "e\u0301\u0301 \u0301alone",
    "a\u00adb\u00a0c",
    "   \t   ",
    "\n",
    " ",
    "a",
]


def split(text, regexes, flags=0):
    pieces = [text]
    for pattern in regexes:
        compiled = regex.compile(pattern, flags)
        out = []
        for piece in pieces:
            start = 0
            for m in compiled.finditer(piece):
                if m.start() > start:
                    out.append(piece[start:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                start = m.end()
            if start < len(piece):
                out.append(piece[start:])
        pieces = out
    return pieces


def main():
    result = {
        "generator": "Fixtures/tokenizer/make_pretokenizer_splits.py",
        "regex_module": regex.__version__,
        "texts": TEXTS,
        "families": {},
    }
    for name, (reference, llama) in FAMILIES.items():
        cases = []
        for i, text in enumerate(TEXTS):
            ref = split(text, reference)
            ours = split(text, llama, regex.V1)
            case = {"pieces": ours}
            if ref != ours:
                case["reference"] = ref
            cases.append(case)
        if name in ("gpt2", "starcoder", "default", "falcon"):
            # llama.cpp's GPT-2 regex without the final `\s+` splits the same.
            with_ws = [split(t, [r if r != GPT2_LLAMA else GPT2_LLAMA + r"|\s+" for r in llama], regex.V1) for t in TEXTS]
            assert with_ws == [c["pieces"] for c in cases], name
        for c in cases:
            assert "".join(c["pieces"]) == TEXTS[cases.index(c)]
        result["families"][name] = {"regexes": llama, "reference_regexes": reference, "cases": cases}
    json.dump(result, sys.stdout, ensure_ascii=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
