import Foundation
import Testing
@testable import Sampling

/// The prefix-tree walk against a brute-force check of every token on its own, on small
/// vocabularies with multi-byte characters split between tokens.
@Suite("Token masks")
struct TokenMaskTests {
    /// A vocabulary of ASCII pieces, whole and split multi-byte characters, duplicates, and empty
    /// (control) tokens.
    static func vocabulary(seed: UInt64, size: Int) -> [[UInt8]?] {
        var rng = Xoshiro256StarStar(seed: seed)
        let alphabet: [String] = ["{", "}", "[", "]", "\"", ":", ",", " ", "\n", "a", "b", "1", "0", "-", ".", "e",
                                  "true", "null", "é", "😀", "\\", "n", "u", "x"]
        var tokens: [[UInt8]?] = [nil, []]  // a control token and an empty one
        while tokens.count < size {
            let parts = 1 + Int(rng.next() % 3)
            var bytes: [UInt8] = []
            for _ in 0 ..< parts { bytes += Array(alphabet[Int(rng.next() % UInt64(alphabet.count))].utf8) }
            // Sometimes cut inside a character, so tokens carry partial UTF-8.
            if rng.next() % 4 == 0, bytes.count > 1 { bytes = Array(bytes[Int(rng.next() % UInt64(bytes.count))...]) }
            tokens.append(bytes)
        }
        tokens.append(tokens[5])  // a duplicate byte string
        return tokens
    }

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

    @Test("The walk allows exactly the tokens a per-token check allows, in every state a random walk reaches")
    func matchesBruteForce() throws {
        let grammars = [
            try JSONSchemaGrammar.anyObject(),
            try JSONSchemaGrammar.compile(JSONNode.parse(#"{"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}},"b":{"enum":["é😀","x"]}},"required":["b"]}"#)),
            try CompiledGrammar(gbnf: #"root ::= [^"\\]* "\"" ("é" | "😀")+"#),
        ]
        for (g, grammar) in grammars.enumerated() {
            let vocab = Self.vocabulary(seed: UInt64(g + 1), size: 400)
            let ends = [0]
            let m = try GrammarRecognizer(grammar: grammar)
            let masker = TokenMasker(recognizer: m, vocabulary: TokenVocabulary(tokens: vocab), endTokens: ends)
            var rng = Xoshiro256StarStar(seed: 99)
            for _ in 0 ..< 20 {
                var state = m.initial
                for _ in 0 ..< 30 {
                    let allowed = masker.allowedTokens(state)
                    #expect(allowed == Self.bruteForce(m, vocab, state: state, ends: ends))
                    let choices = allowed.filter { !ends.contains($0) }
                    guard !choices.isEmpty else { break }
                    state = masker.advance(state, token: choices[Int(rng.next() % UInt64(choices.count))])
                    #expect(!state.isDead)
                }
            }
        }
    }

    @Test("Logits outside the mask become -inf; end tokens only where the grammar may end")
    func applyMask() throws {
        let m = try GrammarRecognizer(grammar: ChoiceGrammar.compile(["ab", "abc"]))
        let vocab: [[UInt8]?] = [nil, Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("ab".utf8), Array("x".utf8)]
        let masker = TokenMasker(recognizer: m, vocabulary: TokenVocabulary(tokens: vocab), endTokens: [0])
        var logits: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(try masker.apply(m.initial, to: &logits))
        let ninf = -Float.infinity
        let expected: [Float] = [ninf, 2, ninf, ninf, 5, ninf]
        #expect(logits == expected)
        let afterAB = masker.advance(m.initial, token: 4)
        #expect(masker.allowedTokens(afterAB) == [0, 3])  // end, or "c"
        let afterABC = masker.advance(afterAB, token: 3)
        #expect(m.isComplete(afterABC))
        #expect(masker.allowedTokens(afterABC) == [0])
    }
}
