/// The checks `Tokenizer.init(vocabulary:)` makes, and the per-token facts llama.cpp derives at load
/// time (`llama_vocab::impl::load`): empty texts renamed, duplicates rejected, end-of-generation ids
/// found by token text, such tokens promoted to control (so they are neither rendered nor matched as
/// ordinary text), and Phi-3's "strip whitespace after special tokens" attribute.
struct CheckedVocabulary {
    var texts: [String]
    var types: [TokenType]
    /// Ids with llama.cpp's RSTRIP attribute (whitespace after them is dropped when they are split out).
    var rstrip: Set<Int> = []
    var bosID: Int?
    var eosID: Int?
    var unknownID: Int?
    var paddingID: Int?
    var endOfGenerationIDs: [Int]
    /// The byte each `.byte` token stands for (its `<0xNN>` text).
    var byteValues: [Int: UInt8] = [:]
    /// Whether llama.cpp's `llama_detokenize` runs its space clean-up for this vocabulary.
    var cleansSpaces: Bool
    /// For byte-level BPE, the key tables that checked for duplicates, for the model to reuse.
    var byteLevelTables: ByteLevelTables?

    /// Texts llama.cpp treats as end of generation whatever the metadata says (`special_eog_ids`).
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]
    /// Fill-in-the-middle pad / repository / file-separator texts: also end generation in llama.cpp.
    static let fimEndTexts: Set<String> = [
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    ]
    /// Other fill-in-the-middle texts llama.cpp promotes to control.
    static let fimOtherTexts: Set<String> = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
        "<|code_prefix|>", "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
        "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>", "<|fim_middle|>",
        "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ]
    /// llama.cpp's gpt-oss workaround: these become user-defined (always rendered).
    static let alwaysRenderedTexts: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
    /// Byte-level pre-tokenizers for which llama.cpp turns the detokenizer's space clean-up off.
    static let preTokenizersWithoutCleanup: Set<String> = [
        "deepseek-llm", "deepseek-coder", "deepseek-v3", "spark2_5", "youtu", "sarvam-moe", "command-r",
        "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "qwen35", "poro-chat", "viking", "tekken",
        "smollm", "chameleon", "gpt-4o", "llama4", "kanana2", "talkie", "granite-embed-multi-97m",
        "tiny_aya", "cohere2moe", "superbpe", "trillion", "granite-docling", "bailingmoe", "bailingmoe2",
        "llada-moe", "seed-coder", "hunyuan", "hunyuan-dense", "hy_v4", "joyai-llm", "kimi-k2",
        "ufakzeka", "grok-2", "afmoe", "laguna", "minimax-m2", "solar-open",
    ]

    init(_ v: Vocabulary, modelName: String?) throws(TokenizerError) {
        let n = v.tokens.count
        guard n > 0 else { throw .invalidField("tokens", reason: "the vocabulary is empty") }
        // Ids are 32-bit in llama.cpp and in GGUF; more tokens could not be addressed.
        guard n <= Int(Int32.max) else { throw .invalidField("tokens", reason: "\(n) tokens is too many") }
        guard v.tokenTypes.count == n else {
            throw .lengthMismatch(field: "token_type", expected: n, actual: v.tokenTypes.count)
        }
        // Scores are optional (llama.cpp uses 0 for every token when absent) but must match if given.
        guard v.scores.isEmpty || v.scores.count == n else {
            throw .lengthMismatch(field: "scores", expected: n, actual: v.scores.count)
        }
        for (i, s) in v.scores.enumerated() where s.isNaN {
            throw .invalidField("scores", reason: "token \(i) has a NaN score")
        }

        // Texts: llama.cpp renames empty ones ("[EMPTY_i]") and refuses duplicates.
        texts = v.tokens
        for i in 0 ..< n where texts[i].isEmpty { texts[i] = "[EMPTY_\(i)]" }
        // Byte-level BPE builds a table of byte keys anyway, and duplicate keys are duplicate texts:
        // checking with it spares a second table of every text. The few lookups by text below then
        // scan (they are rare: see where `id` is called).
        let textTable: TokenTextTable?
        if v.kind == .byteLevelBPE, let tables = ByteLevelTables(tokens: texts) {
            if let dup = tables.firstDuplicate { throw .duplicateToken(id: dup, text: texts[dup]) }
            byteLevelTables = tables
            textTable = nil
        } else {
            let table = TokenTextTable(texts: texts)
            if let dup = table.firstDuplicate { throw .duplicateToken(id: dup, text: texts[dup]) }
            textTable = table
        }
        let allTexts = texts
        func id(_ text: String) -> Int? {
            if let textTable { return textTable.id(of: text) }
            let target = Array(text.utf8)
            return allTexts.firstIndex { $0.utf8.count == target.count && $0.utf8.elementsEqual(target) }
        }
        types = v.tokenTypes
        for (i, t) in types.enumerated() where t == .byte {
            guard let b = Self.byteValue(texts[i]) else {
                throw .invalidToken(id: i, reason: "byte token \"\(texts[i])\" is not of the form <0xNN>")
            }
            byteValues[i] = b
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
        // llama.cpp refuses a vocabulary that asks for BOS/EOS without naming them.
        if v.addBOS, bosID == nil { throw .missingField("bos token id (add_bos_token is set)") }
        if v.addEOS, eosID == nil { throw .missingField("eos token id (add_eos_token is set)") }

        var eog = Set(v.endOfTurnIDs)
        for i in 0 ..< n {
            let text = texts[i]
            // Every listed text starts with "<", "[", "_" or "▁" (E2): skip the set lookups (which
            // hash normalised strings) for the other 99% of a large vocabulary.
            guard let first = text.utf8.first, first == 0x3C || first == 0x5B || first == 0x5F || first == 0xE2 else { continue }
            let ends = Self.endOfGenerationTexts.contains(text) || Self.fimEndTexts.contains(text)
            if ends { eog.insert(i) }
            if ends || Self.fimOtherTexts.contains(text) {
                // "control-looking token ... its type will be overridden" (llama.cpp)
                types[i] = .control
            }
            // llama.cpp's gpt-oss workaround: these are always rendered.
            if Self.alwaysRenderedTexts.contains(text) { types[i] = .userDefined }
        }
        if let eosID { eog.insert(eosID) }
        for id in v.endOfTurnIDs { eog.insert(id) }
        // o200k_harmony / solar-open: with <|return|> and <|call|> present, <|end|> is not an end.
        let finalTexts = texts
        let eogTexts = Set(eog.map { finalTexts[$0] })
        if eogTexts.contains("<|return|>") || eogTexts.contains("<|flush|>"),
            eogTexts.contains("<|call|>") || eogTexts.contains("<|calls|>"), let end = id("<|end|>"), eog.contains(end) {
            eog.remove(end)
            types[end] = .userDefined
        }
        // Gemma 4 / PaddleOCR: with <|tool_response> present, </s> is an ordinary token.
        if eogTexts.contains("<|tool_response>"), let s = id("</s>"), eog.contains(s) {
            eog.remove(s)
            types[s] = .normal
        }
        endOfGenerationIDs = eog.sorted()

        let tokenCount = finalTexts.count
        rstrip = v.rightStrippingIDs.filter { $0 >= 0 && $0 < tokenCount }
        // llama.cpp ("set attributes by model name"): Phi-3's special tokens swallow the whitespace
        // that follows them, except <unk>, <s> and <|endoftext|>.
        if let name = modelName?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
            for (i, t) in types.enumerated() where t == .control || t == .userDefined || t == .unknown {
                rstrip.insert(i)
            }
            if let id = id("</s>") { rstrip.insert(id) }
            for text in ["<unk>", "<s>", "<|endoftext|>"] { if let id = id(text) { rstrip.remove(id) } }
        }

        cleansSpaces = v.kind == .byteLevelBPE && !Self.preTokenizersWithoutCleanup.contains(v.preTokenizer)
    }

    /// The byte of a `<0xNN>` token text (two hex digits, either case), or nil.
    static func byteValue(_ text: String) -> UInt8? {
        let u = Array(text.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
            let hi = hexDigit(u[3]), let lo = hexDigit(u[4]) else { return nil }
        return hi << 4 | lo
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30 ... 0x39: return c - 0x30
        case 0x41 ... 0x46: return c - 0x41 + 10
        case 0x61 ... 0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
