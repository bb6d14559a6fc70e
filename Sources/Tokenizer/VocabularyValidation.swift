/// The checks `Tokenizer.init(vocabulary:)` makes, and the per-token facts llama.cpp derives at
/// load time (`llama_vocab::impl::load`): end-of-generation ids found by token text, and those tokens
/// promoted to control so that they are not rendered or matched as ordinary text.
struct CheckedVocabulary {
    var types: [TokenType]
    /// Ids with llama.cpp's RSTRIP attribute (whitespace after them is dropped when they are split out).
    var rstrip: Set<Int> = []
    var bosID: Int?
    var eosID: Int?
    var unknownID: Int?
    var paddingID: Int?
    var endOfGenerationIDs: [Int]

    /// Texts llama.cpp treats as end of generation whatever the metadata says
    /// (the `special_eog_ids` scan in llama-vocab.cpp).
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
        "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
    ]

    init(_ v: Vocabulary, modelName: String?) throws(TokenizerError) {
        let n = v.tokens.count
        guard n > 0 else { throw .invalidField("tokens", reason: "the vocabulary is empty") }
        // Ids are `Int32` in llama.cpp and in the GGUF arrays; more would not round-trip.
        guard n <= Int(Int32.max) else { throw .invalidField("tokens", reason: "\(n) tokens is too many") }
        guard v.tokenTypes.count == n else {
            throw .lengthMismatch(field: "token_type", expected: n, actual: v.tokenTypes.count)
        }
        // Scores are optional (llama.cpp uses 0 for every token when absent) but must match if given.
        guard v.scores.isEmpty || v.scores.count == n else {
            throw .lengthMismatch(field: "scores", expected: n, actual: v.scores.count)
        }
        for (i, s) in v.scores.enumerated() where !s.isFinite && s != -.infinity {
            throw .invalidField("scores", reason: "token \(i) has score \(s)")
        }
        func check(_ name: String, _ id: Int?) throws(TokenizerError) -> Int? {
            guard let id else { return nil }
            guard id >= 0, id < n else { throw .specialTokenOutOfRange(name: name, id: id, vocabularySize: n) }
            return id
        }
        bosID = try check("bos", v.bosID)
        eosID = try check("eos", v.eosID)
        unknownID = try check("unknown", v.unknownID)
        paddingID = try check("padding", v.paddingID)
        for id in v.endOfTurnIDs { _ = try check("end-of-turn", id) }
        if v.addBOS, bosID == nil { throw .missingField("bos token id (add_bos_token is set)") }
        if v.addEOS, eosID == nil { throw .missingField("eos token id (add_eos_token is set)") }
        types = v.tokenTypes
        var eog = Set(v.endOfTurnIDs)
        if let eosID { eog.insert(eosID) }
        for (i, text) in v.tokens.enumerated() where Self.endOfGenerationTexts.contains(text) {
            eog.insert(i)
            // llama.cpp promotes these to control so they are never emitted as ordinary text.
            types[i] = .control
        }
        endOfGenerationIDs = eog.sorted()

        // llama.cpp (`load`, "set attributes by model name"): Phi-3's special tokens swallow the
        // whitespace that follows them, except <unk>, <s> and <|endoftext|>.
        if let name = modelName?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
            for (i, t) in types.enumerated() where t == .control || t == .userDefined || t == .unknown {
                rstrip.insert(i)
            }
            for (i, text) in v.tokens.enumerated() {
                if text == "</s>" { rstrip.insert(i) }
                if text == "<unk>" || text == "<s>" || text == "<|endoftext|>" { rstrip.remove(i) }
            }
        }
    }
}
