import Foundation
import Sampling
import Testing
import Tokenizer
import Transformer
@testable import GenerateAPI
import SparrowTestSupport

/// Per-token log-probabilities on the tiny random Llama of Fixtures/transformer, against the
/// model's own logits: the reference takes every position's logits from one prefill of prompt +
/// output (`prefillAllPositions`), applies vLLM 0.4's sampler steps before its `log_softmax`
/// (repetition penalty, temperature, top-k) and normalises in Float64; the token texts against
/// the tokenizer's `decode`, read as vLLM's incremental detokenizer reads it.
@Suite("Logprobs against the logits and the tokenizer")
struct LogprobTests {
    static let directory = FixturePaths.url("transformer/llama").path
    static let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                    defaultModel: "llama"))

    /// The processing vLLM's `Sampler.forward` applies before `log_softmax`, in Float64.
    struct Pipeline {
        var repetitionPenalty = 1.0
        var temperature = 1.0
        var topK = -1

        /// Log-probabilities after `history` (prompt and output so far) of the logits `row`;
        /// `-inf` for what top-k removes.
        func logprobs(_ row: [Float], history: Set<Int>) -> [Double] {
            var x = row.enumerated().map { i, l -> Double in
                var v = Double(l)
                if repetitionPenalty != 1, history.contains(i) { v = v > 0 ? v / repetitionPenalty : v * repetitionPenalty }
                return v / temperature
            }
            if topK > 0 {
                let kth = x.sorted(by: >)[topK - 1]
                x = x.map { $0 >= kth ? $0 : -.infinity }
            }
            let m = x.max() ?? 0
            let z = x.reduce(0) { $0 + Foundation.exp($1 - m) }
            return x.map { $0 - m - Foundation.log(z) }
        }
    }

    /// vLLM's `detokenize_incrementally` over `decode`: a token's text is what the output's
    /// decoded text gains with it since the last token that gave text; a text ending in U+FFFD
    /// (a character not complete yet) gives nothing and keeps the read point.
    ///
    /// The random model also picks bytes that never form a character. Where U+FFFD is involved
    /// the two detokenizers place it differently (Sparrow's shows a byte that cannot belong to a
    /// character at once, vLLM's defers it to a later token), so there the reference is the
    /// tokenizer's streaming decoder fed the same ids: the text the output would gain.
    struct IncrementalText {
        let tokenizer: Tokenizer
        var ids: [Int] = []
        var readText = ""
        var decoder: StreamingDecoder

        init(tokenizer: Tokenizer) {
            self.tokenizer = tokenizer
            decoder = tokenizer.makeStreamingDecoder(skipSpecial: true)
        }

        func text(of id: Int) throws -> String {
            let full = try tokenizer.decode(ids + [id])
            if full.hasPrefix(readText), !full.dropFirst(readText.count).contains("\u{FFFD}"),
               !(try tokenizer.decode(ids)).hasSuffix("\u{FFFD}") {
                return String(full.dropFirst(readText.count))
            }
            var copy = decoder
            return try copy.append(id)
        }

        mutating func append(_ id: Int) throws {
            let full = try tokenizer.decode(ids + [id])
            ids.append(id)
            _ = try decoder.append(id)
            if !full.hasSuffix("\u{FFFD}") { readText = full }
        }
    }

    /// Checks `choice`'s entries against the logits of `prompt` + its ids under `pipeline`:
    /// each chosen token's log-probability, the `alternatives` most likely tokens in order, and
    /// every text.
    static func check(_ choice: GenerateChoice, prompt: [Int], pipeline: Pipeline, alternatives: Int,
                      label: String) throws {
        let entries = try #require(choice.logprobs, "\(label): no logprobs")
        #expect(entries.map(\.tokenID) == choice.tokenIDs, "\(label)")
        let model = try loadModel(path: directory)
        let rows = try model.prefillAllPositions(tokens: prompt + choice.tokenIDs)
        let tokenizer = try Tokenizer(huggingFaceDirectory: directory)
        var texts = IncrementalText(tokenizer: tokenizer)
        var history = Set(prompt)
        for (i, entry) in entries.enumerated() {
            let reference = pipeline.logprobs(rows[prompt.count - 1 + i], history: history)
            #expect(abs(Double(entry.logprob) - reference[entry.tokenID]) < 1e-4,
                    "\(label) token \(i): \(entry.logprob) vs \(reference[entry.tokenID])")
            let ranked = reference.indices.filter { reference[$0].isFinite }
                .sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }
            let expected = Array(ranked.prefix(alternatives))
            #expect(entry.top.count == expected.count, "\(label) token \(i)")
            for (alternative, id) in zip(entry.top, expected) {
                // A near tie may swap two alternatives; their values still agree.
                #expect(abs(Double(alternative.logprob) - reference[id]) < 1e-4, "\(label) token \(i) alternative")
                #expect(abs(Double(alternative.logprob) - reference[alternative.tokenID]) < 1e-4)
                let text = try texts.text(of: alternative.tokenID)
                #expect(alternative.token == text, "\(label) token \(i) alternative \(alternative.tokenID)")
            }
            let text = try texts.text(of: entry.tokenID)
            #expect(entry.token == text, "\(label) token \(i) (\(entry.tokenID))")
            try texts.append(entry.tokenID)
            history.insert(entry.tokenID)
        }
        // Nothing was cut by a stop string, so the texts make up the choice's text.
        #expect(entries.map(\.token).joined() == choice.text, "\(label)")
    }

    static func promptIDs(_ text: String) throws -> [Int] {
        try Tokenizer(huggingFaceDirectory: directory).encode(text, addSpecial: true)
    }

    @Test("greedy: log_softmax of the raw logits; the top alternatives in order; texts as the detokenizer's")
    func greedy() async throws {
        let prompt = try Self.promptIDs("Hello world, tell me")
        let request = GenerateRequest(model: "llama", maxTokens: 12, temperature: 0, logprobs: 5, promptTokenIDs: prompt)
        let response = try await Self.engine.generate(request: request)
        try Self.check(response.choices[0], prompt: prompt, pipeline: Pipeline(), alternatives: 5, label: "greedy")
    }

    @Test("repetition penalty and temperature come before the logprobs, as in vLLM 0.4's sampler")
    func penaltiesAndTemperature() async throws {
        let prompt = try Self.promptIDs("The quick brown fox")
        let request = GenerateRequest(model: "llama", maxTokens: 10, repetitionPenalty: 1.3, temperature: 0.7,
                                      seed: 11, logprobs: 3, promptTokenIDs: prompt)
        let response = try await Self.engine.generate(request: request)
        try Self.check(response.choices[0], prompt: prompt, pipeline: Pipeline(repetitionPenalty: 1.3, temperature: 0.7),
                       alternatives: 3, label: "penalty + temperature")
    }

    @Test("top-k renormalises: the survivors' logprobs sum to 1, the rest are no alternatives")
    func topK() async throws {
        let prompt = try Self.promptIDs("Once upon a time")
        let request = GenerateRequest(model: "llama", maxTokens: 10, temperature: 1.2, topK: 3, seed: 5, logprobs: 6,
                                      promptTokenIDs: prompt)
        let response = try await Self.engine.generate(request: request)
        let choice = response.choices[0]
        // Only 3 tokens survive top-k, so 3 alternatives of the 6 asked for.
        try Self.check(choice, prompt: prompt, pipeline: Pipeline(temperature: 1.2, topK: 3), alternatives: 6, label: "top-k")
        for entry in choice.logprobs ?? [] {
            #expect(abs(entry.top.reduce(0.0) { $0 + Foundation.exp(Double($1.logprob)) } - 1) < 1e-4)
        }
    }

    @Test("the streamed entries concatenate to the whole answer's, for n 2 and for best_of > n")
    func streamedEqualsWhole() async throws {
        let prompt = try Self.promptIDs("Hello world")
        for (n, bestOf) in [(2, 2), (1, 3)] {
            let request = GenerateRequest(model: "llama", maxTokens: 9, n: n, bestOf: bestOf, temperature: 0.9, seed: 3,
                                          logprobs: 2, promptTokenIDs: prompt)
            let whole = try await Self.engine.generate(request: request)
            var streamed: [Int: [TokenLogprobJSON]] = [:]
            var final: GenerateResponse?
            for try await event in Self.engine.stream(request: request) {
                switch event {
                case let .logprobs(index, entries): streamed[index, default: []] += entries
                case .delta: break
                case let .finished(response): final = response
                }
            }
            for choice in whole.choices {
                #expect(streamed[choice.index] == choice.logprobs, "n \(n) best_of \(bestOf) choice \(choice.index)")
                #expect(choice.logprobs?.count == choice.tokenIDs.count)
            }
            #expect(final?.choices == whole.choices)
            try Self.check(whole.choices[0], prompt: prompt, pipeline: Pipeline(temperature: 0.9), alternatives: 2,
                           label: "n \(n) best_of \(bestOf)")
        }
    }

    @Test("an end token's entry has empty text; a request without logprobs streams no entries")
    func endTokenAndNoLogprobs() async throws {
        let tokenizer = try Tokenizer(huggingFaceDirectory: Self.directory)
        let prompt = try Self.promptIDs("Hello")
        let eos = try #require(tokenizer.eosID)
        // The first token sampled greedily becomes a stop token id, so the output is that one id.
        let first = try await Self.engine.generate(request: GenerateRequest(
            model: "llama", maxTokens: 1, temperature: 0, promptTokenIDs: prompt)).choices[0].tokenIDs[0]
        let stopped = try await Self.engine.generate(request: GenerateRequest(
            model: "llama", maxTokens: 4, temperature: 0, stopTokenIDs: [first], logprobs: 1, promptTokenIDs: prompt))
        #expect(stopped.choices[0].logprobs?.map(\.tokenID) == [first])
        #expect(stopped.choices[0].logprobs?.first?.token == (try tokenizer.decode([first])))
        // The eos is a special token the detokenizer skips: its text in place is empty.
        var decoder = tokenizer.makeStreamingDecoder(skipSpecial: true)
        #expect(decoder.peek(eos) == "")
        #expect(try decoder.append(eos) == "")

        var events = 0
        for try await event in Self.engine.stream(request: GenerateRequest(model: "llama", maxTokens: 4, temperature: 0,
                                                                           promptTokenIDs: prompt)) {
            if case .logprobs = event { events += 1 }
        }
        #expect(events == 0)
    }
}
