import Foundation
import Testing
@testable import Sampling

/// The generation loop on toy models: stops, lengths, context, cancellation, log-probabilities,
/// streaming, and best_of.
@Suite("Generation loop")
struct GenerationTests {
    /// A model that deterministically prefers the script's next id (logit 5, others 0), then 6.
    static func scripted(_ script: [Int], vocabulary: Int = 8, prompt: Int = 4, context: Int = 1000,
                         counters: TableModel.Counters = .init()) -> TableModel {
        TableModel(vocabularySize: vocabulary, promptLength: prompt, contextLength: context, counters: counters) { prefix in
            var l = [Float](repeating: 0, count: vocabulary)
            l[prefix.count < script.count ? script[prefix.count] : 6] = 5
            return l
        }
    }

    static let pieces = PieceDetokenizer(pieces: [1: "Hel", 2: "lo", 3: " wor", 4: "ld", 5: "!", 6: "?", 7: "o"])
    static let script = [1, 2, 3, 4, 5, 7]

    struct Run {
        var outputs: [SequenceOutput]
        var events: [GenerationEvent]
        var model: TableModel
    }

    static func run(_ parameters: SamplingParameters, end: Set<Int> = [], context: Int = 1000, script: [Int] = script) throws -> Run {
        let model = scripted(script, context: context)
        var events: [GenerationEvent] = []
        let outputs = try generate(model: model, promptLogits: model.promptLogits, detokenizer: pieces,
                                   setup: GenerationSetup(parameters: parameters, promptTokens: [9, 9, 9, 9], endTokenIDs: end)) {
            events.append($0)
        }
        return Run(outputs: outputs, events: events, model: model)
    }

    static func streamed(_ events: [GenerationEvent], index: Int = 0) -> (text: String, ids: [Int], deltas: [String]) {
        var text = "", ids: [Int] = [], deltas: [String] = []
        for case let .delta(i, t, d, _) in events where i == index {
            text += t
            ids += d
            deltas.append(t)
        }
        return (text, ids, deltas)
    }

