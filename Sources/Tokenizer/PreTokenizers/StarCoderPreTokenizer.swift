/// StarCoder's pre-tokenizer, shared by SmolLM, Refact, Command-R, CodeShell, EXAONE, Minerva and
/// Mellum2: every number scalar alone (`\p{N}`), then GPT-2's regex on the rest.
enum StarCoderFamily {
    static let rules: [SplitRule] = [
        .each(ScalarSet(classes: CharClass.number)),
        .gpt2,
    ]
}
