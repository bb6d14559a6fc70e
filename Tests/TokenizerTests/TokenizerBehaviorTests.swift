import ModelFormats
import Testing
@testable import Tokenizer

/// `encode` / `decode` semantics on llama.cpp's SentencePiece vocabularies and small hand-made ones.
@Suite("Tokenizer facade")
struct TokenizerBehaviorTests {
    static let llama: Tokenizer? = try? VocabVectors.tokenizer("llama-spm")
    static let phi3: Tokenizer? = try? VocabVectors.tokenizer("phi-3")

    /// A SentencePiece vocabulary: "a", "b", "ab", "▁", "▁a", control "<ctl>", user-defined "<ud>"
    /// and "<ud2>", byte tokens for 'x' and the three bytes of "€".
    static func tiny() throws -> Tokenizer {
        let tokens = ["<unk>", "<s>", "</s>", "a", "b", "ab", "\u{2581}", "\u{2581}a", "<ctl>", "<ud>", "<ud2>",
                      "<0x78>", "<0xE2>", "<0x82>", "<0xAC>", "<ud>x"]
        let types: [TokenType] = [.unknown, .control, .control, .normal, .normal, .normal, .normal, .normal,
                                  .control, .userDefined, .userDefined, .byte, .byte, .byte, .byte, .userDefined]
        let scores: [Float] = [0, 0, 0, -1, -1, -0.5, -1, -0.5, 0, 0, 0, 0, 0, 0, 0, 0]
        return try Tokenizer(vocabulary: Vocabulary(
            kind: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types,
            bosID: 1, eosID: 2, unknownID: 0, addBOS: true, addEOS: true, addSpacePrefix: true))
    }

    @Test func parseSpecialSplitsControlTokens() throws {
        let t = try #require(Self.llama)
        let plain = t.encode("<s>Hello")
        #expect(!plain.contains(1))
        // After a special token, SentencePiece adds the dummy-prefix space again (llama.cpp).
        #expect(t.encode("<s>Hello", parseSpecial: true) == [1] + t.encode("Hello"))
        #expect(t.encode("Hi</s>", parseSpecial: true) == t.encode("Hi") + [2])
    }

    @Test func addSpecialAddsBOSAsTheVocabularySays() throws {
        let t = try #require(Self.llama)
        #expect(t.encode("", addSpecial: true) == [1])
        #expect(t.encode("") == [])
        #expect(t.encode("Hello", addSpecial: true) == [1] + t.encode("Hello"))
        let tiny = try Self.tiny()
        #expect(tiny.encode("a", addSpecial: true) == [1, 7, 2])
    }

    @Test func userDefinedTokensMatchWithoutParseSpecial() throws {
        let t = try Self.tiny()
        // "<ud>x" (5 bytes) is tried before "<ud>" (4): longest first.
        #expect(t.encode("a<ud>xb") == [7, 15, 6, 4])
        #expect(t.encode("a<ud>b") == [7, 9, 6, 4])
        // Control tokens only with parseSpecial; otherwise bytes fall back to <unk>/byte tokens.
        #expect(!t.encode("<ctl>").contains(8))
        #expect(t.encode("<ctl>a", parseSpecial: true) == [8, 7])
    }

    @Test func byteFallback() throws {
        let t = try Self.tiny()
        // "x" has no token but a byte token; "€" is three byte tokens; "y" has neither: <unk>.
        #expect(t.encode("x") == [6, 11])
        #expect(t.encode("€") == [6, 12, 13, 14])
        #expect(t.encode("y") == [6, 0])
    }

    @Test func mergesByScoreThenLeftmost() throws {
        let t = try Self.tiny()
        // "▁a" (-0.5) beats "ab" (-0.5)? Equal scores: the leftmost pair merges first.
        #expect(t.encode("ab") == [7, 4])
        #expect(t.encode("bab") == [6, 4, 5])
    }

    @Test func phi3SpecialTokensSwallowFollowingWhitespace() throws {
        let t = try #require(Self.phi3)
        // llama.cpp gives Phi-3's special tokens RSTRIP (by model name); <s> keeps the space.
        #expect(t.encode("<|user|>\n Hello", parseSpecial: true) == [32010] + t.encode("Hello"))
        #expect(t.encode("<s> Hello", parseSpecial: true) == [1] + t.encode(" Hello"))
        // The attribute comes from `general.name`: same vocabulary, other name, no stripping.
        let named = try Tokenizer(gguf: GGUFMetadataShim(name: "Phi-3-mini-4k-instruct"))
        #expect(named.encode("<|user|>\nHi", parseSpecial: true) == [32010] + named.encode("Hi"))
        let other = try Tokenizer(gguf: GGUFMetadataShim(name: "some-model"))
        #expect(other.encode("<|user|>\nHi", parseSpecial: true) != [32010] + other.encode("Hi"))
    }

