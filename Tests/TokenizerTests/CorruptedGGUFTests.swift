import Foundation
import ModelFormats
import Testing
@testable import Tokenizer
import SparrowTestSupport

/// Loading corrupted model files the way a model load does (GGUF header, then the tokenizer from its
/// metadata): every copy ends in success or a typed error. A trap would end the test process, so
/// finishing is the first half of the check; the counts are the second.
@Suite("Corrupted GGUF headers and in-memory tokenizer.json")
struct CorruptedGGUFTests {
    /// SplitMix64: the same corruptions on every run and machine.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Outcome: Equatable {
        case loaded(tokens: Int)
        case ggufError
        case tokenizerError
    }

    /// Opens `bytes` as a GGUF file and builds its tokenizer, as `LoadedModel` does.
    static func load(_ bytes: [UInt8]) -> Outcome {
        let file: GGUFFile
        do { file = try GGUFFile(file: MappedFile(copying: bytes, name: "corrupt.gguf")) } catch { return .ggufError }
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(gguf: file.metadata) } catch { return .tokenizerError }
        let ids = tokenizer.encode("Hello world, 123!", addSpecial: true)
        _ = try? tokenizer.decode(ids)
        return .loaded(tokens: ids.count)
    }

    @Test("500 randomly corrupted copies of a GGUF header load or fail with GGUFError / TokenizerError")
    func corruptedHeaders() throws {
        let original = [UInt8](try Data(contentsOf: FixturePaths.url("transformer/llama-q8_0.gguf")))
        let intact = Self.load(original)
        guard case .loaded = intact else {
            Issue.record("the intact file does not load: \(intact)")
            return
        }
        // The header (metadata with the 384-token vocabulary, 21 tensor infos) is the first ~10 KB.
        let headerEnd = 10_240
        var rng = SplitMix64(state: 9)
        var truncations = 0, truncationErrors = 0, flips: [Outcome] = []
        for _ in 0 ..< 500 {
            var bytes = original
            if Bool.random(using: &rng) && Int.random(in: 0 ..< 4, using: &rng) == 0 {
                // Cut inside the header: the tensor data then cannot fit, whatever else survives.
                bytes.removeSubrange(Int.random(in: 0 ..< headerEnd, using: &rng)...)
                truncations += 1
                if Self.load(bytes) != intact { truncationErrors += 1 }
                continue
            }
            for _ in 0 ..< Int.random(in: 1 ... 8, using: &rng) {
                let at = Int.random(in: 0 ..< headerEnd, using: &rng)
                bytes[at] = Bool.random(using: &rng) ? UInt8.random(in: 0 ... 255, using: &rng) : bytes[at] ^ (1 << UInt8.random(in: 0 ... 7, using: &rng))
            }
            flips.append(Self.load(bytes))
        }
        #expect(truncations > 30)
        #expect(truncationErrors == truncations)
        #expect(flips.count + truncations == 500)
        // Flips in token texts or scores still load; flips in lengths, counts and types do not.
        #expect(flips.contains { if case .loaded = $0 { true } else { false } })
        #expect(flips.contains(.ggufError))
    }

    @Test("tokenizer.json from bytes equals loading the directory")
    func tokenizerFromBytes() throws {
        for dir in ["gpt2-small", "spm-tiny"] {
            let url = FixturePaths.url("tokenizer/\(dir)")
            let fromDirectory = try Tokenizer(huggingFaceDirectory: url.path)
            let fromBytes = try Tokenizer(huggingFaceJSON: [UInt8](Data(contentsOf: url.appendingPathComponent("tokenizer.json"))),
                                          config: [UInt8](Data(contentsOf: url.appendingPathComponent("tokenizer_config.json"))))
            #expect(fromBytes.vocabularySize == fromDirectory.vocabularySize)
            for text in ["Hello world", "  spaces\tand\nlines ", "numbers 12345 and ünïcödé 🙂", "<s> special </s>"] {
                #expect(fromBytes.encode(text, addSpecial: true, parseSpecial: true)
                            == fromDirectory.encode(text, addSpecial: true, parseSpecial: true), "\(dir): \(text)")
            }
        }
        #expect(throws: TokenizerError.unreadableFile(path: "tokenizer.json", reason: "the top level is not a JSON object")) {
            try Tokenizer(huggingFaceJSON: Array("[1, 2]".utf8))
        }
        #expect(throws: TokenizerError.self) { try Tokenizer(huggingFaceJSON: Array(String(repeating: "[", count: 100_000).utf8)) }
    }
}
