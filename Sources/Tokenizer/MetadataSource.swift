/// Read access to key/value metadata in GGUF's `tokenizer.ggml.*` keys. `GGUFMetadata` conforms
/// (GGUFMetadata+TokenizerMetadataSource.swift); tests build vocabularies from in-memory sources.
public protocol TokenizerMetadataSource {
    func string(_ key: String) -> String?
    /// Any integer value that fits `Int`.
    func int(_ key: String) -> Int?
    func bool(_ key: String) -> Bool?
    func stringArray(_ key: String) -> [String]?
    /// An array of f32 values.
    func floatArray(_ key: String) -> [Float]?
    /// An array of integers of any width.
    func intArray(_ key: String) -> [Int]?
    /// Whether `key` is present at all (to tell "absent" from "wrong type").
    func contains(_ key: String) -> Bool
    /// A string array as UTF-8 bytes, without a `String` per element, when the source has it that
    /// way; nil sends the reader to `stringArray(_:)`. Used for merge lists.
    func utf8StringArray(_ key: String) -> UTF8StringList?
}

extension TokenizerMetadataSource {
    /// No byte form: readers use `stringArray(_:)`.
    public func utf8StringArray(_ key: String) -> UTF8StringList? { nil }
}

extension Vocabulary {
    /// Reads `tokenizer.ggml.*` keys (llama.cpp's names) from GGUF-style metadata.
    public init(metadata m: some TokenizerMetadataSource) throws(TokenizerError) {
        func opt<T>(_ key: String, _ get: (String) -> T?) throws(TokenizerError) -> T? {
            guard m.contains(key) else { return nil }
            guard let v = get(key) else { throw .invalidField(key, reason: "unexpected value type") }
            return v
        }
        guard let modelName = try opt("tokenizer.ggml.model", m.string) else { throw .missingField("tokenizer.ggml.model") }
        guard let kind = TokenizerKind(rawValue: modelName) else { throw .unsupportedModel(modelName) }
        guard let tokens = try opt("tokenizer.ggml.tokens", m.stringArray) else { throw .missingField("tokenizer.ggml.tokens") }
        let scores = try opt("tokenizer.ggml.scores", m.floatArray) ?? []
        var types: [TokenType] = []
        if let rawTypes = try opt("tokenizer.ggml.token_type", m.intArray) {
            types.reserveCapacity(rawTypes.count)
            for (i, t) in rawTypes.enumerated() {
                guard let v = Int32(exactly: t), let type = TokenType(rawValue: v) else {
                    throw .invalidField("tokenizer.ggml.token_type", reason: "token \(i) has unknown type \(t)")
                }
                types.append(type)
            }
        }
        // Merges stay bytes when the source has them so (see `MergeLines`).
        let mergesKey = "tokenizer.ggml.merges"
        let mergeBytes = m.contains(mergesKey) ? m.utf8StringArray(mergesKey) : nil
        let merges = mergeBytes == nil ? try opt(mergesKey, m.stringArray) ?? [] : []
        var eot: [Int] = []
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try opt(key, m.int) { eot.append(id) }
        }
        self.init(
            kind: kind,
            preTokenizer: try opt("tokenizer.ggml.pre", m.string) ?? "default",
            tokens: tokens, scores: scores, tokenTypes: types, merges: merges,
            bosID: try opt("tokenizer.ggml.bos_token_id", m.int),
            eosID: try opt("tokenizer.ggml.eos_token_id", m.int),
            unknownID: try opt("tokenizer.ggml.unknown_token_id", m.int),
            paddingID: try opt("tokenizer.ggml.padding_token_id", m.int),
            endOfTurnIDs: eot,
            // llama.cpp's defaults when the keys are absent: SentencePiece adds BOS and the dummy prefix.
            addBOS: try opt("tokenizer.ggml.add_bos_token", m.bool) ?? (kind == .sentencePiece),
            addEOS: try opt("tokenizer.ggml.add_eos_token", m.bool) ?? false,
            addSpacePrefix: try opt("tokenizer.ggml.add_space_prefix", m.bool) ?? (kind == .sentencePiece)
        )
        if let mergeBytes { mergeLines = .utf8(mergeBytes) }
    }
}
