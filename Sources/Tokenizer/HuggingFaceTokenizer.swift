import Foundation
import JSON

extension Tokenizer {
    /// Loads a Hugging Face tokenizer directory: `tokenizer.json` (required) and
    /// `tokenizer_config.json` (optional: BOS/EOS/UNK/PAD texts, `add_bos_token`, `add_eos_token`).
    ///
    /// Supported `model.type == "BPE"` tokenizers:
    /// - with `byte_fallback: true`: SentencePiece-style (Llama-2 family). Token scores are derived
    ///   from the merge list (a token's score is minus the rank of the first merge producing it), so
    ///   llama.cpp's highest-score-first loop applies the merges in Hugging Face's order. The dummy
    ///   prefix is on when the normalizer prepends "▁" or a `Metaspace` pre-tokenizer does.
    /// - with a `ByteLevel` pre-tokenizer: byte-level BPE; the GGUF pre-tokenizer name is recognised
    ///   from the configuration (`gpt-2`, `llama-bpe`, `qwen2`, `smollm`) or given as `preTokenizer`.
    ///
    /// Token types follow llama.cpp's converter: added tokens marked `special` (or that look special,
    /// such as `<|...|>`) are control tokens, other added tokens are user-defined, `<0xNN>` tokens of a
    /// byte-fallback vocabulary are byte tokens, ids missing from the vocabulary become unused
    /// `[PAD<id>]` tokens.
    ///
    /// - Throws: `TokenizerError.unreadableFile` for a missing or unparsable file, `.invalidField`,
    ///   `.invalidMerge`, `.duplicateToken`, `.unsupportedModel`, `.unsupportedPreTokenizer` for
    ///   content this library cannot use; then everything `init(vocabulary:)` checks.
    public init(huggingFaceDirectory path: String, preTokenizer: String? = nil) throws(TokenizerError) {
        let directory = URL(fileURLWithPath: path)
        let json = try JSONObject.read(file: directory.appendingPathComponent("tokenizer.json").path)
        let configPath = directory.appendingPathComponent("tokenizer_config.json").path
        let config = FileManager.default.fileExists(atPath: configPath) ? try JSONObject.read(file: configPath) : nil
        let vocabulary = try HuggingFaceVocabulary.build(json: json, config: config, preTokenizer: preTokenizer)
        try self.init(vocabulary: vocabulary)
    }

    /// Loads a Hugging Face tokenizer from the contents of `tokenizer.json` and, optionally,
    /// `tokenizer_config.json`, with exactly the checks and errors of
    /// ``init(huggingFaceDirectory:preTokenizer:)`` (which reads the files and comes here). For
    /// tokenizers that are not in files, and for the fuzz harness.
    public init(huggingFaceJSON json: [UInt8], config: [UInt8]? = nil, preTokenizer: String? = nil) throws(TokenizerError) {
        let parsed = try JSONObject.parse(json, name: "tokenizer.json")
        var parsedConfig: JSONObject?
        if let config { parsedConfig = try JSONObject.parse(config, name: "tokenizer_config.json") }
        try self.init(vocabulary: HuggingFaceVocabulary.build(json: parsed, config: parsedConfig, preTokenizer: preTokenizer))
    }

    /// Loads a Hugging Face tokenizer from `tokenizer.json` and `tokenizer_config.json` already
    /// parsed, with the checks and errors of ``init(huggingFaceJSON:config:preTokenizer:)``: for the
    /// model converter, which reads those files for itself too.
    package init(parsedHuggingFaceJSON json: JSONValue, config: JSONValue?, preTokenizer: String? = nil) throws(TokenizerError) {
        let parsed = try JSONObject(document: json, name: "tokenizer.json")
        var parsedConfig: JSONObject?
        if let config { parsedConfig = try JSONObject(document: config, name: "tokenizer_config.json") }
        try self.init(vocabulary: HuggingFaceVocabulary.build(json: parsed, config: parsedConfig, preTokenizer: preTokenizer))
    }
}

