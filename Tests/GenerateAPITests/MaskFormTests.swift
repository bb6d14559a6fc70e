import Foundation
import Tensor
import Testing
import Tokenizer
@testable import GenerateAPI
@testable import Sampling
import SparrowTestSupport

/// The three forms a mask is kept in (allowed ids, rejected ids, bits) against a per-token check of
/// the whole vocabulary, in the states that strings of the grammar reach when the model's tokenizer
/// cuts them: Llama-3's 128k vocabulary (a fixture), and SmolLM2's when `SPARROW_SMOLLM2` names
/// its GGUF file.
@Suite("Mask forms on real vocabularies")
struct MaskFormTests {
    static let grammars: [(String, @Sendable () throws -> CompiledGrammar)] = [
        ("movie schema", {
            try JSONSchemaGrammar.compile(JSONNode.parse("""
                {"type":"object","properties":{"title":{"type":"string","maxLength":40},"year":{"type":"integer"},
                "genres":{"type":"array","items":{"enum":["drama","comedy","sci-fi"]},"maxItems":3},
                "rating":{"type":"number"}},"required":["title","year"]}
                """))
        }),
        ("json_object", { try JSONSchemaGrammar.anyObject() }),
    ]

    /// Walks `strings` random strings of each grammar through `tokenizer`'s tokens, checking every
    /// form's mask at up to `steps` tokens of each; returns the bytes the masks took in the smallest
    /// form and as bits.
    static func check(_ tokenizer: Tokenizer, strings: Int, steps: Int) throws -> (smallest: Int, bits: Int) {
        let vocabulary = LoadedModel.vocabulary(of: tokenizer)
        let tokens = vocabulary.tokenBytes.map { Optional($0) }
        let eos = try #require(tokenizer.eosID)
        var rng = Xoshiro256StarStar(seed: 7)
        var smallestBytes = 0, bitBytes = 0
        for (name, make) in grammars {
            let grammar = try make()
            let reference = try GrammarRecognizer(grammar: grammar)
            let maskers = try TokenMask.Choice.allCases.map {
                TokenMasker(recognizer: try GrammarRecognizer(grammar: grammar), vocabulary: vocabulary, endTokens: [eos],
                            account: nil, maskChoice: $0)
            }
            let walker = GrammarWalker(grammar)
            for _ in 0 ..< strings {
                let ids = tokenizer.encode(walker.randomString(&rng))
                var expected = reference.initial
                var states = maskers.map(\.initial)
                for id in ids.prefix(steps) {
                    let truth = TokenMaskTestsReference.bruteForce(reference, tokens, state: expected, ends: [eos])
                    for (masker, state) in zip(maskers, states) {
                        let allowed = masker.allowedTokens(state)
                        #expect(allowed == truth, "\(name): \(masker.maskChoice) differs after \(ids.prefix(5))")
                    }
                    smallestBytes += maskers[0].mask(states[0]).bytes
                    bitBytes += maskers[3].mask(states[3]).bytes
                    #expect(truth.contains(id))
                    expected = reference.advance(expected, bytes: vocabulary.tokenBytes[id])
                    states = zip(maskers, states).map { $0.advance($1, token: id) }
                }
            }
        }
        return (smallestBytes, bitBytes)
    }

    @Test("Llama-3's vocabulary (128k): every form equals the per-token check; the smallest form is far smaller")
    func llama3() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: FixturePaths.url("vocab/ggml-vocab-llama-bpe.gguf").path).metadata)
        let bytes = try Self.check(tokenizer, strings: 3, steps: 8)
        #expect(bytes.smallest * 2 < bytes.bits, "smallest \(bytes.smallest) bytes, bits \(bytes.bits)")
        print("llama-bpe masks: smallest form \(bytes.smallest) bytes, bits \(bytes.bits) bytes")
    }

    @Test("SmolLM2's vocabulary: every form equals the per-token check (needs SPARROW_SMOLLM2)",
          .enabled(if: ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"] != nil))
    func smolLM2() throws {
        let path = try #require(ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"])
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path).metadata)
        let bytes = try Self.check(tokenizer, strings: 6, steps: 12)
        #expect(bytes.smallest * 2 < bytes.bits, "smallest \(bytes.smallest) bytes, bits \(bytes.bits)")
        print("SmolLM2 masks: smallest form \(bytes.smallest) bytes, bits \(bytes.bits) bytes")
    }
}

/// The per-token check: each token's bytes through a recognizer of its own.
enum TokenMaskTestsReference {
    static func bruteForce(_ m: GrammarRecognizer, _ vocab: [[UInt8]?], state: GrammarState, ends: [Int]) -> [Int] {
        var out: [Int] = []
        for (id, bytes) in vocab.enumerated() {
            if ends.contains(id) {
                if m.canEnd(state) { out.append(id) }
                continue
            }
            guard let bytes, !bytes.isEmpty else { continue }
            if !m.advance(state, bytes: bytes).isDead { out.append(id) }
        }
        return out
    }
}
