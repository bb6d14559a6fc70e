import Foundation
import Testing
@testable import Sampling

/// Beam search against two oracles that do not share code with it: a Python transcription of
/// vLLM 0.4.x's beam search (Fixtures/sampling/make_fixtures.py) on a random logit table, and
/// brute-force enumeration of every sequence where the beam is wide enough to be exhaustive.
@Suite("Beam search")
struct BeamSearchTests {
    static func earlyStopping(_ s: String) -> EarlyStopping {
        switch s {
        case "true": .atOnce
        case "never": .never
        default: .heuristic
        }
    }

    static func tableModel(_ b: Expected.Beams, counters: TableModel.Counters = .init()) -> TableModel {
        var table: [[Int]: [Float]] = [:]
        for row in b.table { table[row.prefix] = row.logits }
        let frozen = table, vocabulary = b.vocabulary
        return TableModel(vocabularySize: vocabulary, promptLength: b.promptLength, contextLength: b.contextLength,
                          counters: counters) { frozen[$0] ?? [Float](repeating: 0, count: vocabulary) }
    }

    @Test("Beams and scores match vLLM 0.4.x's algorithm for each length penalty and early_stopping", arguments: 0 ..< 9)
    func vllmOracle(index: Int) throws {
        let fixture = try #require(Expected.shared, "Fixtures/sampling/expected.json")
        let b = fixture.beams
        let c = b.cases[index]
        let counters = TableModel.Counters()
        let model = Self.tableModel(b, counters: counters)
        let parameters = SamplingParameters(
            maxTokens: b.maxTokens, n: b.n, bestOf: b.width, temperature: 0, useBeamSearch: true,
            lengthPenalty: c.lengthPenalty, earlyStopping: Self.earlyStopping(c.earlyStopping))
        var events: [GenerationEvent] = []
        let outputs = try generate(
            model: model, promptLogits: model.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
            setup: GenerationSetup(parameters: parameters, promptTokens: Array(repeating: 7, count: b.promptLength),
                                   endTokenIDs: [b.eos], eosTokenID: b.eos)) { events.append($0) }
        let label = "length_penalty \(c.lengthPenalty), early_stopping \(c.earlyStopping)"
        #expect(outputs.map(\.tokenIDs) == c.expected.map(\.tokens), "\(label)")
        guard outputs.count == c.expected.count else { return }
        for (o, e) in zip(outputs, c.expected) {
            #expect(abs(o.cumulativeLogprob - e.cumulativeLogprob) < 1e-5, "\(label)")
            let score = beamSearchScore(cumulativeLogprob: o.cumulativeLogprob, promptLength: b.promptLength,
                                        generatedCount: o.tokenIDs.count, lengthPenalty: c.lengthPenalty)
            #expect(abs(score - e.score) < 1e-5, "\(label)")
            #expect(o.finishReason == (e.endedByEOS ? .stop : .length))
            // vLLM reports the tokenizer's eos as stop_reason None; its id stays in token_ids.
            #expect(o.stopReason == nil)
            #expect((o.tokenIDs.last == b.eos) == e.endedByEOS)
        }
        // RequestOutput.from_seq_group: index = seqs.index(seq), the beam's place in the group
        // _process_sequence_group_outputs left, not its rank.
        #expect(outputs.map(\.index) == c.expected.map(\.index), "\(label)")
        // Ranked output is reported once per choice, at the end.
        #expect(events == outputs.map { .delta(index: $0.index, text: $0.text, tokenIDs: $0.tokenIDs, logprobs: []) })
    }

    @Test("The fixture discriminates: early-stopping modes and length penalties change the answer")
    func fixtureDiscriminates() throws {
        let b = try #require(Expected.shared).beams
        func answer(_ lp: Double, _ es: String) -> [[Int]] {
            b.cases.first { $0.lengthPenalty == lp && $0.earlyStopping == es }?.expected.map(\.tokens) ?? []
        }
        for (x, y) in [("true", "false"), ("false", "never"), ("true", "never")] {
            #expect([Double(0.5), 1, 2].contains { answer($0, x) != answer($0, y) }, "\(x) vs \(y)")
        }
        for (x, y) in [(Double(0.5), Double(1)), (1, 2), (0.5, 2)] {
            #expect(["true", "false", "never"].contains { answer(x, $0) != answer(y, $0) }, "\(x) vs \(y)")
        }
    }

    // A vocabulary of EOS (0) and two words, three tokens at most, a 10-token prompt: 15 complete
    // sequences, and a beam of 8 (16 candidates a step) keeps every one of them alive.
    static let promptLength = 10
    static func smallLogits(_ prefix: [Int]) -> [Float] {
        var h: UInt64 = 0x9E37_79B9
        for t in prefix { h = (h &* 31) &+ UInt64(t) &+ 1 }
        var g = Xoshiro256StarStar(seed: h)
        return (0 ..< 3).map { _ in Float(g.nextUnitInterval() * 3 - 1) }
    }

