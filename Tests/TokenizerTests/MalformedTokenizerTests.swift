import Foundation
import ModelFormats
import Testing
import Tokenizer

/// Malformed vocabularies give typed errors, never a crash.
@Suite("Tokenizer: malformed data")
struct MalformedTokenizerTests {
    static let tokens = ["<unk>", "<s>", "</s>", "a", "b", "ab"]

    static func make(
        tokens: [String] = tokens, scores: [Float]? = nil, types: [TokenType]? = nil,
        bos: Int? = 1, eos: Int? = 2, unk: Int? = 0, pad: Int? = nil, eot: [Int] = [], addBOS: Bool = true
    ) throws(TokenizerError) -> Tokenizer {
        let types = types ?? [.unknown, .control, .control] + Array(repeating: .normal, count: max(tokens.count - 3, 0))
        return try Tokenizer(vocabulary: Vocabulary(
            kind: .sentencePiece, tokens: tokens, scores: scores ?? Array(repeating: 0, count: tokens.count),
            tokenTypes: types, bosID: bos, eosID: eos, unknownID: unk, paddingID: pad, endOfTurnIDs: eot,
            addBOS: addBOS, addSpacePrefix: true))
    }

    @Test func wellFormedBuilds() throws {
        let t = try Self.make()
        #expect(t.encode("ab") == [0, 5])  // "▁" has no token and no byte token: <unk>
    }

    @Test func arraysOfDifferentLengths() {
        #expect(throws: TokenizerError.lengthMismatch(field: "scores", expected: 6, actual: 5)) {
            try Self.make(scores: [0, 0, 0, 0, 0])
        }
        #expect(throws: TokenizerError.lengthMismatch(field: "token_type", expected: 6, actual: 7)) {
            try Self.make(types: [.unknown, .control, .control, .normal, .normal, .normal, .normal])
        }
    }

    @Test func specialIdsOutOfRange() {
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "bos", id: 6, vocabularySize: 6)) { try Self.make(bos: 6) }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "eos", id: -1, vocabularySize: 6)) { try Self.make(eos: -1) }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "unknown", id: 99, vocabularySize: 6)) { try Self.make(unk: 99) }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "padding", id: 6, vocabularySize: 6)) { try Self.make(pad: 6) }
        #expect(throws: TokenizerError.specialTokenOutOfRange(name: "end-of-turn", id: 10, vocabularySize: 6)) { try Self.make(eot: [10]) }
        #expect(throws: TokenizerError.self) { try Self.make(bos: nil, addBOS: true) }
    }

    @Test func duplicateTexts() {
        // llama.cpp refuses a vocabulary in which two ids share a text.
        #expect(throws: TokenizerError.duplicateToken(id: 6, text: "a")) { try Self.make(tokens: Self.tokens + ["a"]) }
    }

    @Test func canonicallyEquivalentTextsAreNotDuplicates() throws {
        let t = try Self.make(tokens: Self.tokens + ["\u{1F77}", "\u{03AF}"])
        #expect(t.vocabularySize == 8)
    }

    @Test func emptyTextsAreRenamedLikeLlamaCpp() throws {
        let t = try Self.make(tokens: Self.tokens + [""])
        #expect(t.tokenText(6) == "[EMPTY_6]")
    }

    @Test func badByteToken() {
        let types: [TokenType] = [.unknown, .control, .control, .normal, .normal, .byte]
        #expect(throws: TokenizerError.self) { try Self.make(tokens: ["<unk>", "<s>", "</s>", "a", "b", "<0xZZ>"], types: types) }
    }

    @Test func emptyVocabularyAndNaNScores() {
        #expect(throws: TokenizerError.self) { try Self.make(tokens: [], types: [], bos: nil, eos: nil, unk: nil, addBOS: false) }
        #expect(throws: TokenizerError.self) { try Self.make(scores: [0, 0, 0, .nan, 0, 0]) }
    }

    @Test func metadataErrors() {
        // An unknown token type value, a key of the wrong type, missing tokens, another model.
        var m = FakeMetadata()
        m.ints["tokenizer.ggml.token_type"] = [1, 1, 9]
        #expect(throws: TokenizerError.self) { try Tokenizer(gguf: m) }
        m = FakeMetadata()
        m.wrongType.insert("tokenizer.ggml.bos_token_id")
        #expect(throws: TokenizerError.invalidField("tokenizer.ggml.bos_token_id", reason: "unexpected value type")) { try Tokenizer(gguf: m) }
        m = FakeMetadata()
        m.strings["tokenizer.ggml.tokens"] = nil
        #expect(throws: TokenizerError.missingField("tokenizer.ggml.tokens")) { try Tokenizer(gguf: m) }
        m = FakeMetadata()
        m.string["tokenizer.ggml.model"] = "bert"
        #expect(throws: TokenizerError.unsupportedModel("bert")) { try Tokenizer(gguf: m) }
        m = FakeMetadata()
        m.floats["tokenizer.ggml.scores"] = [0, 0]
        #expect(throws: TokenizerError.lengthMismatch(field: "scores", expected: 3, actual: 2)) { try Tokenizer(gguf: m) }
        #expect(throws: Never.self) { try Tokenizer(gguf: FakeMetadata()) }
    }

    @Test func invalidUTF8InAGGUFToken() throws {
        // A GGUF file whose token list holds the bytes FF FE: the reader refuses it.
        var w = GGUFWriter()
        w.keyValue("tokenizer.ggml.model", string: Array("llama".utf8))
        w.keyValue("tokenizer.ggml.tokens", strings: [Array("a".utf8), [0xFF, 0xFE]])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-bad-\(UUID().uuidString).gguf")
        try Data(w.bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            _ = try Tokenizer(gguf: GGUFFile(path: url.path).metadata)
        } throws: { error in
            if case .invalidUTF8 = error as? GGUFError { return true }
            return false
        }
    }

    @Test func invalidUTF8InTokenizerJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = Array(#"{"model": {"type": "BPE", "vocab": {"a": 0, ""#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#"": 1}, "merges": []}}"#.utf8)
        try Data(bytes).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect {
            _ = try Tokenizer(huggingFaceDirectory: dir.path)
        } throws: { error in
            if case .unreadableFile = error as? TokenizerError { return true }
            return false
        }
    }
}

