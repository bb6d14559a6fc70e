import Foundation
import ModelFormats
import Sampling
import Tensor
import Testing
import Tokenizer
@testable import GenerateAPI
import SparrowTestSupport

/// The mask against real tokenizers: strings of the grammar's language, tokenized as the model's
/// tokenizer would, must have every token allowed at its step — the mask never removes the only
/// valid continuation — and the grammar must end where the string does.
@Suite("Masks with real vocabularies")
struct GrammarMaskTokenizerTests {
    static let grammars: [(String, @Sendable () throws -> CompiledGrammar)] = [
        ("json_object", { try JSONSchemaGrammar.anyObject() }),
        ("schema", {
            try JSONSchemaGrammar.compile(JSONNode.parse("""
                {"type":"object","properties":{"name":{"type":"string","maxLength":12},"tags":{"type":"array",
                "items":{"enum":["a","é😀",7,null]},"maxItems":3},"n":{"type":"number"},
                "sub":{"anyOf":[{"type":"boolean"},{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}]}},
                "required":["name"]}
                """))
        }),
        ("gbnf", { try CompiledGrammar(gbnf: #"root ::= ([^\n]{1,8} "\n")+ [\u0400-\u04FF\U0001F300-\U0001F5FF]+"#) }),
        ("regex", { try RegexGrammar.compile(#"(\w+|[€£¥]\d{1,3})( \w+)*[.!?]"#) }),
    ]

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(path: FixturePaths.url("vocab/ggml-vocab-\(name).gguf").path).metadata)
    }

    @Test("Random strings of each grammar, re-tokenized by llama-bpe (128k) and gpt-2: every token allowed", arguments: ["llama-bpe", "gpt-2"])
    func randomWalks(vocabularyName: String) throws {
        let tokenizer = try Self.tokenizer(vocabularyName)
        let vocabulary = LoadedModel.vocabulary(of: tokenizer)
        let eos = try #require(tokenizer.eosID)
        var rng = Xoshiro256StarStar(seed: 23)
        for (name, make) in Self.grammars {
            let grammar = try make()
            let walker = GrammarWalker(grammar)
            let masker = try TokenMasker(grammar: grammar, vocabulary: vocabulary, endTokens: [eos])
            for _ in 0 ..< 25 {
                let text = walker.randomString(&rng)
                #expect(masker.matches(text), "\(name): the walk produced \(text.debugDescription)")
                let ids = tokenizer.encode(text)
                #expect(try tokenizer.decodeBytes(ids) == Array(text.utf8), "\(name): \(text.debugDescription) does not round-trip")
                var state = masker.initial
                for (step, id) in ids.enumerated() {
                    let allowed = Set(masker.allowedTokens(state))
                    #expect(allowed.contains(id), "\(name) \(vocabularyName): token \(id) at step \(step) of \(text.debugDescription) masked")
                    state = masker.advance(state, token: id)
                }
                #expect(Set(masker.allowedTokens(state)).contains(eos), "\(name): end not allowed after \(text.debugDescription)")
            }
        }
    }

    @Test("Control tokens are never allowed; byte-level and SentencePiece tokens map to their real bytes")
    func vocabularyBytes() throws {
        let bpe = try Self.tokenizer("llama-bpe")
        let v = LoadedModel.vocabulary(of: bpe)
        let space = bpe.encode(" hello")
        #expect(space.count == 1)
        #expect(v.tokenBytes[space[0]] == Array(" hello".utf8))  // "Ġhello"
        let eot = bpe.encode("<|eot_id|>", parseSpecial: true)
        #expect(eot.count == 1 && v.tokenBytes[eot[0]].isEmpty)
        let spm = try Self.tokenizer("llama-spm")
        let sv = LoadedModel.vocabulary(of: spm)
        let hello = spm.encode("hello world")
        #expect(hello.flatMap { sv.tokenBytes[$0] } == Array(" hello world".utf8))  // "▁hello▁world", the prefix space included
        let byteToken = try #require((0 ..< spm.vocabularySize).first { spm.tokenText($0) == "<0xE2>" })
        #expect(sv.tokenBytes[byteToken] == [0xE2])
        #expect(sv.tokenBytes[try #require(spm.bosID)].isEmpty)
    }
}
