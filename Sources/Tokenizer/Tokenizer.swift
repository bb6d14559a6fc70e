/// A validated tokenizer: text to token ids and back, with llama.cpp's semantics.
///
/// Build one from GGUF metadata (`init(gguf:)`), from a Hugging Face directory
/// (`init(huggingFaceDirectory:)`) or from a `Vocabulary` (`init(vocabulary:)`). All three validate
/// the data and throw a `TokenizerError` instead of crashing on malformed input. A `Tokenizer` is an
/// immutable value and can be shared across tasks.
public struct Tokenizer: Sendable {
    /// The tokenizer algorithm.
    public let kind: TokenizerKind
    /// Token texts, the index being the id.
    let texts: [String]
    /// Token types after llama.cpp's load-time adjustments (end-of-generation texts become control).
    let types: [TokenType]
    /// The algorithm-specific half (SentencePiece or byte-level BPE).
    let model: any TokenizerModel
    /// Special and user-defined tokens that `encode` splits out of the text.
    let specials: SpecialTokenTable
    /// The byte of each `.byte` token (`<0xNN>`).
    let byteValues: [Int: UInt8]

    /// The beginning-of-sequence id, if the vocabulary has one.
    public let bosID: Int?
    /// The end-of-sequence id, if the vocabulary has one.
    public let eosID: Int?
    /// Every id that ends generation: EOS, end-of-turn ids the vocabulary names, and the tokens
    /// llama.cpp recognises by text (`<|eot_id|>`, `<|im_end|>`, `<|end|>`, ...). Sorted ascending.
    public let endOfGenerationIDs: [Int]
    /// The unknown-token id, if any.
    public let unknownID: Int?
    /// The padding id, if any.
    public let paddingID: Int?
    /// Whether `encode(_:addSpecial: true)` prepends BOS.
    public let addsBOS: Bool
    /// Whether `encode(_:addSpecial: true)` appends EOS.
    public let addsEOS: Bool
    /// SentencePiece's dummy prefix: a space before the text and after each special token when
    /// encoding; when decoding, one leading space of the first token is dropped.
    public let addsSpacePrefix: Bool
    /// Whether llama.cpp's `llama_detokenize` tidies spaces for this vocabulary (byte-level BPE
    /// except the pre-tokenizers where llama.cpp turns it off, such as qwen2, smollm, deepseek-llm).
    /// `decode(_:skipSpecial:cleanUpSpaces:)` does it only when asked.
    public let cleansUpSpacesByDefault: Bool

    /// Validates `vocabulary` and builds the matching model.
    ///
    /// - Parameter modelName: the model's name (GGUF `general.name`); llama.cpp gives Phi-3's special
    ///   tokens the "strip whitespace to the right" attribute by this name, so it changes `encode`.
    /// - Throws: `TokenizerError` for arrays of different lengths, ids out of range, unusable token
    ///   texts or merges, unsupported pre-tokenizers.
    public init(vocabulary: Vocabulary, modelName: String? = nil) throws(TokenizerError) {
        let checked = try CheckedVocabulary(vocabulary, modelName: modelName)
        kind = vocabulary.kind
        texts = checked.texts
        types = checked.types
        byteValues = checked.byteValues
        cleansUpSpacesByDefault = checked.cleansSpaces
        bosID = checked.bosID
        eosID = checked.eosID
        unknownID = checked.unknownID
        paddingID = checked.paddingID
        endOfGenerationIDs = checked.endOfGenerationIDs
        addsBOS = vocabulary.addBOS
        addsEOS = vocabulary.addEOS
        addsSpacePrefix = vocabulary.addSpacePrefix
        specials = SpecialTokenTable(texts: checked.texts, types: checked.types, rstrip: checked.rstrip,
                                     lstrip: vocabulary.leftStrippingIDs)
        var adjusted = vocabulary
        adjusted.tokens = checked.texts
        adjusted.tokenTypes = checked.types
        adjusted.bosID = checked.bosID
        adjusted.eosID = checked.eosID
        adjusted.unknownID = checked.unknownID
        switch vocabulary.kind {
        case .sentencePiece: model = try SentencePieceModel(vocabulary: adjusted)
        case .byteLevelBPE: model = try ByteLevelBPEModel(vocabulary: adjusted, tables: checked.byteLevelTables)
        }
    }