/// Writes a minimal GGUF v3 file: metadata only, no tensors.
struct GGUFWriter {
    private(set) var entries: [[UInt8]] = []
    var bytes: [UInt8] {
        var out = Array("GGUF".utf8)
        out += le(UInt32(3)) + le(UInt64(0)) + le(UInt64(entries.count))
        for e in entries { out += e }
        return out
    }
    private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    private func str(_ b: [UInt8]) -> [UInt8] { le(UInt64(b.count)) + b }
    mutating func keyValue(_ key: String, string: [UInt8]) {
        entries.append(str(Array(key.utf8)) + le(UInt32(8)) + str(string))
    }
    mutating func keyValue(_ key: String, strings: [[UInt8]]) {
        var e = str(Array(key.utf8)) + le(UInt32(9)) + le(UInt32(8)) + le(UInt64(strings.count))
        for s in strings { e += str(s) }
        entries.append(e)
    }
}

/// In-memory GGUF-style metadata for a three-token SentencePiece vocabulary.
struct FakeMetadata: TokenizerMetadataSource {
    var string: [String: String] = ["tokenizer.ggml.model": "llama"]
    var strings: [String: [String]] = ["tokenizer.ggml.tokens": ["<unk>", "<s>", "</s>"]]
    var floats: [String: [Float]] = [:]
    var ints: [String: [Int]] = ["tokenizer.ggml.token_type": [2, 3, 3]]
    var wrongType: Set<String> = []

    func string(_ key: String) -> String? { string[key] }
    func int(_ key: String) -> Int? { nil }
    func bool(_ key: String) -> Bool? { nil }
    func stringArray(_ key: String) -> [String]? { strings[key] }
    func floatArray(_ key: String) -> [Float]? { floats[key] }
    func intArray(_ key: String) -> [Int]? { ints[key] }
    func contains(_ key: String) -> Bool {
        wrongType.contains(key) || string[key] != nil || strings[key] != nil || floats[key] != nil || ints[key] != nil
    }
}
