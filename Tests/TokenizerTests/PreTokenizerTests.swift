import Foundation
import Testing
@testable import Tokenizer
import SparrowTestSupport

/// The hand-written pre-tokenizers against reference splits made with Python's `regex` module
/// (`Fixtures/tokenizer/make_pretokenizer_splits.py` → `pretokenizer-splits.json`). The expected
/// pieces are llama.cpp's; where llama.cpp deliberately differs from the original regex the JSON
/// also holds the regex's own split ("reference"), and the tests below pin each kind of difference.
@Suite("Pre-tokenizers")
struct PreTokenizerTests {
    struct SplitFile: Decodable {
        struct Family: Decodable {
            struct Case: Decodable {
                let pieces: [String]
                let reference: [String]?
            }
            let cases: [Case]
        }
        let texts: [String]
        let families: [String: Family]
    }

    static let splits: SplitFile? = {
        guard let data = try? Data(contentsOf: FixturePaths.url("tokenizer/pretokenizer-splits.json")) else { return nil }
        return try? JSONDecoder().decode(SplitFile.self, from: data)
    }()

    /// Pieces as UTF-8 bytes: Swift's `String ==` would call canonically equivalent pieces equal.
    static func bytes(_ pieces: [String]) -> [[UInt8]] { pieces.map { Array($0.utf8) } }

    @Test(arguments: ["gpt2", "llama3", "qwen2", "starcoder", "default", "falcon", "deepseek-llm", "deepseek-coder"])
    func matchesReferenceSplits(family: String) throws {
        let file = try #require(Self.splits, "pretokenizer-splits.json missing or unreadable")
        let cases = try #require(file.families[family]?.cases)
        #expect(cases.count == file.texts.count)
        let pre = try PreTokenizer(name: family)
        for (text, c) in zip(file.texts, cases) {
            let pieces = pre.split(text)
            #expect(Self.bytes(pieces) == Self.bytes(c.pieces), "\(family) \(String(reflecting: text)): \(pieces)")
        }
    }

    @Test func differencesFromTheOriginalRegexesAreTheDocumentedOnes() throws {
        let file = try #require(Self.splits)
        for (family, f) in file.families {
            for (text, c) in zip(file.texts, f.cases) where c.reference != nil {
                // 1. ASCII-only case folding of contractions, 2. Unicode 16 characters unknown to
                // llama.cpp's 15.1 tables, 3. non-ASCII whitespace outside DeepSeek's literal classes.
                let explained = text.unicodeScalars.contains {
                    $0.value == 0x17F || [0x1C89, 0x0897, 0x11380].contains($0.value)
                        || (family.hasPrefix("deepseek") && $0.properties.isWhitespace && $0.value > 0x7F)
                }
                #expect(explained, "\(family) differs from its regex on \(String(reflecting: text))")
            }
        }
    }

    @Test func contractionsFoldASCIIOnly() throws {
        let llama3 = try PreTokenizer(name: "llama-bpe")
        #expect(llama3.split("we'LL they'Re") == ["we", "'LL", " they", "'Re"])
        // Python's regex folds U+017F to "s" and splits "'ſ" + "t"; llama.cpp does not.
        #expect(llama3.split("x'\u{17F}t") == ["x", "'\u{17F}t"])
        // GPT-2's contractions are case-sensitive.
        #expect(try PreTokenizer(name: "gpt-2").split("we'LL") == ["we", "'", "LL"])
    }

    @Test func unicode16CharactersAreUndefined() throws {
        // U+1C89 is a letter since Unicode 16.0; llama.cpp's tables (15.1) give it no category.
        #expect(CharClass.compute(0x1C89) == CharClass.undefined)
        #expect(CharClass.compute(0x1C88) == CharClass.letter)
        #expect(try PreTokenizer(name: "llama-bpe").split("a\u{1C89}b") == ["a", "\u{1C89}b"])
        #expect(try PreTokenizer(name: "gpt-2").split("a\u{1C89}b") == ["a", "\u{1C89}", "b"])
    }

