import Foundation
import Testing
import Tokenizer
import SparrowTestSupport

/// The Hugging Face directory loader against ids computed by the `tokenizers` package
/// (Fixtures/tokenizer/make_hf_tokenizer_fixture.py).
@Suite("Hugging Face tokenizer directories")
struct HuggingFaceTokenizerTests {
    struct Expected {
        let text: String
        let ids: [Int]
        let idsWithSpecial: [Int]
    }

    static func expected(_ dir: String) throws -> [Expected] {
        let data = try Data(contentsOf: FixturePaths.url("tokenizer/\(dir)/expected.json"))
        let items = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try items.map { item in
            Expected(
                text: try #require(item["text"] as? String),
                ids: try #require(item["ids"] as? [Int]),
                idsWithSpecial: try #require(item["ids_with_special"] as? [Int]))
        }
    }

    static func check(_ dir: String, roundTrip: Bool = true) throws {
        let tokenizer = try Tokenizer(huggingFaceDirectory: FixturePaths.url("tokenizer/\(dir)").path)
        for e in try expected(dir) {
            // Hugging Face matches special added tokens in the text: Sparrow's parseSpecial.
            #expect(tokenizer.encode(e.text, parseSpecial: true) == e.ids, "\(dir): \(String(reflecting: e.text))")
            #expect(tokenizer.encode(e.text, addSpecial: true, parseSpecial: true) == e.idsWithSpecial,
                    "\(dir) with special: \(String(reflecting: e.text))")
            if roundTrip, !e.text.contains("<") {
                let decoded = try tokenizer.decode(tokenizer.encode(e.text))
                #expect(Array(decoded.utf8) == Array(e.text.utf8), "\(dir) round trip: \(String(reflecting: decoded))")
            }
        }
    }

    @Test func sentencePieceStyle() throws {
        try Self.check("spm-tiny")
        let t = try Tokenizer(huggingFaceDirectory: FixturePaths.url("tokenizer/spm-tiny").path)
        #expect(t.kind == .sentencePiece)
        #expect(t.bosID == 1 && t.eosID == 2 && t.unknownID == 0)
        #expect(t.addsBOS && !t.addsEOS && t.addsSpacePrefix)
        #expect(t.tokenType(0) == .unknown)
        #expect(t.tokenType(1) == .control)
        #expect(t.tokenType(3) == .byte)
        #expect(t.tokenType(300) == .normal)
    }

    /// Newer exports: a `Metaspace` pre-tokenizer instead of the `Prepend` normalizer puts "▁" only
    /// where its `prepend_scheme` says, never before a fragment that starts with a space; added
    /// tokens with `rstrip` / `lstrip` swallow the whitespace beside them. (Decoding follows
    /// llama.cpp, which drops one leading space, so there is no round trip for a leading space.)
    @Test(arguments: ["first", "always"])
    func metaspacePrependScheme(scheme: String) throws {
        try Self.check("spm-metaspace-\(scheme)", roundTrip: false)
    }

    @Test func byteLevel() throws {
        try Self.check("gpt2-small")
        let t = try Tokenizer(huggingFaceDirectory: FixturePaths.url("tokenizer/gpt2-small").path)
        #expect(t.kind == .byteLevelBPE)
        #expect(t.vocabularySize == 1257)
        #expect(t.tokenText(1256) == "<|endoftext|>")
        #expect(t.endOfGenerationIDs == [1256])
        #expect(!t.addsBOS)
    }
}