    @Test func decodeRendersOrSkipsSpecialTokens() throws {
        let t = try #require(Self.llama)
        let ids = [1] + t.encode("Hello") + [2]
        // The leading-space rule: only the first token loses its space, even when it is a skipped
        // <s> (llama.cpp), so text after a BOS keeps the dummy-prefix space.
        #expect(try t.decode(ids) == " Hello")
        #expect(try t.decode(ids, skipSpecial: false) == "<s> Hello</s>")
        #expect(try t.decode(t.encode("Hello")) == "Hello")
        #expect(try t.decode(t.encode(" Hello")) == " Hello")
        #expect(try t.decode([]) == "")
    }

    @Test func userDefinedTokensDecodeAsStoredText() throws {
        let t = try Self.tiny()
        #expect(try t.decode([9, 8, 3]) == "<ud>a")
        #expect(try t.decode([9, 8, 3], skipSpecial: false) == "<ud><ctl>a")
        #expect(try t.decode([0], skipSpecial: false) == "<unk>")
    }

    @Test func decodeIdOutOfRange() throws {
        let t = try #require(Self.llama)
        #expect(throws: TokenizerError.idOutOfRange(id: 32000, vocabularySize: 32000)) { try t.decode([1, 32000]) }
        #expect(throws: TokenizerError.idOutOfRange(id: -1, vocabularySize: 32000)) { try t.decode([-1]) }
        var stream = t.makeStreamingDecoder()
        #expect(throws: TokenizerError.idOutOfRange(id: 99999, vocabularySize: 32000)) { try stream.append(99999) }
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let t = try Self.tiny()
        // A lone lead byte, then "a": one U+FFFD; a truncated sequence at the end: one U+FFFD.
        #expect(try t.decode([3, 12, 3]) == "a\u{FFFD}a")
        #expect(try t.decode([3, 12, 13]) == "a\u{FFFD}")
        #expect(try t.decode([12, 13, 14]) == "€")
        #expect(try t.decodeBytes([12, 13]) == [0xE2, 0x82])
    }

    @Test func spaceCleanupLikeLlamaCpp() throws {
        let t = try #require(Self.llama)
        let ids = t.encode("Hello , world ! I 'm sure you 're ok , it ' s fine . they 'll 't")
        #expect(try t.decode(ids, cleanUpSpaces: true) == "Hello, world! I'm sure you're ok, it's fine. they 'll 't")
        #expect(try t.decode(ids) == "Hello , world ! I 'm sure you 're ok , it ' s fine . they 'll 't")
        #expect(!t.cleansUpSpacesByDefault)
        #expect(SpaceCleanup.apply([]) == [])
        // The first byte is copied unconditionally, but it can still be removed as "the space before".
        #expect(SpaceCleanup.apply(Array(" .".utf8)) == Array(".".utf8))
        #expect(SpaceCleanup.apply(Array("a ' ' b".utf8)) == Array("a'' b".utf8))
    }

    @Test func endOfGenerationAndTypes() throws {
        let t = try #require(Self.llama)
        #expect(t.isEndOfGeneration(2))
        #expect(!t.isEndOfGeneration(1))
        #expect(try t.pieceBytes(13) == [0x0A])  // <0x0A>
    }
}

/// Metadata like the phi-3 fixture's, under a different `general.name`, to show the name matters.
struct GGUFMetadataShim: TokenizerMetadataSource {
    let base: Tokenizer?
    let name: String
    init(name: String) {
        base = try? VocabVectors.tokenizer("phi-3")
        self.name = name
    }
    private var n: Int { base?.vocabularySize ?? 0 }
    func string(_ key: String) -> String? {
        switch key {
        case "tokenizer.ggml.model": "llama"
        case "general.name": name
        default: nil
        }
    }
    func int(_ key: String) -> Int? {
        switch key {
        case "tokenizer.ggml.bos_token_id": 1
        case "tokenizer.ggml.eos_token_id": 32000
        case "tokenizer.ggml.unknown_token_id": 0
        default: nil
        }
    }
    func bool(_ key: String) -> Bool? { nil }
    func stringArray(_ key: String) -> [String]? {
        key == "tokenizer.ggml.tokens" ? (0 ..< n).map { base?.tokenText($0) ?? "" } : nil
    }
    func floatArray(_ key: String) -> [Float]? { nil }
    func intArray(_ key: String) -> [Int]? {
        key == "tokenizer.ggml.token_type" ? (0 ..< n).map { Int(base?.tokenType($0)?.rawValue ?? 1) } : nil
    }
    func contains(_ key: String) -> Bool {
        ["tokenizer.ggml.model", "general.name", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
         "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type"].contains(key)
    }
}