/// Turns parsed `tokenizer.json` / `tokenizer_config.json` into a `Vocabulary`.
enum HuggingFaceVocabulary {
    static func build(json: JSONObject, config: JSONObject?, preTokenizer: String?) throws(TokenizerError) -> Vocabulary {
        guard let model = try json.object("model") else { throw .missingField("model") }
        guard let type = try model.string("type") else { throw .missingField("model.type") }
        guard type == "BPE" else { throw .unsupportedModel("tokenizer.json model.type \(type)") }
        let byteFallback = try model.bool("byte_fallback") ?? false
        let preObject = try json.object("pre_tokenizer")

        // Vocabulary: the model's map plus added tokens; ids must form 0 ..< n (holes are padded).
        guard let vocabObject = try model.object("vocab") else { throw .missingField("model.vocab") }
        var byID: [Int: String] = [:]
        for (text, raw) in vocabObject.members {
            guard let id = raw.integer, id >= 0, id < Int(Int32.max) else {
                throw .invalidField("model.vocab", reason: "token \(String(reflecting: text)) has an id that is not an integer in range")
            }
            if let other = byID[id], !other.utf8.elementsEqual(text.utf8) {
                throw .invalidField("model.vocab", reason: "id \(id) names both \(String(reflecting: other)) and \(String(reflecting: text))")
            }
            byID[id] = text
        }
        var special: Set<Int> = []
        var added: Set<Int> = []
        var rightStripping: Set<Int> = []
        var leftStripping: Set<Int> = []
        for entry in try json.objects("added_tokens") ?? [] {
            guard let id = try entry.int("id"), id >= 0, id < Int(Int32.max) else {
                throw .invalidField("\(entry.path).id", reason: "missing or not a non-negative integer")
            }
            guard let content = try entry.string("content"), !content.isEmpty else {
                throw .invalidField("\(entry.path).content", reason: "missing or empty")
            }
            if let existing = byID[id], !existing.utf8.elementsEqual(content.utf8) {
                throw .invalidField(entry.path, reason: "id \(id) is \(String(reflecting: existing)) in model.vocab")
            }
            byID[id] = content
            added.insert(id)
            if try entry.bool("special") ?? false { special.insert(id) }
            if try entry.bool("rstrip") ?? false { rightStripping.insert(id) }
            if try entry.bool("lstrip") ?? false { leftStripping.insert(id) }
        }
        guard let maxID = byID.keys.max() else { throw .invalidField("model.vocab", reason: "empty") }
        // Holes are padded, but a stray huge id must not make us allocate billions of tokens.
        guard maxID < 2 * byID.count + 1024 else {
            throw .invalidField("model.vocab", reason: "id \(maxID) is far beyond the \(byID.count) tokens given")
        }

        // Special-token texts from tokenizer_config.json; their ids are control tokens too.
        let bosText = try config?.tokenContent("bos_token")
        let eosText = try config?.tokenContent("eos_token")
        let padText = try config?.tokenContent("pad_token")
        var unkText = try config?.tokenContent("unk_token")
        if unkText == nil { unkText = try model.string("unk_token") }
        // Compared as bytes (not `String ==`, which would accept a canonically equivalent text).
        func lookup(_ text: String?, _ field: String) throws(TokenizerError) -> Int? {
            guard let text else { return nil }
            guard let id = byID.filter({ $0.value.utf8.elementsEqual(text.utf8) }).keys.min() else {
                throw .invalidField(field, reason: "\(String(reflecting: text)) is not in the vocabulary")
            }
            return id
        }
        let bosID = try lookup(bosText, "tokenizer_config.json bos_token")
        let eosID = try lookup(eosText, "tokenizer_config.json eos_token")
        let padID = try lookup(padText, "tokenizer_config.json pad_token")
        let unkID = try lookup(unkText, "unk_token")

        var tokens: [String] = []
        var types: [TokenType] = []
        tokens.reserveCapacity(maxID + 1)
        types.reserveCapacity(maxID + 1)
        for id in 0 ... maxID {
            guard var text = byID[id] else {
                tokens.append("[PAD\(id)]")
                types.append(.unused)
                continue
            }
            let type: TokenType
            if id == unkID {
                type = .unknown
            } else if special.contains(id) || [bosID, eosID, padID].contains(id) || (added.contains(id) && looksSpecial(text)) {
                type = .control
            } else if added.contains(id) {
                // llama.cpp's converter pre-normalises user-defined tokens: "▁" stands for a space.
                text = text.replacingOccurrences(of: "\u{2581}", with: " ")
                type = .userDefined
            } else if byteFallback, CheckedVocabulary.byteValue(text) != nil {
                type = .byte
            } else {
                type = .normal
            }
            tokens.append(text)
            types.append(type)
        }

        let merges = try parseMerges(model, tokens: tokens)
        let (addBOS, addEOS) = try specialFlags(json: json, config: config, bos: bosText, eos: eosText)

        if byteFallback {
            let placement = try spacePrefix(json: json, pre: preObject)
            var vocabulary = Vocabulary(
                kind: .sentencePiece, tokens: tokens, scores: scores(tokens: tokens, merges: merges),
                tokenTypes: types, bosID: bosID, eosID: eosID, unknownID: unkID, paddingID: padID,
                addBOS: addBOS, addEOS: addEOS, addSpacePrefix: placement != nil)
            vocabulary.spacePrefixPlacement = placement ?? .startAndAfterTokens
            vocabulary.rightStrippingIDs = rightStripping
            vocabulary.leftStrippingIDs = leftStripping
            return vocabulary
        }
        var detected = preTokenizer
        if detected == nil { detected = try HuggingFacePreTokenizer.detect(preObject) }
        guard let pre = detected else {
            throw .unsupportedPreTokenizer("tokenizer.json pre_tokenizer (not a byte-level configuration this library recognises; pass preTokenizer:)")
        }
        var vocabulary = Vocabulary(
            kind: .byteLevelBPE, preTokenizer: pre, tokens: tokens, tokenTypes: types,
            merges: merges.map { "\($0.0) \($0.1)" }, bosID: bosID, eosID: eosID, unknownID: unkID,
            paddingID: padID, addBOS: addBOS, addEOS: addEOS, addSpacePrefix: false)
        vocabulary.rightStrippingIDs = rightStripping
        vocabulary.leftStrippingIDs = leftStripping
        return vocabulary
    }