    /// Reads `tokenizer.ggml.*` from GGUF-style metadata and validates it, with llama.cpp's
    /// defaults for absent keys: SentencePiece `<unk>` 0, `<s>` 1, `</s>` 2; byte-level BPE BOS and
    /// EOS 11 (GPT-2's historical default), and BOS added for the Llama-3-style pre-tokenizers.
    /// `general.name` selects llama.cpp's per-model token attributes (Phi-3).
    public init(gguf metadata: some TokenizerMetadataSource) throws(TokenizerError) {
        var vocabulary = try Vocabulary(metadata: metadata)
        let n = vocabulary.tokens.count
        // A default that falls outside the vocabulary is dropped, as llama.cpp does.
        func fallback(_ key: String, _ current: Int?, _ id: Int?) -> Int? {
            guard current == nil, !metadata.contains("tokenizer.ggml.\(key)"), let id, id < n else { return current }
            return id
        }
        switch vocabulary.kind {
        case .sentencePiece:
            vocabulary.unknownID = fallback("unknown_token_id", vocabulary.unknownID, 0)
            vocabulary.bosID = fallback("bos_token_id", vocabulary.bosID, 1)
            vocabulary.eosID = fallback("eos_token_id", vocabulary.eosID, 2)
        case .byteLevelBPE:
            let pre = vocabulary.preTokenizer
            let noBOS = pre == "glm4" || pre == "chatglm-bpe"
            vocabulary.bosID = fallback("bos_token_id", vocabulary.bosID, noBOS ? nil : 11)
            vocabulary.eosID = fallback("eos_token_id", vocabulary.eosID, 11)
            if !metadata.contains("tokenizer.ggml.add_bos_token"), Self.preTokenizersAddingBOS.contains(pre) {
                vocabulary.addBOS = true
            }
        }
        let name = metadata.contains("general.name") ? metadata.string("general.name") : nil
        try self.init(vocabulary: vocabulary, modelName: name)
    }

    /// Byte-level pre-tokenizers for which llama.cpp adds BOS unless the file says otherwise.
    static let preTokenizersAddingBOS: Set<String> = [
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano", "tekken", "chameleon",
    ]

    /// The number of tokens (ids are `0 ..< vocabularySize`).
    public var vocabularySize: Int { texts.count }

    /// The stored text of token `id` (SentencePiece keeps "▁" for spaces, byte-level BPE its mapped
    /// characters), or nil when `id` is out of range.
    public func tokenText(_ id: Int) -> String? {
        texts.indices.contains(id) ? texts[id] : nil
    }

    /// The type of token `id` (after llama.cpp's load-time adjustments), or nil when out of range.
    public func tokenType(_ id: Int) -> TokenType? {
        types.indices.contains(id) ? types[id] : nil
    }

    /// Whether `id` ends generation (see `endOfGenerationIDs`).
    public func isEndOfGeneration(_ id: Int) -> Bool {
        endOfGenerationIDs.contains(id)
    }

    /// Tokenizes `text` the way llama.cpp's `llama_tokenize` does.
    ///
    /// - Parameters:
    ///   - addSpecial: prepend BOS / append EOS when the vocabulary asks for them (`addsBOS`, `addsEOS`).
    ///   - parseSpecial: match control tokens such as `<|eot_id|>` or `<s>` in the text as their single
    ///     id. User-defined tokens are matched either way; without this flag control tokens are
    ///     ordinary text.
    /// - Returns: the ids; an empty text gives no ids (only BOS/EOS when `addSpecial`).
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = false) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, addsBOS, let bos = bosID { ids.append(bos) }
        // `followsSpecial` starts true: SentencePiece's dummy prefix goes at the start of the text,
        // and again after every special token (llama.cpp's `is_prev_special`).
        var followsSpecial = true
        for fragment in specials.partition(text, parseSpecial: parseSpecial) {
            switch fragment {
            case let .text(range):
                model.encode(fragment: text[range], followsSpecial: followsSpecial, into: &ids)
                followsSpecial = false
            case let .token(id):
                ids.append(id)
                followsSpecial = true
            }
        }
        if addSpecial, addsEOS, let eos = eosID { ids.append(eos) }
        return ids
    }
}
