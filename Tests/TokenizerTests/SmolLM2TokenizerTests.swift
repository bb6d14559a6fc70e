import Foundation
import ModelFormats
import Testing
import Tokenizer
import SparrowTestSupport

/// SmolLM2's own vocabulary (the default model's, extracted into `Fixtures/tokenizer/smollm2-vocab.gguf`)
/// against ids from llama-cpp-python (`Fixtures/tokenizer/make_smollm2_reference.py`): English, code,
/// CJK, emoji, whitespace runs, numbers, and chat-template text with and without special parsing.
@Suite("SmolLM2 tokenizer parity with llama.cpp")
struct SmolLM2TokenizerTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let add_special: Bool
            let parse_special: Bool
            let ids: [Int]
            let decoded: String
            let decoded_special: String
        }
        let llama_cpp_python: String
        let cases: [Case]
    }

    static func load() throws -> (Tokenizer, Reference) {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: FixturePaths.url("tokenizer/smollm2-vocab.gguf").path).metadata)
        let data = try Data(contentsOf: FixturePaths.url("tokenizer/smollm2-reference.json"))
        return (tokenizer, try JSONDecoder().decode(Reference.self, from: data))
    }

    @Test func encodesLikeLlamaCpp() throws {
        let (tokenizer, reference) = try Self.load()
        #expect(reference.cases.count >= 30)
        for c in reference.cases {
            let ids = tokenizer.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            #expect(ids == c.ids, """
                \(String(reflecting: c.text)) (addSpecial \(c.add_special), parseSpecial \(c.parse_special)): \
                got \(ids), llama-cpp-python \(reference.llama_cpp_python) gave \(c.ids)
                """)
        }
    }

    @Test func decodesLikeLlamaCpp() throws {
        let (tokenizer, reference) = try Self.load()
        for c in reference.cases {
            // Bytes, not `String ==`, which would accept a canonically equivalent text.
            let plain = try tokenizer.decode(c.ids, skipSpecial: true)
            #expect(Array(plain.utf8) == Array(c.decoded.utf8), "\(String(reflecting: c.text)): \(String(reflecting: plain))")
            let special = try tokenizer.decode(c.ids, skipSpecial: false)
            #expect(Array(special.utf8) == Array(c.decoded_special.utf8), "\(String(reflecting: c.text)): \(String(reflecting: special))")
        }
    }

    @Test func vocabularyFacts() throws {
        let (tokenizer, _) = try Self.load()
        #expect(tokenizer.kind == .byteLevelBPE)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(!tokenizer.addsBOS)
        #expect(tokenizer.encode("<|im_start|>", parseSpecial: true) == [1])
        #expect(tokenizer.isEndOfGeneration(2))  // <|im_end|>
    }
}
