/// llama.cpp's `default` pre-tokenizer (no `tokenizer.ggml.pre`, or "default"), four regexes in turn:
/// `[\p{P}\$\+<=>\^~\|]+`, GPT-2's regex, `\p{N}+`, `[0-9][0-9][0-9]`.
enum DefaultFamily {
    static let rules: [SplitRule] = [
        .runs(ScalarSet(classes: CharClass.punctuation, ascii: "$+<=>^~|")),
        .gpt2,
        .runs(ScalarSet(classes: CharClass.number)),
        .asciiDigitTriples,
    ]
}
