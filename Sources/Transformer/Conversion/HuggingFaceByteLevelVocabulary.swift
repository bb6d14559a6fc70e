import Foundation
import JSON
import Tokenizer

/// The byte-level BPE tokenizer (Llama 3, SmolLM2: `tokenizer.json` without `tokenizer.model`) as
/// llama.cpp's converter writes it: `_set_vocab_gpt2` through `get_vocab_base`.
extension HuggingFaceVocabulary {
    /// Writes `tokenizer.ggml.model` "gpt2", the pre-tokenizer's name, tokens, token types, merges and
    /// gguf-py's special vocabulary.
    ///
    /// The converter runs transformers' tokenizer; this runs Sparrow's, which tokenizes as
    /// transformers does for the pre-tokenizers it supports (`Tokenizer(huggingFaceDirectory:)`,
    /// here built from the `tokenizer.json` and `tokenizer_config.json` already parsed), so a
    /// checkpoint whose tokenizer Sparrow cannot load is refused here too. The pre-tokenizer's name
    /// comes as llama.cpp's does: the SHA-256 of the ids of ``PreTokenizerHashes/checkText``, looked
    /// up in the converter's table; an unknown hash is refused as the converter refuses it. Added
    /// tokens that are not `normalized` are kept as written: the converter's encode-then-decode of
    /// them gives the same text back for an added token, which the tokenizer matches whole.
    static func addByteLevel(to writer: inout MetadataBuilder, directory: String, config: JSONValue, tokenizerConfig: JSONValue?)
        throws(ModelQuantizationError)
    {
        let jsonPath = URL(fileURLWithPath: directory).appendingPathComponent("tokenizer.json").path
        guard let json = try JSONValue.file(jsonPath) else { throw .missingFile(path: jsonPath) }
        let model = json["model"]
        let type = model?["type"]?.string
        // gguf-py's `LlamaHfVocab` takes a SentencePiece-style BPE (byte fallback, a Sequence
        // decoder) unless it is Llama 3's; everything else falls through to the GPT-2 path.
        let isLlama3 = type == "BPE" && (model?["ignore_merges"]?.isTruthy ?? false)
            && !(model?["byte_fallback"]?.isTruthy ?? true)
        if !isLlama3, type == "BPE", model?["byte_fallback"]?.isTruthy ?? false, json["decoder"]?["type"]?.string == "Sequence" {
            throw .invalidFile(path: jsonPath, reason: """
                a SentencePiece-style BPE tokenizer.json without tokenizer.model (gguf-py's LlamaHfVocab) is not converted
                """)
        }

        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(parsedHuggingFaceJSON: json, config: tokenizerConfig) } catch {
            throw .invalidFile(path: jsonPath, reason: "the tokenizer cannot be loaded: \(error)")
        }
        let checkIDs = tokenizer.encode(PreTokenizerHashes.checkText, addSpecial: true, parseSpecial: true)
        let digest = SHA256.hexDigest(Array(("[" + checkIDs.map(String.init).joined(separator: ", ") + "]").utf8))
        guard let preTokenizer = PreTokenizerHashes.names[digest] else {
            throw .invalidFile(path: jsonPath, reason: """
                the BPE pre-tokenizer is not one llama.cpp's converter recognizes (chkhsh \(digest))
                """)
        }

        // Every id of the model's vocabulary and of the added tokens (transformers' `vocab`).
        var textByID: [Int: String] = [:]
        for (text, value) in model?["vocab"]?.members ?? [] {
            guard let id = value.integer, id >= 0 else { throw .invalidFile(path: jsonPath, reason: "model.vocab[\(text)] is not an id") }
            textByID[id] = text
        }
        var addedTexts: Set<String> = []
        var specialIDs: Set<Int> = []
        for entry in json["added_tokens"]?.array ?? [] {
            guard let id = entry["id"]?.integer, id >= 0, let text = entry["content"]?.string else {
                throw .invalidFile(path: jsonPath, reason: "an added token without an id or content")
            }
            textByID[id] = text
            addedTexts.insert(text)
            if entry["special"]?.isTruthy ?? false { specialIDs.insert(id) }
        }
        let vocabularySize = config["vocab_size"]?.integer ?? textByID.count
        guard let largest = textByID.keys.max(), largest < vocabularySize, vocabularySize <= 1 << 24 else {
            throw .invalidFile(path: jsonPath, reason: "token ids reach beyond vocab_size \(vocabularySize)")
        }

        var tokens: [String] = []
        var types: [PieceType] = []
        tokens.reserveCapacity(vocabularySize)
        types.reserveCapacity(vocabularySize)
        for id in 0..<vocabularySize {
            guard var text = textByID[id] else {
                tokens.append("[PAD\(id)]")
                types.append(.unused)
                continue
            }
            if !addedTexts.contains(text) {
                types.append(.normal)
            } else if specialIDs.contains(id) || looksSpecial(text) {
                types.append(.control)
            } else {
                text = text.replacingOccurrences(of: "\u{2581}", with: " ")
                types.append(.userDefined)
            }
            tokens.append(text)
        }

        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string(preTokenizer))
        writer.add("tokenizer.ggml.tokens", .array(.string(tokens)))
        writer.add("tokenizer.ggml.token_type", .array(.int32(types.map(\.rawValue))))
        // gguf-py's `SpecialVocab(dir, load_merges=True)` is given no vocabulary size here.
        var special = SpecialVocabulary(vocabularySize: Int.max)
        special.merges = try merges(json: json, directory: directory)
        try special.load(directory: directory, tokenizer: json, tokenizerConfig: tokenizerConfig, config: config)
        special.add(to: &writer)
    }

    /// gguf-py's merges: `tokenizer.json`'s `model.merges`, as "a b" strings, or as pairs (spaces
    /// inside a part written as U+0120, which `chr(ord(" ") + 256)` is); else `merges.txt`.
    static func merges(json: JSONValue, directory: String) throws(ModelQuantizationError) -> [String] {
        let jsonPath = URL(fileURLWithPath: directory).appendingPathComponent("tokenizer.json").path
        if let list = json["model"]?["merges"]?.array, let first = list.first {
            if first.string != nil {
                return try list.map { (item) throws(ModelQuantizationError) -> String in
                    guard let s = item.string else { throw .invalidFile(path: jsonPath, reason: "model.merges mixes strings and pairs") }
                    return s
                }
            }
            return try list.map { (item) throws(ModelQuantizationError) -> String in
                guard let pair = item.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string else {
                    throw .invalidFile(path: jsonPath, reason: "model.merges holds an entry that is neither a string nor a pair")
                }
                func encoded(_ part: String) -> String { part.replacingOccurrences(of: " ", with: "\u{0120}") }
                return encoded(a) + " " + encoded(b)
            }
        }
        let textPath = URL(fileURLWithPath: directory).appendingPathComponent("merges.txt").path
        guard let data = FileManager.default.contents(atPath: textPath) else { return [] }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if let first = lines.first, first.trimmingCharacters(in: .whitespaces).hasPrefix("#") { lines.removeFirst() }
        return lines.compactMap { line in
            let parts = line.split(whereSeparator: \.isWhitespace)
            return parts.count == 2 ? parts[0] + " " + parts[1] : nil
        }
    }
}
