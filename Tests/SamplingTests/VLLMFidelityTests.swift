import Foundation
import Testing
@testable import Sampling

/// The response details of vLLM 0.4.x (issue 24), each test on a toy model whose every
/// distribution is known, with the expected values worked out from the vLLM function it names.
@Suite("vLLM 0.4 fidelity")
struct VLLMFidelityTests {
    static func run(_ parameters: SamplingParameters, end: Set<Int> = [], eos: Int? = nil) throws -> GenerationTests.Run {
        let model = GenerationTests.scripted(GenerationTests.script)
        var events: [GenerationEvent] = []
        let setup = try GenerationSetup(parameters: parameters, promptTokens: [9, 9, 9, 9], endTokenIDs: end, eosTokenID: eos)
        let outputs = try generate(model: model, promptLogits: model.promptLogits, detokenizer: GenerationTests.pieces,
                                   setup: setup) { events.append($0) }
        return GenerationTests.Run(outputs: outputs, events: events, model: model)
    }

    // MARK: 1. End tokens (StopChecker.maybe_stop_sequence, RequestOutput.from_seq_group)

    @Test("StopChecker.maybe_stop_sequence: the tokenizer's eos stays in token_ids with stop_reason None")
    func eosStaysInTokenIDs() throws {
        // The script chooses 1 2 3 4 5: "Hel" "lo" " wor" "ld", then 5, the eos.
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, logprobs: 0), end: [5], eos: 5)
        let o = r.outputs[0]
        #expect(o.tokenIDs == [1, 2, 3, 4, 5])
        #expect(o.text == "Hello world")
        #expect(o.finishReason == .stop)
        #expect(o.stopReason == nil)
        // vLLM's cumulative_logprob sums all five tokens: 5 × (5 − ln(e⁵ + 7)).
        #expect(abs(o.cumulativeLogprob - 5 * (5 - Foundation.log(Foundation.exp(5.0) + 7))) < 1e-5)
        #expect(o.logprobs?.count == 5)
        let streamed = GenerationTests.streamed(r.events)
        #expect(streamed.ids == [1, 2, 3, 4, 5] && streamed.text == "Hello world")
    }

    @Test("StopChecker.maybe_stop_sequence: a generation-config end id or stop_token_ids hit stays in token_ids, stop_reason the id")
    func stopTokenStaysInTokenIDs() throws {
        // 5 is an end id that is not the tokenizer's eos (2 here): vLLM gets it as a stop token id
        // from the generation config (update_from_generation_config), so stop_reason is 5.
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0), end: [2, 5], eos: 2)
        // The eos 2 is chosen second here, so it ends the sequence first.
        #expect(r.outputs[0].tokenIDs == [1, 2] && r.outputs[0].text == "Hel" && r.outputs[0].stopReason == nil)
        let q = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0), end: [0, 5], eos: 0)
        #expect(q.outputs[0].tokenIDs == [1, 2, 3, 4, 5] && q.outputs[0].text == "Hello world")
        #expect(q.outputs[0].finishReason == .stop && q.outputs[0].stopReason == .endToken(5))
        // A request's stop_token_ids: the same, reported by id.
        let s = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stopTokenIDs: [4]), end: [0], eos: 0)
        #expect(s.outputs[0].tokenIDs == [1, 2, 3, 4] && s.outputs[0].text == "Hello wor")
        #expect(s.outputs[0].stopReason == .stopTokenID(4))
    }

    @Test("ignore_eos (SamplingParams.ignore_eos): the eos is kept, not rendered, and generation goes on")
    func ignoreEOSKeepsGoing() throws {
        let r = try Self.run(SamplingParameters(maxTokens: 7, temperature: 0, ignoreEOS: true), end: [5], eos: 5)
        #expect(r.outputs[0].tokenIDs == [1, 2, 3, 4, 5, 7, 6])
        #expect(r.outputs[0].text == "Hello worldo?")
        #expect(r.outputs[0].finishReason == .length && r.outputs[0].stopReason == nil)
    }

    // MARK: 2. Stop strings in list order (StopChecker._check_stop_strings)

    @Test("StopChecker._check_stop_strings: the first string of the list that matches wins, not the earliest match")
    func stopStringsInListOrder() throws {
        // Token 3 (" wor") completes both "w" (at byte 5) and "r" (at byte 8) of "Hello wor".
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["r", "w"]))
        #expect(r.outputs[0].text == "Hello wo")
        #expect(r.outputs[0].stopReason == .stopString("r"))
        #expect(r.outputs[0].tokenIDs == [1, 2, 3])
        #expect(GenerationTests.streamed(r.events).text == "Hello wo")
        let q = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["w", "r"]))
        #expect(q.outputs[0].text == "Hello " && q.outputs[0].stopReason == .stopString("w"))
    }

    @Test("StopChecker._check_stop_strings: an empty stop string matches the new text at once (Python's find(\"\"))")
    func emptyStopString() throws {
        // "xyz" never matches; "" matches where the first token's text begins, so the text is cut
        // to nothing and the first token ends the sequence.
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["xyz", ""]))
        #expect(r.outputs[0].text == "")
        #expect(r.outputs[0].tokenIDs == [1])
        #expect(r.outputs[0].finishReason == .stop && r.outputs[0].stopReason == .stopString(""))
        // A string earlier in the list that matches in the same text wins over "".
        let q = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["el", ""]))
        #expect(q.outputs[0].text == "H" && q.outputs[0].stopReason == .stopString("el"))
    }

    // MARK: 3. Sorted candidates (RequestOutput.from_seq_group)

    @Test("RequestOutput.from_seq_group: with best_of == n the candidates come back sorted by cumulative logprob")
    func candidatesSortedWhenBestOfIsN() throws {
        let p = SamplingParameters(maxTokens: 6, n: 4, temperature: 1.2, seed: 77)
        let (outputs, events) = try GenerationTests.sample(p, listen: true)
        // The reference: every candidate's cumulative logprob from the model's table.
        let model = GenerationTests.noisy()
        var totals: [Int: Double] = [:]
        for o in outputs {
            var prefix: [Int] = [], total = 0.0
            for t in o.tokenIDs {
                total += logSoftmax(model.logitsAfter(prefix).map { $0 / 1.2 })[t]
                prefix.append(t)
            }
            #expect(abs(total - o.cumulativeLogprob) < 1e-4)
            totals[o.index] = total
        }
        let expectedOrder = totals.keys.sorted { totals[$0]! > totals[$1]! }
        #expect(outputs.map(\.index) == expectedOrder)
        // The order differs from candidate order on this seed, so the sort is what is tested.
        #expect(expectedOrder != [0, 1, 2, 3])
        // Each choice keeps the index its text streamed under.
        for o in outputs {
            let s = GenerationTests.streamed(events, index: o.index)
            #expect(s.text == o.text && s.ids == o.tokenIDs)
        }
    }

    // MARK: 4. Beam search's final ranking (RequestOutput.from_seq_group)

    @Test("RequestOutput.from_seq_group: the final ranking counts the eos in the length, the search does not")
    func beamFinalRankingCountsEOS() throws {
        // Fixture case length_penalty 2, early_stopping false: the search keeps [2, 2, 1, 4]
        // (length) ahead of [2, 2, 0] (eos); the final ranking, with the eos counted, turns them.
        let fixture = try #require(Expected.shared, "Fixtures/sampling/expected.json")
        let b = fixture.beams
        let c = try #require(b.cases.first { $0.lengthPenalty == 2 && $0.earlyStopping == "false" })
        #expect(c.expected.map(\.tokens) == [[2, 2, 0], [2, 2, 1, 4]])
        func search(_ e: Expected.Beams.Beam) -> Double {
            beamSearchScore(cumulativeLogprob: e.cumulativeLogprob, promptLength: b.promptLength,
                            generatedCount: e.tokens.count - (e.endedByEOS ? 1 : 0), lengthPenalty: 2)
        }
        #expect(search(c.expected[0]) < search(c.expected[1]))
        let model = BeamSearchTests.tableModel(b)
        let outputs = try generate(
            model: model, promptLogits: model.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
            setup: GenerationSetup(
                parameters: SamplingParameters(maxTokens: b.maxTokens, n: 2, bestOf: 2, temperature: 0,
                                               useBeamSearch: true, lengthPenalty: 2),
                promptTokens: Array(repeating: 7, count: b.promptLength), endTokenIDs: [b.eos], eosTokenID: b.eos))
        #expect(outputs.map(\.tokenIDs) == [[2, 2, 0], [2, 2, 1, 4]])
        #expect(outputs.map(\.finishReason) == [.stop, .length])
    }

    // MARK: 5. Dead beams (Sampler._beam_search_sample with torch.topk over -inf)

    /// Token 3 has logit 2, the other four 0: min_p 1 keeps token 3 alone.
    static func deadBeamModel() -> TableModel {
        TableModel(vocabularySize: 5, promptLength: 2) { _ in [0, 0, 0, 2, 0] }
    }

    @Test("_beam_search_sample: with min_p 1 beams that took a removed token live on at -inf, and n beams come back")
    func deadBeamsAreReturned() throws {
        // Width 2, 4 candidates a step: the survivor 3 (log p 0) and the removed 0, 1, 2 at -inf.
        // Step 1: [0] ends on the eos at -inf; [3] and [1] run. Step 2: [3]'s four children
        // outrank every child of [1] (-inf); [3, 0] ends. Step 3 reaches max_tokens: [3, 3, 3]
        // (cumulative 0) and the finished -inf beams; the best two are [3, 3, 3] and [0].
        let model = Self.deadBeamModel()
        let p = SamplingParameters(maxTokens: 3, n: 2, temperature: 0, minP: 1, useBeamSearch: true)
        let outputs = try generate(
            model: model, promptLogits: model.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
            setup: GenerationSetup(parameters: p, promptTokens: [4, 4], endTokenIDs: [0], eosTokenID: 0))
        #expect(outputs.count == 2)
        #expect(outputs.map(\.tokenIDs) == [[3, 3, 3], [0]])
        #expect(outputs[0].cumulativeLogprob == 0 && outputs[0].finishReason == .length)
        #expect(outputs[1].cumulativeLogprob == -.infinity && outputs[1].finishReason == .stop && outputs[1].stopReason == nil)
        // RequestOutput.from_seq_group's index is seqs.index(seq). The group (sequences s0, s1,
        // ... as _process_sequence_group_outputs forks them): step 1, s0's children [3] s1, [0] s2,
        // [1] s3, and [2] continuing s0; s2 finished is added, then s1 and s3; s0 is dropped:
        // [s2, s1, s3]. Step 2: s1's children [3, 3] s4, [3, 0] s5, [3, 1] s6, [3, 2] s1; s3 has
        // none and leaves; s5 (finished), s4 and s6 are added, s1 dropped: [s2, s5, s4, s6].
        // Step 3: s6 leaves; s4's children [3, 3, 3] s7 ... [3, 3, 2] s4 all finish; s7 and s2
        // are kept, s5 and s4 leave, s7 is added: [s2, s7]. So [3, 3, 3] is 1 and [0] is 0.
        #expect(outputs.map(\.index) == [1, 0])
    }

    // MARK: 7. Validation with ε (SamplingParams._verify_args, _verify_beam_search,
    // _verify_non_beam_search, _verify_greedy_sampling)

    static func field(_ p: SamplingParameters) -> String? { ValidationTests.field(p) }

    @Test("_verify_beam_search: temperature ≤ 1e-5 and top_p ≥ 1 − 1e-5 pass; just beyond is refused")
    func beamSearchEpsilon() {
        #expect(Self.field(SamplingParameters(n: 2, temperature: 1e-5, useBeamSearch: true)) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0, topP: 0.99999, useBeamSearch: true)) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: 1.1e-5, useBeamSearch: true)) == "temperature")
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0, topP: 0.9999, useBeamSearch: true)) == "top_p")
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0, topK: 3, useBeamSearch: true)) == "top_k")
        #expect(Self.field(SamplingParameters(n: 1, temperature: 0, useBeamSearch: true)) == "n")
        // vLLM's sampler filters only below 1 - ε: the beam runs unfiltered.
        #expect(SamplingParameters(n: 2, temperature: 0, topP: 0.99999, useBeamSearch: true).effective.topP == 1)
    }

    @Test("_verify_non_beam_search: length_penalty within 1 ± 1e-5 passes, beyond is refused")
    func lengthPenaltyEpsilon() {
        #expect(Self.field(SamplingParameters(lengthPenalty: 1.00001)) == nil)
        #expect(Self.field(SamplingParameters(lengthPenalty: 0.99999)) == nil)
        #expect(Self.field(SamplingParameters(lengthPenalty: 1.0001)) == "length_penalty")
        #expect(Self.field(SamplingParameters(lengthPenalty: 0.9999)) == "length_penalty")
        #expect(Self.field(SamplingParameters(earlyStopping: .atOnce)) == "early_stopping")
    }

    @Test("_verify_args: an empty stop string and any stop token id pass; _verify_greedy_sampling refuses best_of > 1")
    func verifyArgs() {
        #expect(Self.field(SamplingParameters(stop: [""])) == nil)
        #expect(Self.field(SamplingParameters(stop: ["ok", ""])) == nil)
        #expect(Self.field(SamplingParameters(stopTokenIDs: [3, -1])) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0)) == "n")
        // Greedy starts below ε: at exactly 1e-5 the request samples, so best_of 2 is allowed.
        #expect(Self.field(SamplingParameters(n: 2, temperature: 1e-5)) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0.99e-5)) == "n")
    }
}
