/// Falcon's pre-tokenizer (llama.cpp's list): `[\p{P}\$\+<=>\^~\|`]+`, GPT-2's regex, then
/// `[0-9][0-9][0-9]`, each re-splitting the pieces of the one before.
enum FalconFamily {
    static let rules: [SplitRule] = [
        .runs(ScalarSet(classes: CharClass.punctuation, ascii: "$+<=>^~|`")),
        .gpt2,
        .asciiDigitTriples,
    ]
}
