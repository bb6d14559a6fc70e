import Foundation
import ModelFormats
import Testing
@testable import Tokenizer
import SparrowTestSupport

/// Byte-level BPE on small hand-made vocabularies: merge order, llama.cpp's corner cases, decoding,
/// and malformed data that must give a typed error.
@Suite("Byte-level BPE model")
struct ByteLevelBPEModelTests {
    /// GPT-2's character for each byte, written out independently of the implementation.
    static let byteCharacters: [String] = {
        var printable = Array(0x21 ... 0x7E) + Array(0xA1 ... 0xAC) + Array(0xAE ... 0xFF)
        var result = [String](repeating: "", count: 256)
        for b in printable { result[b] = String(UnicodeScalar(UInt8(b))) }
        var next = 0x100
        for b in 0 ..< 256 where !printable.contains(b) {
            result[b] = Unicode.Scalar(UInt32(next)).map { String($0) } ?? ""
            next += 1
            printable.append(b)
        }
        return result
    }()

    /// Ids 0..<256 are the byte characters (in byte order), then `extra` tokens.
    static func vocabulary(extra: [String], merges: [String], pre: String = "gpt-2",
                           types: [TokenType]? = nil) -> Vocabulary {
        let tokens = byteCharacters + extra
        return Vocabulary(kind: .byteLevelBPE, preTokenizer: pre, tokens: tokens,
                          tokenTypes: types ?? Array(repeating: .normal, count: tokens.count), merges: merges)
    }

    static func tokenizer(extra: [String], merges: [String], pre: String = "gpt-2") throws -> Tokenizer {
        try Tokenizer(vocabulary: vocabulary(extra: extra, merges: merges, pre: pre))
    }

    static let a = 0x61, b = 0x62, c = 0x63

    @Test func mergesApplyByRank() throws {
        let t = try Self.tokenizer(extra: ["ab", "bc", "abc"], merges: ["a b", "b c", "ab c"])
        #expect(t.encode("abc") == [258])          // a b → ab, then ab c → abc
        let reversed = try Self.tokenizer(extra: ["ab", "bc", "abc"], merges: ["b c", "a b", "ab c"])
        #expect(reversed.encode("abc") == [Self.a, 257])  // b c first; "a bc" has no rule
    }

    @Test func equalRanksMergeLeftmostFirst() throws {
        let t = try Self.tokenizer(extra: ["aa"], merges: ["a a"])
        #expect(t.encode("aaa") == [256, Self.a])
        #expect(t.encode("aaaaa") == [256, 256, Self.a])
    }

    @Test func firstRuleForAPairWins() throws {
        // The same pair twice: the later rule's rank is ignored (llama.cpp's emplace).
        let t = try Self.tokenizer(extra: ["ab", "bc"], merges: ["b c", "a b", "a b"])
        #expect(t.encode("abc") == [Self.a, 257])
    }

    @Test func spacesAreByteMapped() throws {
        // "Ġ" (U+0120) stands for the space byte; ids 0..<256 are the bytes themselves here.
        let t = try Self.tokenizer(extra: ["\u{120}a", "\u{120}\u{120}"], merges: ["\u{120} a", "\u{120} \u{120}"])
        #expect(t.encode(" a") == [256])
        // GPT-2 pieces: "a", " " (whitespace before a word keeps its last space), " a".
        #expect(t.encode("a  a") == [Self.a, 0x20, 256])
        #expect(try t.decode([256, 0x0A]) == " a\n")
    }

    @Test func ignoreMergesTakesWholePieces() throws {
        // "abc" is a token, but no rule builds it.
        let llama = try Self.tokenizer(extra: ["abc"], merges: [], pre: "llama-bpe")
        #expect(llama.encode("abc") == [256])
        let gpt2 = try Self.tokenizer(extra: ["abc"], merges: [], pre: "gpt-2")
        #expect(gpt2.encode("abc") == [Self.a, Self.b, Self.c])
    }

    @Test func bytesWithoutATokenAreDropped() throws {
        // llama.cpp drops a final symbol that is no token when its single bytes are no tokens either.
        var v = Self.vocabulary(extra: [], merges: [])
        v.tokens[Self.c] = "<unused-c>"
        let t = try Tokenizer(vocabulary: v)
        #expect(t.encode("abc") == [Self.a, Self.b])
    }

    @Test func multiByteCharactersSplitIntoByteTokens() throws {
        let t = try Self.tokenizer(extra: [], merges: [])
        #expect(t.encode("é") == [0xC3, 0xA9])
        #expect(try t.decode([0xC3, 0xA9]) == "é")
        #expect(try t.decode([0xE4, 0xBD, 0xA0]) == "你")
    }