    /// llama.cpp converter's `does_token_look_special`.
    static func looksSpecial(_ t: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t)
            || (t.hasPrefix("<|") && t.hasSuffix("|>"))
            || (t.hasPrefix("<｜") && t.hasSuffix("｜>"))
            || (t.hasPrefix("<unused") && t.hasSuffix(">"))
    }

    /// `model.merges` as pairs: each entry "left right" (one space) or `["left", "right"]`, both
    /// sides tokens of the vocabulary.
    static func parseMerges(_ model: JSONObject, tokens: [String]) throws(TokenizerError) -> [(String, String)] {
        let raw = try model.array("merges") ?? []
        let table = TokenTextTable(texts: tokens)
        var merges: [(String, String)] = []
        merges.reserveCapacity(raw.count)
        for (i, item) in raw.enumerated() {
            let pair: (String, String)
            if case let .string(s) = item {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .invalidMerge(index: i, merge: s) }
                pair = (String(parts[0]), String(parts[1]))
            } else if case let .array(a) = item, a.count == 2, case let .string(l) = a[0], case let .string(r) = a[1] {
                // A side containing a space could not be written as "left right" (GGUF's form).
                guard !l.contains(" "), !r.contains(" ") else { throw .invalidMerge(index: i, merge: "\(l) \(r)") }
                pair = (l, r)
            } else {
                throw .invalidMerge(index: i, merge: "(not a string or a pair of strings)")
            }
            guard !pair.0.isEmpty, !pair.1.isEmpty, table.id(of: pair.0) != nil, table.id(of: pair.1) != nil else {
                throw .invalidMerge(index: i, merge: "\(pair.0) \(pair.1)")
            }
            merges.append(pair)
        }
        return merges
    }

    /// SentencePiece-style scores from merge ranks: the first merge producing a token gives it
    /// `-rank`; tokens no merge produces get a score below every merge, so that they are merged last.
    static func scores(tokens: [String], merges: [(String, String)]) -> [Float] {
        let table = TokenTextTable(texts: tokens)
        var scores = [Float](repeating: -Float(merges.count + 1), count: tokens.count)
        var assigned = [Bool](repeating: false, count: tokens.count)
        for (rank, merge) in merges.enumerated() {
            guard let id = table.id(of: merge.0 + merge.1), !assigned[id] else { continue }
            assigned[id] = true
            scores[id] = -Float(rank)
        }
        return scores
    }

    /// Where a SentencePiece-style tokenizer puts the dummy "▁" prefix, or nil for nowhere. The
    /// `Prepend` normalizer runs on each fragment between added tokens, llama.cpp's rule; a
    /// `Metaspace` pre-tokenizer prepends by its `prepend_scheme` (the older `add_prefix_space: true`
    /// reads as "always"), and never in front of a fragment that starts with a space.
    static func spacePrefix(json: JSONObject, pre: JSONObject?) throws(TokenizerError) -> SpacePrefixPlacement? {
        func steps(_ o: JSONObject?, _ listKey: String) throws(TokenizerError) -> [JSONObject] {
            guard let o else { return [] }
            if try o.string("type") == "Sequence" { return try o.objects(listKey) ?? [] }
            return [o]
        }
        for n in try steps(json.object("normalizer"), "normalizers") where try n.string("type") == "Prepend" {
            if try n.string("prepend") == "\u{2581}" { return .startAndAfterTokens }
        }
        for p in try steps(pre, "pretokenizers") where try p.string("type") == "Metaspace" {
            switch try p.string("prepend_scheme") {
            case "first"?: return .textStartUnlessSpace
            case "never"?: return nil
            case .some: return .everyFragmentUnlessSpace
            case nil: return try p.bool("add_prefix_space") ?? true ? .everyFragmentUnlessSpace : nil
            }
        }
        return nil
    }

    /// add_bos / add_eos: tokenizer_config.json's flags when given, else whether the post-processor's
    /// single-sequence template starts with BOS / ends with EOS.
    static func specialFlags(json: JSONObject, config: JSONObject?, bos: String?, eos: String?) throws(TokenizerError) -> (Bool, Bool) {
        var template: [String] = []
        if let post = try json.object("post_processor"), try post.string("type") == "TemplateProcessing" {
            for piece in try post.objects("single") ?? [] {
                if let s = try piece.object("SpecialToken"), let id = try s.string("id") { template.append(id) } else { template.append("") }
            }
        }
        let addBOS = try config?.bool("add_bos_token") ?? (bos != nil && template.first == bos)
        let addEOS = try config?.bool("add_eos_token") ?? (eos != nil && template.count > 1 && template.last == eos)
        return (addBOS, addEOS)
    }
}
