import ModelFormats
import Testing
@testable import Tokenizer

@Suite("SentencePiece model internals")
struct SentencePieceModelTests {
    static func llamaVocabulary() throws -> Vocabulary {
        try Vocabulary(metadata: GGUFFile(path: VocabVectors.ggufPath("llama-spm")).metadata)
    }

    /// A deterministic mix of English, code, CJK, emoji, runs of spaces and newlines.
    static func mixedText(_ count: Int) -> String {
        let words = ["The", "quick", "brown", "fox", "jumps", "  over", "the", "lazy", "dog.", "func", "f(x)",
                     "{ return x * 2 }", "自然语言处理", "東京は日本の首都", "한국어", "🦙🦙", "   ", "\n", "\n\n",
                     "\t", "naïve", "café", "3.14159", "1,234,567", "it's", "we'll", "ί", "ί", "----", "▁"]
        var state: UInt64 = 42
        var out = ""
        for _ in 0 ..< count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out += words[Int((state >> 33) % UInt64(words.count))]
            if state & 1 == 0 { out += " " }
        }
        return out
    }

    /// Word-chunked processing gives exactly the ids of one merge loop over the whole fragment.
    @Test func chunkingDoesNotChangeIDs() throws {
        let v = try Self.llamaVocabulary()
        let chunked = try SentencePieceModel(vocabulary: v, chunking: true)
        let whole = try SentencePieceModel(vocabulary: v, chunking: false)
        var texts = try VocabVectors.cases("llama-spm").map(\.text)
        texts += (1 ... 20).map { Self.mixedText($0 * 37) }
        for text in texts {
            for followsSpecial in [true, false] {
                var a: [Int] = [], b: [Int] = []
                chunked.encode(fragment: text[...], followsSpecial: followsSpecial, into: &a)
                whole.encode(fragment: text[...], followsSpecial: followsSpecial, into: &b)
                #expect(a == b, "\(String(reflecting: text.prefix(60)))")
            }
        }
    }

    @Test func tokensWithInnerSpaceDisableChunking() throws {
        // "a▁b" spans a word boundary, so the text must be merged as a whole to find it.
        let tokens = ["<unk>", "a", "b", "\u{2581}", "\u{2581}a", "a\u{2581}", "a\u{2581}b"]
        let scores: [Float] = [0, -5, -5, -5, -1, -2, -0.5]
        let t = try Tokenizer(vocabulary: Vocabulary(
            kind: .sentencePiece, tokens: tokens, scores: scores,
            tokenTypes: [.unknown] + Array(repeating: .normal, count: 6), unknownID: 0, addSpacePrefix: false))
        #expect(t.encode("a b") == [6])
    }

    @Test func unknownCharacterWithoutByteTokens() throws {
        let t = try Tokenizer(vocabulary: Vocabulary(
            kind: .sentencePiece, tokens: ["<unk>", "a"], tokenTypes: [.unknown, .normal], unknownID: 0))
        // One <unk> per character, not per byte.
        #expect(t.encode("a€a") == [1, 0, 1])
        let noUnknown = try Tokenizer(vocabulary: Vocabulary(kind: .sentencePiece, tokens: ["a"]))
        #expect(noUnknown.encode("a€a") == [0, 0])
    }

    @Test func longInputIsLinear() throws {
        // Not a timing test: a 200 kB single "word" with no spaces must still encode (no recursion,
        // no quadratic rescans) and decode back.
        let t = try VocabVectors.tokenizer("llama-spm")
        let text = String(repeating: "abcdefghij", count: 20_000)
        let ids = t.encode(text)
        #expect(try t.decode(ids) == text)
    }
}

@Suite("Hugging Face pre-tokenizer recognition")
struct HuggingFacePreTokenizerTests {
    static func detect(_ json: String) throws -> String? {
        let members = try JSONObject.parse(Array(json.utf8), name: "pre_tokenizer").members
        return try HuggingFacePreTokenizer.detect(JSONObject(members: members, path: "pre_tokenizer"))
    }

    static func split(_ regex: String) -> String {
        let escaped = regex.replacingOccurrences(of: "\\", with: "\\\\")
        return #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": ""# + escaped +
            #""}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}"#
    }

    @Test func knownConfigurations() throws {
        #expect(try Self.detect(#"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#) == "gpt-2")
        #expect(try Self.detect(Self.split(HuggingFacePreTokenizer.llama3Regex)) == "llama-bpe")
        #expect(try Self.detect(Self.split(HuggingFacePreTokenizer.qwen2Regex)) == "qwen2")
        let smol = #"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "use_regex": true}]}"#
        #expect(try Self.detect(smol) == "smollm")
        #expect(try Self.detect(#"{"type": "Metaspace", "replacement": "▁"}"#) == nil)
        #expect(try Self.detect(Self.split("\\p{N}+")) == nil)
    }
}