    /// Every complete sequence: its ids (a final EOS included), cumulative log-probability, and
    /// whether EOS ended it.
    static func enumerate() -> [(tokens: [Int], cumulative: Double, eos: Bool)] {
        var all: [(tokens: [Int], cumulative: Double, eos: Bool)] = []
        func extend(_ prefix: [Int], _ cumulative: Double) {
            let lp = logSoftmax(smallLogits(prefix))
            all.append((prefix + [0], cumulative + lp[0], true))
            for t in 1 ... 2 {
                if prefix.count + 1 == 3 {
                    all.append((prefix + [t], cumulative + lp[t], false))
                } else {
                    extend(prefix + [t], cumulative + lp[t])
                }
            }
        }
        extend([], 0)
        return all
    }

    /// vLLM's two scores: the search leaves a final EOS out of seq_len, the final ranking
    /// (`RequestOutput.from_seq_group`) counts it.
    static func score(_ s: (tokens: [Int], cumulative: Double, eos: Bool), prompt: Int, _ lp: Double, countEOS: Bool) -> Double {
        beamSearchScore(cumulativeLogprob: s.cumulative, promptLength: prompt,
                        generatedCount: s.tokens.count - (s.eos && !countEOS ? 1 : 0), lengthPenalty: lp)
    }

    @Test("An exhaustive beam returns the brute-force best sequences; seq_len counts the prompt",
          arguments: [Double(0.5), 1, 2], ["true", "false", "never"])
    func bruteForce(lengthPenalty: Double, early: String) throws {
        let all = Self.enumerate()
        #expect(all.count == 15)
        // vLLM keeps the best_of (8) finished beams by the search score, then returns the best n
        // of them by the final score.
        func ranked(promptCounted: Bool) -> [[Int]] {
            let prompt = promptCounted ? Self.promptLength : 0
            let pool = all.sorted {
                Self.score($0, prompt: prompt, lengthPenalty, countEOS: false) > Self.score($1, prompt: prompt, lengthPenalty, countEOS: false)
            }.prefix(8)
            return pool.sorted {
                Self.score($0, prompt: prompt, lengthPenalty, countEOS: true) > Self.score($1, prompt: prompt, lengthPenalty, countEOS: true)
            }.prefix(3).map(\.tokens)
        }
        let model = TableModel(vocabularySize: 3, promptLength: Self.promptLength) { Self.smallLogits($0) }
        let parameters = SamplingParameters(maxTokens: 3, n: 3, bestOf: 8, temperature: 0, useBeamSearch: true,
                                            lengthPenalty: lengthPenalty, earlyStopping: Self.earlyStopping(early))
        let outputs = try generate(model: model, promptLogits: model.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
                                   setup: GenerationSetup(parameters: parameters,
                                                          promptTokens: Array(repeating: 1, count: Self.promptLength),
                                                          endTokenIDs: [0], eosTokenID: 0))
        #expect(outputs.map(\.tokenIDs) == ranked(promptCounted: true))
        for o in outputs {
            let match = all.first { $0.tokens == o.tokenIDs && $0.eos == (o.finishReason == .stop) }
            #expect(match.map { abs($0.cumulative - o.cumulativeLogprob) < 1e-5 } == true)
        }
    }

    @Test("Counting the prompt in seq_len matters on this table (the test above discriminates)")
    func promptCountingDiscriminates() {
        let all = Self.enumerate()
        func best(_ prompt: Int, _ lp: Double) -> [Int] {
            all.max {
                beamSearchScore(cumulativeLogprob: $0.cumulative, promptLength: prompt, generatedCount: $0.tokens.count, lengthPenalty: lp)
                    < beamSearchScore(cumulativeLogprob: $1.cumulative, promptLength: prompt, generatedCount: $1.tokens.count, lengthPenalty: lp)
            }?.tokens ?? []
        }
        #expect([Double(0.5), 1, 2].contains { best(Self.promptLength, $0) != best(0, $0) })
    }

    @Test("Score: cumulative / (prompt + generated) ** length_penalty")
    func score() {
        #expect(beamSearchScore(cumulativeLogprob: -2, promptLength: 3, generatedCount: 1, lengthPenalty: 1) == -0.5)
        #expect(beamSearchScore(cumulativeLogprob: -3, promptLength: 5, generatedCount: 4, lengthPenalty: 0.5) == -1)
        #expect(beamSearchScore(cumulativeLogprob: -8, promptLength: 1, generatedCount: 1, lengthPenalty: 2) == -2)
    }

    @Test("Beams fork from their parents: no more forks than children beyond the first per parent")
    func forking() throws {
        let counters = TableModel.Counters()
        let model = TableModel(vocabularySize: 3, promptLength: Self.promptLength, counters: counters) { Self.smallLogits($0) }
        _ = try generate(model: model, promptLogits: model.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
                         setup: GenerationSetup(parameters: SamplingParameters(maxTokens: 3, n: 1, bestOf: 8, temperature: 0, useBeamSearch: true),
                                                promptTokens: [], endTokenIDs: [0]))
        // Step 1: 2 running children of one parent (1 fork); step 2: 4 running children of 2
        // parents (2 forks); step 3 ends every beam (no decode). Decodes: 2 + 4.
        #expect(counters.forks == 3)
        #expect(counters.decodes == 6)
    }
}