    @Test func decodingNonByteMappedTokens() throws {
        let types = Array(repeating: TokenType.normal, count: 256) + [.normal, .control, .userDefined, .unused]
        let v = Self.vocabulary(extra: ["x€", "<|end|>", "€uro", "<unused>"], merges: [], types: types)
        let model = try ByteLevelBPEModel(vocabulary: v)
        func piece(_ id: Int) -> String {
            var bytes: [UInt8] = []
            model.appendBytes(of: id, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        // llama.cpp's llama_decode_text: a character outside the byte map becomes a marker.
        #expect(piece(256) == "x[UNK_BYTE_0xe282acx€]")
        #expect(piece(257) == "<|end|>")
        #expect(piece(258) == "€uro")
        #expect(piece(259) == "")
        #expect(piece(-1) == "" && piece(10_000) == "")
        #expect(try Tokenizer(vocabulary: v).decode([258, Self.a]) == "€uroa")
    }

    @Test func chunkedEncodingEqualsOnePass() throws {
        // Long inputs are encoded in chunks; any chunk size must give the ids of a single pass.
        let metadata = try GGUFFile(path: FixturePaths.url("vocab/ggml-vocab-llama-bpe.gguf").path).metadata
        let model = try ByteLevelBPEModel(vocabulary: Vocabulary(metadata: metadata))
        let text = try String(contentsOf: FixturePaths.url("vocab/ggml-vocab-llama-bpe.gguf.inp"), encoding: .utf8)
        let utf8 = Array(text.utf8)
        func ids(_ target: Int) -> [Int] {
            var out: [Int] = []
            utf8.withUnsafeBufferPointer { model.encode(utf8: $0, chunkTarget: target, into: &out) }
            return out
        }
        let whole = ids(Int.max / 4)
        #expect(!whole.isEmpty)
        for target in [1, 7, 100, 4096] { #expect(ids(target) == whole, "chunk target \(target)") }
    }

    // MARK: - Malformed data

    @Test func mergeNamingAnUnknownToken() {
        #expect(throws: TokenizerError.invalidMerge(index: 1, merge: "a zz")) {
            try Self.tokenizer(extra: ["ab"], merges: ["a b", "a zz"])
        }
    }

    @Test func mergeWhoseResultIsNoToken() {
        #expect(throws: TokenizerError.invalidMerge(index: 0, merge: "a b")) {
            try Self.tokenizer(extra: [], merges: ["a b"])
        }
    }

    @Test(arguments: ["ab", "a", "", " ", " a", "a ", "a b c"])
    func malformedMergeLine(line: String) {
        #expect(throws: TokenizerError.invalidMerge(index: 0, merge: line)) {
            try Self.tokenizer(extra: ["ab"], merges: [line])
        }
    }

    @Test func mergeOfTokensOutsideTheByteMapIsKeptOutQuietly() throws {
        // Both sides are tokens, but not byte-mapped text: the rule can never apply (llama.cpp keeps
        // it; it never matches), so it is not an error.
        let t = try Self.tokenizer(extra: ["€", "€€"], merges: ["€ €"])
        #expect(t.encode("ab") == [Self.a, Self.b])
    }

    @Test func unknownPreTokenizer() {
        #expect(throws: TokenizerError.unsupportedPreTokenizer("no-such-pre")) {
            try Self.tokenizer(extra: [], merges: [], pre: "no-such-pre")
        }
    }

    @Test func duplicateTokenText() {
        #expect(throws: TokenizerError.self) {
            try Self.tokenizer(extra: ["ab", "ab"], merges: [])
        }
        var v = Self.vocabulary(extra: ["ab", "ab"], merges: [])
        v.tokenTypes = Array(repeating: .normal, count: v.tokens.count)
        #expect(throws: TokenizerError.duplicateToken(id: 257, text: "ab")) { try ByteLevelBPEModel(vocabulary: v) }
    }

    @Test func tokenTypesOfTheWrongLength() {
        var v = Self.vocabulary(extra: [], merges: [])
        v.tokenTypes.removeLast()
        #expect(throws: TokenizerError.lengthMismatch(field: "token_type", expected: 256, actual: 255)) {
            try ByteLevelBPEModel(vocabulary: v)
        }
    }

    /// Invalid UTF-8 cannot reach the tokenizer: a Swift `String` is always valid Unicode, and the
    /// GGUF reader rejects a token whose bytes are not UTF-8 with a typed error before any
    /// `Vocabulary` exists. (llama.cpp would keep the raw bytes.)
    @Test func invalidUTF8InAGGUFTokenIsATypedError() throws {
        var gguf = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { gguf.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { gguf.append(contentsOf: $0) } }
        func string(_ bytes: [UInt8]) { u64(UInt64(bytes.count)); gguf.append(contentsOf: bytes) }
        u32(3); u64(0); u64(2)                       // version, tensors, metadata entries
        string(Array("tokenizer.ggml.model".utf8)); u32(8); string(Array("gpt2".utf8))
        string(Array("tokenizer.ggml.tokens".utf8)); u32(9); u32(8); u64(2)
        string(Array("a".utf8)); string([0x62, 0xC3])  // "b" + a lone lead byte
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-bad-utf8-\(UUID()).gguf")
        try gguf.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: url.path) }
    }
}