    @Test func whitespaceAndCategories() {
        #expect(CharClass.compute(0x20) == CharClass.separator | CharClass.whitespace)
        #expect(CharClass.compute(0x85) == CharClass.control | CharClass.whitespace)
        #expect(CharClass.compute(0x3000) == CharClass.separator | CharClass.whitespace)
        #expect(CharClass.compute(0x1C) == CharClass.control)  // no \s, unlike str.isspace
        #expect(CharClass.compute(0x200B) == CharClass.control)  // ZWSP is Cf, not whitespace
        #expect(CharClass.compute(0x378) == CharClass.undefined)
        #expect(CharClass.compute(0x2460) == CharClass.number)
        #expect(CharClass.compute(0x301) == CharClass.mark)
        #expect(CharClass.compute(0xD800) == CharClass.control)  // surrogate code point
    }

    @Test func familiesAndAliases() throws {
        #expect(try PreTokenizer(name: "").family == .default)
        #expect(try PreTokenizer(name: "default").family == .default)
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"] {
            let p = try PreTokenizer(name: name)
            #expect(p.family == .llama3 && p.ignoresMerges, "\(name)")
        }
        #expect(try !PreTokenizer(name: "dbrx").ignoresMerges)
        for name in ["smollm", "starcoder", "refact", "command-r", "codeshell"] {
            #expect(try PreTokenizer(name: name).family == .starcoder, "\(name)")
        }
        for name in ["gpt-2", "mpt", "olmo", "phi-2"] { #expect(try PreTokenizer(name: name).family == .gpt2) }
        for name in ["qwen2", "stablelm2", "megrez"] { #expect(try PreTokenizer(name: name).family == .qwen2) }
        #expect(try PreTokenizer(name: "falcon").family == .falcon)
        #expect(try PreTokenizer(name: "deepseek-llm").family == .deepseekLLM)
        #expect(PreTokenizer.supportedNames.contains("smollm"))
    }

    @Test func unknownNameIsATypedError() {
        #expect(throws: TokenizerError.unsupportedPreTokenizer("no-such-pre")) {
            try PreTokenizer(name: "no-such-pre")
        }
    }

    @Test func chunkCutsDoNotChangePieces() throws {
        // Encoding cuts long texts before a space between ASCII letters; with a tiny target every
        // such space becomes a cut, right next to every tricky text of the reference file.
        let file = try #require(Self.splits)
        let text = file.texts.joined(separator: "a b") + " don't do it x 's y 'S z\n w  v\t\tu \u{3000}t "
        let utf8 = Array(text.utf8)
        for family in PreTokenizer.Family.allCases {
            let pre = try PreTokenizer(name: family.rawValue)
            var chunked: [String] = []
            var cuts = 0
            utf8.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < buffer.count {
                    let end = PreTokenizer.chunkEnd(buffer, from: start, target: 1)
                    chunked += pre.split(String(decoding: buffer[start ..< end], as: UTF8.self))
                    start = end
                    cuts += 1
                }
            }
            #expect(cuts > 40)
            #expect(Self.bytes(chunked) == Self.bytes(pre.split(text)), "\(family)")
        }
    }

    @Test func piecesCoverTheTextAndLongInputIsLinear() throws {
        // A long run of one class and long whitespace runs: pieces concatenate back to the text.
        let text = String(repeating: "a", count: 50_000) + String(repeating: " ", count: 50_000) + "x"
            + String(repeating: "7", count: 10_000) + String(repeating: "\n", count: 1_000)
        for family in PreTokenizer.Family.allCases {
            let pieces = try PreTokenizer(name: family.rawValue).split(text)
            #expect(pieces.joined().utf8.elementsEqual(text.utf8), "\(family)")
        }
        #expect(try PreTokenizer(name: "llama3").split("1234567") == ["123", "456", "7"])
        #expect(try PreTokenizer(name: "qwen2").split("123") == ["1", "2", "3"])
        #expect(try PreTokenizer(name: "default").split("1234567") == ["123", "456", "7"])
        #expect(try PreTokenizer(name: "falcon").split("a 1234567") == ["a", " ", "123", "456", "7"])
    }
}
