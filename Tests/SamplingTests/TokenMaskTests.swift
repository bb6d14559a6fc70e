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

    /// The tokens allowed after `state` of the independent recognizer `m`, one token at a time.
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

    static let grammars: [@Sendable () throws -> CompiledGrammar] = [
        { try JSONSchemaGrammar.anyObject() },
        { try JSONSchemaGrammar.compile(JSONNode.parse(#"{"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}},"b":{"enum":["é😀","x"]}},"required":["b"]}"#)) },
        { try CompiledGrammar(gbnf: #"root ::= [^"\\]* "\"" ("é" | "😀")+"#) },
    ]

    /// A masker keeping its masks in the form `choice`.
    static func masker(_ grammar: CompiledGrammar, _ vocab: [[UInt8]?], ends: [Int], choice: TokenMask.Choice) throws -> TokenMasker {
        TokenMasker(recognizer: try GrammarRecognizer(grammar: grammar), vocabulary: TokenVocabulary(tokens: vocab),
                    endTokens: ends, account: nil, maskChoice: choice)
    }

    @Test("Every mask form allows exactly the tokens a per-token check allows, in every state a random walk reaches",
          arguments: TokenMask.Choice.allCases)
    func matchesBruteForce(choice: TokenMask.Choice) throws {
        for (g, make) in Self.grammars.enumerated() {
            let grammar = try make()
            let vocab = Self.vocabulary(seed: UInt64(g + 1), size: 400)
            let ends = [0]
            // The reference: a recognizer of its own, advanced along the same tokens.
            let reference = try GrammarRecognizer(grammar: grammar)
            let masker = try Self.masker(grammar, vocab, ends: ends, choice: choice)
            var rng = Xoshiro256StarStar(seed: 99)
            for _ in 0 ..< 20 {
                var state = masker.initial, expectedState = reference.initial
                for _ in 0 ..< 30 {
                    let allowed = masker.allowedTokens(state)
                    #expect(allowed == Self.bruteForce(reference, vocab, state: expectedState, ends: ends))
                    let form = masker.mask(state).form
                    switch (choice, form) {
                    case (.allowed, .allowed), (.rejected, .rejected), (.bits, .bits), (.smallest, _): break
                    default: Issue.record("\(choice) kept as \(form)")
                    }
                    var logits = (0 ..< vocab.count).map { Float($0) }
                    #expect(try masker.apply(state, to: &logits) == !allowed.isEmpty)
                    #expect(logits.indices.filter { logits[$0] != -.infinity } == allowed)
                    let choices = allowed.filter { !ends.contains($0) }
                    guard !choices.isEmpty else { break }
                    let token = choices[Int(rng.next() % UInt64(choices.count))]
                    state = masker.advance(state, token: token)
                    expectedState = reference.advance(expectedState, bytes: vocab[token] ?? [])
                    #expect(!state.isDead)
                }
            }
        }
    }

    @Test("The smallest form: listed ids when few are allowed or few rejected, else bits")
    func smallestForm() {
        let size = 1000
        func words(_ allowed: [Int]) -> [UInt64] {
            var w = [UInt64](repeating: 0, count: (size + 63) / 64)
            for id in allowed { w[id >> 6] |= 1 << UInt64(id & 63) }
            return w
        }
        let few = [3, 64, 999]
        #expect(TokenMask(words: words(few), allowedCount: 3, size: size).form == .allowed([3, 64, 999]))
        let most = Array(0 ..< size).filter { !few.contains($0) }
        #expect(TokenMask(words: words(most), allowedCount: most.count, size: size).form == .rejected([3, 64, 999]))
        let half = Array(stride(from: 0, to: size, by: 2))
        let mask = TokenMask(words: words(half), allowedCount: half.count, size: size)
        #expect(mask.form == .bits(words(half)))
        #expect(mask.allowedTokens() == half)
        for choice in TokenMask.Choice.allCases {
            for list in [few, most, half, [], Array(0 ..< size)] {
                let m = TokenMask(words: words(list), allowedCount: list.count, size: size, choice: choice)
                #expect(m.allowedTokens() == list)
                // Extra logits past the vocabulary are masked too.
                var logits = [Float](repeating: 1, count: size + 5)
                m.apply(to: &logits)
                #expect(logits.indices.filter { logits[$0] == 1 } == list)
            }
        }
    }

    @Test("Logits outside the mask become -inf; end tokens only where the grammar may end")
    func applyMask() throws {
        let vocab: [[UInt8]?] = [nil, Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("ab".utf8), Array("x".utf8)]
        let masker = try TokenMasker(grammar: ChoiceGrammar.compile(["ab", "abc"]), vocabulary: TokenVocabulary(tokens: vocab), endTokens: [0])
        var logits: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(try masker.apply(masker.initial, to: &logits))
        let ninf = -Float.infinity
        let expected: [Float] = [ninf, 2, ninf, ninf, 5, ninf]
        #expect(logits == expected)
        let afterAB = masker.advance(masker.initial, token: 4)
        #expect(masker.allowedTokens(afterAB) == [0, 3])  // end, or "c"
        let afterABC = masker.advance(afterAB, token: 3)
        #expect(masker.isComplete(afterABC))
        #expect(masker.allowedTokens(afterABC) == [0])
    }
}