/// Broken Hugging Face directories: each gives a typed error.
@Suite("Hugging Face tokenizer directories: malformed")
struct HuggingFaceMalformedTests {
    /// A temporary directory with the given files; removed by the caller.
    static func directory(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, content) in files {
            try Data(content.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    static func load(_ files: [String: String]) throws -> Result<Tokenizer, TokenizerError> {
        let dir = try directory(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            return .success(try Tokenizer(huggingFaceDirectory: dir.path))
        } catch {
            return .failure(error)
        }
    }

    static func json(vocab: String = #"{"a": 0, "b": 1, "ab": 2}"#, merges: String = #"["a b"]"#,
                     type: String = "BPE", pre: String = #"{"type": "ByteLevel", "use_regex": true}"#,
                     added: String = "[]") -> String {
        #"{"added_tokens": \#(added), "pre_tokenizer": \#(pre), "model": {"type": "\#(type)", "vocab": \#(vocab), "merges": \#(merges)}}"#
    }

    func expectFailure(_ files: [String: String], _ match: (TokenizerError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        switch try Self.load(files) {
        case .success: Issue.record("loaded a malformed directory", sourceLocation: sourceLocation)
        case let .failure(e): #expect(match(e), "unexpected error \(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func wellFormedMinimalLoads() throws {
        let result = try Self.load(["tokenizer.json": Self.json()])
        #expect((try? result.get())?.vocabularySize == 3)
    }

    @Test func missingFile() throws {
        try expectFailure([:]) { if case .unreadableFile = $0 { true } else { false } }
    }

    @Test func invalidJSON() throws {
        try expectFailure(["tokenizer.json": #"{"model": {"#]) { if case .unreadableFile = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": "[1, 2]"]) { if case .unreadableFile = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(), "tokenizer_config.json": "{,}"]) {
            if case .unreadableFile = $0 { true } else { false }
        }
    }

    @Test func unsupportedModelType() throws {
        try expectFailure(["tokenizer.json": Self.json(type: "Unigram")]) { if case .unsupportedModel = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": #"{"model": {}}"#]) { $0 == .missingField("model.type") }
    }

    @Test func mergeNamingUnknownToken() throws {
        try expectFailure(["tokenizer.json": Self.json(merges: #"["a c"]"#)]) { $0 == .invalidMerge(index: 0, merge: "a c") }
        try expectFailure(["tokenizer.json": Self.json(merges: #"["a b c"]"#)]) { if case .invalidMerge = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(merges: #"[["a"]]"#)]) { if case .invalidMerge = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(merges: #"[7]"#)]) { if case .invalidMerge = $0 { true } else { false } }
    }

    @Test func pairMergesAccepted() throws {
        let t = try Self.load(["tokenizer.json": Self.json(merges: #"[["a", "b"]]"#)]).get()
        #expect(t.vocabularySize == 3)
    }

    @Test func badIDs() throws {
        try expectFailure(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": 1.5}"#)]) { if case .invalidField = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": -1}"#)]) { if case .invalidField = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": 0}"#, merges: "[]")]) { if case .invalidField = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": true}"#)]) { if case .invalidField = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(added: #"[{"id": 1, "content": "zz"}]"#)]) { if case .invalidField = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": 1, "ab": 2000000000}"#)]) {
            if case .invalidField = $0 { true } else { false }
        }
    }

    @Test func specialTokenNotInVocabulary() throws {
        try expectFailure(["tokenizer.json": Self.json(), "tokenizer_config.json": #"{"bos_token": "<s>"}"#]) {
            if case .invalidField = $0 { true } else { false }
        }
        try expectFailure(["tokenizer.json": Self.json(), "tokenizer_config.json": #"{"add_bos_token": "yes"}"#]) {
            if case .invalidField = $0 { true } else { false }
        }
    }

    @Test func unknownPreTokenizer() throws {
        let pre = #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x+"}}, {"type": "ByteLevel", "use_regex": false}]}"#
        try expectFailure(["tokenizer.json": Self.json(pre: pre)]) { if case .unsupportedPreTokenizer = $0 { true } else { false } }
        try expectFailure(["tokenizer.json": Self.json(pre: "null")]) { if case .unsupportedPreTokenizer = $0 { true } else { false } }
    }

    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        // U+1F77 and U+03AF are canonically equivalent; Llama's vocabulary has both as tokens.
        let vocab = "{\"a\": 0, \"b\": 1, \"ab\": 2, \"\u{1F77}\": 3, \"\u{03AF}\": 4}"
        let t = try Self.load(["tokenizer.json": Self.json(vocab: vocab)]).get()
        #expect(t.vocabularySize == 5)
        #expect(Array(t.tokenText(3)?.unicodeScalars ?? "".unicodeScalars) == ["\u{1F77}"])
        #expect(Array(t.tokenText(4)?.unicodeScalars ?? "".unicodeScalars) == ["\u{03AF}"])
    }

    @Test func holesBecomeUnusedPadTokens() throws {
        let t = try Self.load(["tokenizer.json": Self.json(vocab: #"{"a": 0, "b": 1, "ab": 3}"#)]).get()
        #expect(t.tokenText(2) == "[PAD2]")
        #expect(t.tokenType(2) == .unused)
    }
}