    @Test("A stop string across token boundaries cuts the text; held-back text is never taken back")
    func stopStringAcrossTokens() throws {
        // "Hel" "lo" " wor": "o wo" spans the 2nd and 3rd tokens; the text is cut before it.
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["xyz", "o wo"]))
        let o = r.outputs[0]
        #expect(o.text == "Hell")
        #expect(o.tokenIDs == [1, 2, 3])
        #expect(o.finishReason == .stop && o.stopReason == .stopString("o wo"))
        let s = Self.streamed(r.events)
        #expect(s.text == "Hell" && s.ids == [1, 2, 3])
        // After "Hello" the trailing "o" could begin "o wo": only "Hell" is reported then.
        #expect(s.deltas == ["Hel", "l", ""])
    }

    @Test("The stop string completed at the earlier token stops; a stop string held back is released at the end")
    func stopStringOrderAndRelease() throws {
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stop: ["world", "lo w"]))
        #expect(r.outputs[0].text == "Hel" && r.outputs[0].stopReason == .stopString("lo w"))
        // "ld!" could begin "ld!?" until max_tokens ends the sequence; then it is released.
        let q = try Self.run(SamplingParameters(maxTokens: 5, temperature: 0, stop: ["ld!?"]))
        #expect(q.outputs[0].text == "Hello world!" && q.outputs[0].finishReason == .length)
        #expect(Self.streamed(q.events).text == "Hello world!")
    }

    @Test("A stop token id ends the sequence: kept in tokenIDs, not in the text")
    func stopTokenID() throws {
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, stopTokenIDs: [3]))
        let o = r.outputs[0]
        #expect(o.tokenIDs == [1, 2, 3] && o.text == "Hello")
        #expect(o.finishReason == .stop && o.stopReason == .stopTokenID(3))
        #expect(Self.streamed(r.events).text == "Hello")
    }

    @Test("An end id ends the sequence: kept in tokenIDs and logprobs, not in the text (vLLM's StopChecker.maybe_stop_sequence)")
    func endToken() throws {
        // 5 is a generation-config end id here (no tokenizer eos given): stop_reason is its id.
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0, logprobs: 1), end: [5, 6])
        let o = r.outputs[0]
        #expect(o.tokenIDs == [1, 2, 3, 4, 5] && o.text == "Hello world")
        #expect(o.finishReason == .stop && o.stopReason == .endToken(5))
        // Every step: logit 5 against seven 0s: log p = 5 - ln(e^5 + 7) = -0.0464969.
        let step = 5 - Foundation.log(Foundation.exp(5.0) + 7)
        #expect(abs(o.cumulativeLogprob - 5 * step) < 1e-5)
        #expect(o.logprobs?.map(\.token) == [1, 2, 3, 4, 5])
        #expect(o.logprobs?.allSatisfy { abs(Double($0.logprob) - step) < 1e-6 && $0.top.count == 1 && $0.top[0].token == $0.token } == true)
        #expect(Self.streamed(r.events).ids == [1, 2, 3, 4, 5])
        // Decoded: every token but the last is fed back; the end id never is.
        #expect(r.model.generated == [1, 2, 3, 4])
    }

    @Test("ignore_eos: end ids go into tokenIDs, not the text, and the sequence runs on to max_tokens")
    func ignoreEOS() throws {
        // The script chooses 1 2 3 4 5 7, then 6 for ever; 5 and 6 are the model's end ids.
        let r = try Self.run(SamplingParameters(maxTokens: 8, temperature: 0, ignoreEOS: true), end: [5, 6])
        let o = r.outputs[0]
        #expect(o.tokenIDs == [1, 2, 3, 4, 5, 7, 6, 6] && o.text == "Hello worldo")
        #expect(o.finishReason == .length && o.stopReason == nil)
        let s = Self.streamed(r.events)
        #expect(s.text == "Hello worldo" && s.ids == [1, 2, 3, 4, 5, 7, 6, 6])
        #expect(r.model.generated == [1, 2, 3, 4, 5, 7, 6])
        // A stop token id still stops, even one that is also an end id.
        let q = try Self.run(SamplingParameters(maxTokens: 8, temperature: 0, stopTokenIDs: [6], ignoreEOS: true), end: [5, 6])
        #expect(q.outputs[0].tokenIDs == [1, 2, 3, 4, 5, 7, 6] && q.outputs[0].text == "Hello worldo")
        #expect(q.outputs[0].stopReason == .stopTokenID(6))
    }

    @Test("The default batched decode refuses a token count that is not one per sequence")
    func decodeCountMismatch() throws {
        let model = Self.scripted(Self.script)
        var logits: [[Float]] = []
        #expect(throws: SamplingError.invalidParameter(field: "tokens", reason: "1 tokens for 2 sequences; decode takes one per sequence")) {
            try TableModel.decode([model, model], tokens: [1], into: &logits)
        }
        #expect(model.generated.isEmpty)
    }

    @Test("max_tokens ends with finish_reason length and no stop reason; the last token is not decoded")
    func maxTokens() throws {
        let r = try Self.run(SamplingParameters(maxTokens: 2, temperature: 0))
        #expect(r.outputs[0].tokenIDs == [1, 2] && r.outputs[0].text == "Hello")
        #expect(r.outputs[0].finishReason == .length && r.outputs[0].stopReason == nil)
        #expect(r.model.counters.decodes == 1)
    }

    @Test("A full context ends with length: the token sampled at the last position is kept")
    func contextFull() throws {
        // Prompt 4, context 6: two tokens fit in the cache; the third is sampled from the last
        // logits and ends the sequence without being decoded (vLLM's len > max_model_len check).
        let r = try Self.run(SamplingParameters(maxTokens: 10, temperature: 0), context: 6)
        #expect(r.outputs[0].tokenIDs == [1, 2, 3] && r.outputs[0].finishReason == .length)
        #expect(r.model.position == 6)
        // No max_tokens (vLLM's None) runs to the same end: context - prompt + 1 tokens.
        let unlimited = try Self.run(SamplingParameters(maxTokens: nil, temperature: 0), context: 6)
        #expect(unlimited.outputs == r.outputs)
    }

    @Test("Cancellation stops generation within a token with CancellationError")
    func cancellation() async throws {
        let counters = TableModel.Counters()
        let task = Task { () throws -> [SequenceOutput] in
            let model = Self.scripted(Array(repeating: 1, count: 100), counters: counters)
            var seen = 0
            return try generate(model: model, promptLogits: model.promptLogits, detokenizer: Self.pieces,
                                setup: GenerationSetup(parameters: SamplingParameters(maxTokens: 100), promptTokens: [], endTokenIDs: [])) { _ in
                seen += 1
                if seen == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(counters.decodes == 3)
    }

    @Test("Log-probabilities: chosen and top alternatives under the sampled distribution")
    func logprobs() throws {
        // Logits after every prefix: [0, 1, 2, 3] + (length of prefix) on id 0. Temperature 0.5
        // doubles them; top_k 3 keeps ids 1..3 (and 0 once it passes 1).
        let model = TableModel(vocabularySize: 4, promptLength: 0) { prefix in [Float(prefix.count), 1, 2, 3] }
        let outputs = try generate(model: model, promptLogits: model.promptLogits, detokenizer: Self.pieces,
                                   setup: GenerationSetup(parameters: SamplingParameters(maxTokens: 3, temperature: 0.5, topK: 3, seed: 5, logprobs: 2),
                                                          promptTokens: [], endTokenIDs: []))
        let o = outputs[0]
        let logprobs = try #require(o.logprobs)
        #expect(logprobs.count == 3)
        var total = 0.0
        for (step, entry) in logprobs.enumerated() {
            var l: [Float] = [Float(step), 1, 2, 3].map { $0 / 0.5 }
            let kth = l.sorted(by: >)[2]
            l = l.map { $0 >= kth ? $0 : -.infinity }
            let reference = logSoftmax(l)
            #expect(abs(Double(entry.logprob) - reference[entry.token]) < 1e-5)
            let best = reference.indices.sorted { reference[$0] > reference[$1] }.prefix(2)
            #expect(entry.top.map(\.token) == Array(best))
            for a in entry.top { #expect(abs(Double(a.logprob) - reference[a.token]) < 1e-5) }
            total += reference[entry.token]
        }
        #expect(abs(o.cumulativeLogprob - total) < 1e-5)
        #expect(o.tokenIDs == logprobs.map(\.token))
    }

    /// A model with a real distribution per prefix, for seeded sampling.
    static func noisy(prompt: Int = 3, counters: TableModel.Counters = .init()) -> TableModel {
        TableModel(vocabularySize: 12, promptLength: prompt, counters: counters) { prefix in
            var h: UInt64 = 1469598103934665603
            for t in prefix { h = (h ^ UInt64(t)) &* 1099511628211 }
            var g = Xoshiro256StarStar(seed: h)
            return (0 ..< 12).map { _ in Float(g.nextUnitInterval() * 4) }
        }
    }

    static func sample(_ p: SamplingParameters, listen: Bool, counters: TableModel.Counters = .init()) throws -> ([SequenceOutput], [GenerationEvent]) {
        let model = noisy(counters: counters)
        var events: [GenerationEvent] = []
        let detok = PieceDetokenizer(pieces: Dictionary(uniqueKeysWithValues: (0 ..< 12).map { ($0, "<\($0)>") }))
        let setup = try GenerationSetup(parameters: p, promptTokens: [1, 2, 3], endTokenIDs: [0])
        let outputs = listen
            ? try generate(model: model, promptLogits: model.promptLogits, detokenizer: detok, setup: setup) { events.append($0) }
            : try generate(model: model, promptLogits: model.promptLogits, detokenizer: detok, setup: setup)
        return (outputs, events)
    }

    @Test("Streaming does not change the draws; each index's deltas add up to its choice")
    func streamingIsTransparent() throws {
        let p = SamplingParameters(maxTokens: 12, n: 3, temperature: 0.9, topP: 0.9, seed: 1234, stop: ["<7><"])
        let (quiet, _) = try Self.sample(p, listen: false)
        let (loud, events) = try Self.sample(p, listen: true)
        #expect(quiet == loud)
        #expect(Set(quiet.map(\.index)) == [0, 1, 2])
        for o in loud {
            let s = Self.streamed(events, index: o.index)
            #expect(s.text == o.text && s.ids == o.tokenIDs)
        }
        #expect(Set(quiet.map(\.tokenIDs)).count > 1)
        // Candidate i's draws do not depend on how many candidates run.
        let (single, _) = try Self.sample(SamplingParameters(maxTokens: 12, n: 1, temperature: 0.9, topP: 0.9, seed: 1234, stop: ["<7><"]), listen: false)
        #expect(single[0] == quiet.first { $0.index == 0 })
    }

    @Test("best_of 4, n 2: the two highest cumulative log-probabilities of the four candidates")
    func bestOf() throws {
        let base = SamplingParameters(maxTokens: 6, n: 4, temperature: 1.2, seed: 77)
        let (candidates, _) = try Self.sample(base, listen: false)
        // Recompute each candidate's cumulative log-probability from the model's table.
        let model = Self.noisy()
        for c in candidates {
            var prefix: [Int] = [], total = 0.0
            for t in c.tokenIDs {
                total += logSoftmax(model.logitsAfter(prefix).map { $0 / 1.2 })[t]
                prefix.append(t)
            }
            #expect(abs(total - c.cumulativeLogprob) < 1e-4)
        }
        let ranked = candidates.sorted { $0.cumulativeLogprob > $1.cumulativeLogprob }
        #expect(ranked[0].cumulativeLogprob > ranked[1].cumulativeLogprob && ranked[1].cumulativeLogprob > ranked[2].cumulativeLogprob)

        var p = base
        p.n = 2
        p.bestOf = 4
        let counters = TableModel.Counters()
        let (best, events) = try Self.sample(p, listen: true, counters: counters)
        #expect(best.count == 2)
        #expect(best.map(\.tokenIDs) == ranked.prefix(2).map(\.tokenIDs))
        #expect(best.map(\.cumulativeLogprob) == ranked.prefix(2).map(\.cumulativeLogprob))
        // Each keeps its candidate's index (vLLM's CompletionOutput.index, seqs.index(seq)), not its rank.
        #expect(best.map(\.index) == ranked.prefix(2).map(\.index))
        #expect(best.map(\.index) != [0, 1])
        // Three forks share the prompt; the text arrives once per returned choice, at the end.
        #expect(counters.forks == 3)
        #expect(events == best.map { .delta(index: $0.index, text: $0.text, tokenIDs: $0.tokenIDs, logprobs: []) })
    }

    @Test("Logits that do not match the vocabulary and invalid parameters are typed errors")
    func errors() {
        let model = Self.scripted([1])
        #expect(throws: SamplingError.self) {
            try generate(model: model, promptLogits: [0, 1], detokenizer: Self.pieces,
                         setup: GenerationSetup(parameters: SamplingParameters(), promptTokens: [], endTokenIDs: []))
        }
        // A model whose decode writes the wrong number of logits is reported, not sampled from.
        let broken = TableModel(vocabularySize: 4, promptLength: 0) { $0.isEmpty ? [0, 1, 2, 3] : [0, 1] }
        #expect(throws: SamplingError.self) {
            try generate(model: broken, promptLogits: broken.promptLogits, detokenizer: Self.pieces,
                         setup: GenerationSetup(parameters: SamplingParameters(), promptTokens: [], endTokenIDs: []))
        }
        #expect(throws: SamplingError.invalidParameter(field: "top_p", reason: "must be in (0, 1], got 2.0")) {
            try generate(model: model, promptLogits: model.promptLogits, detokenizer: Self.pieces,
                         setup: GenerationSetup(parameters: SamplingParameters(topP: 2), promptTokens: [], endTokenIDs: []))
        }
    }
}
