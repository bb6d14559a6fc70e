import Foundation
import Testing
@testable import GenerateAPI

/// Invariance end to end: a seeded request gives byte-identical text, the same token ids and the
/// same cumulative log-probability (to the bit) whether it runs alone or in shared steps with
/// seven other requests of other lengths and modes: n > 1, best_of, beam search, greedy,
/// streaming, different max_tokens, and a long prompt prefilled in several chunks beside it.
@Suite("Batching: a seeded request is the same alone and among 7 others")
struct BatchingInvarianceTests {
    /// One request of the mix and how it is sent.
    struct Entry: Sendable {
        var request: GenerateRequest
        var streamed = false
    }

    /// What a request returned, streamed or not.
    struct Outcome: Sendable {
        var choices: [GenerateChoice]
        /// For a stream: the deltas concatenated per index (equal to the choices' texts).
        var streamedTexts: [Int: String]?
        var promptTokens: Int
        /// Prompt tokens the prefix cache held (the rest is the prompt's job in the step log).
        var cachedTokens: Int
        var computedTokens: Int { promptTokens - cachedTokens }
    }

    /// The request under test first, then the seven others.
    static func mix(model: String?, longWords: Int, prompt: (Int, UInt64) -> GenerateRequest) -> [Entry] {
        func req(_ words: Int, _ salt: UInt64, _ edit: (inout GenerateRequest) -> Void) -> GenerateRequest {
            var r = prompt(words, salt)
            r.model = model
            edit(&r)
            return r
        }
        return [
            // The request under test: sampled, seeded, with per-token log-probabilities.
            Entry(request: req(8, 1, { $0.maxTokens = 24; $0.temperature = 0.8; $0.seed = 42; $0.logprobs = 2 })),
            // best_of 3, n 2 (ranked at the end), sampled.
            Entry(request: req(5, 2, { $0.maxTokens = 20; $0.n = 2; $0.bestOf = 3; $0.temperature = 1; $0.seed = 5 })),
            // Beam search, width 3.
            Entry(request: req(12, 3, { $0.maxTokens = 10; $0.n = 2; $0.bestOf = 3; $0.temperature = 0; $0.useBeamSearch = true })),
            // Greedy, longer.
            Entry(request: req(3, 4, { $0.maxTokens = 40; $0.temperature = 0 })),
            // Streamed, top-p.
            Entry(request: req(10, 5, { $0.maxTokens = 30; $0.temperature = 0.7; $0.topP = 0.9; $0.seed = 9; $0.stream = true }),
                  streamed: true),
            // A long prompt: several chunks of maxBatchTokens.
            Entry(request: req(longWords, 6, { $0.maxTokens = 8; $0.temperature = 0.9; $0.seed = 3 })),
            // n 3 = best_of (each candidate streams under its index), penalties.
            Entry(request: req(6, 7, { $0.maxTokens = 12; $0.n = 3; $0.presencePenalty = 0.5; $0.seed = 7 }), streamed: true),
            // Repetition penalty, top-k, a stop string.
            Entry(request: req(9, 8, { $0.maxTokens = 50; $0.repetitionPenalty = 1.3; $0.topK = 20; $0.seed = 11; $0.stop = ["zz"] })),
        ]
    }

    static func run(_ engine: Engine, _ entry: Entry) async throws -> Outcome {
        if entry.streamed {
            let s = try await Batching.stream(engine, entry.request)
            let response = try #require(s.response)
            return Outcome(choices: response.choices, streamedTexts: s.texts, promptTokens: response.usage.promptTokens,
                           cachedTokens: response.usage.cachedPromptTokens)
        }
        let response = try await engine.generate(request: entry.request)
        return Outcome(choices: response.choices, streamedTexts: nil, promptTokens: response.usage.promptTokens,
                       cachedTokens: response.usage.cachedPromptTokens)
    }

    /// Runs each entry alone on `alone` (a fresh engine), then all at once on `together` (another
    /// fresh one, so its prefix cache holds only what the requests share, such as a system
    /// prompt): the request under test joins once the others run. Checks that every request's choices are the same both ways, the request under
    /// test to the byte and the bit, and that the steps really were shared.
    static func check(alone: Engine, together: Engine, mix: [Entry], longPromptChunks: Int, label: String) async throws {
        var expected: [Outcome] = []
        var aloneSteps: [Int] = []
        for entry in mix {
            let before = try await alone.batchingStatus()?.steps ?? 0
            expected.append(try await run(alone, entry))
            aloneSteps.append(try await Batching.status(alone).steps - before)
        }

        try await together.preload()
        let scheduler = try await Batching.scheduler(together)
        let stepsBefore = try await Batching.status(together).steps
        scheduler.recordSteps()
        let others = try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            for (i, entry) in mix.enumerated().dropFirst() {
                group.addTask { (i, try await run(together, entry)) }
            }
            // The request under test joins once the others are generating.
            try await Batching.waitFor(together, "the other requests to start") { $0.generating >= 4 }
            group.addTask { (0, try await run(together, mix[0])) }
            var out = [Outcome?](repeating: nil, count: mix.count)
            for try await (i, outcome) in group { out[i] = outcome }
            return out
        }
        let log = scheduler.takeStepLog()
        let outcomes = try others.map { try #require($0) }
        let stepsTogether = try await Batching.status(together).steps - stepsBefore
        try await Batching.expectIdle(together, "\(label): after the mix")

        // The request under test: byte-identical text, the same ids, the same log-probabilities.
        let a = try #require(expected[0].choices.first), b = try #require(outcomes[0].choices.first)
        #expect(Array(b.text.utf8) == Array(a.text.utf8), "\(label): \(a.text.debugDescription) alone, \(b.text.debugDescription) among others")
        #expect(b.tokenIDs == a.tokenIDs, "\(label)")
        #expect(b.cumulativeLogprob.bitPattern == a.cumulativeLogprob.bitPattern,
                "\(label): cumulative logprob \(a.cumulativeLogprob) alone, \(b.cumulativeLogprob) among others")
        #expect(b == a, "\(label): per-token logprobs and finish reason too")
        #expect(a.tokenIDs.count > 4, "\(label): the request under test generates more than a few tokens")
        // Every other request too, streamed texts included.
        for i in mix.indices.dropFirst() {
            #expect(outcomes[i].choices == expected[i].choices && outcomes[i].streamedTexts == expected[i].streamedTexts,
                    "\(label): request \(i) (\(mix[i].request.n) of best_of \(mix[i].request.bestOf ?? mix[i].request.n), beam \(mix[i].request.useBeamSearch), streamed \(mix[i].streamed))")
            if let texts = outcomes[i].streamedTexts {
                #expect(texts == Dictionary(uniqueKeysWithValues: outcomes[i].choices.map { ($0.index, $0.text) }),
                        "\(label): request \(i)'s deltas add up to its choices")
            }
        }

        // Batching happened: the steps were shared.
        #expect(log.count == stepsTogether, "\(label): the log has every step")
        #expect(stepsTogether < aloneSteps.reduce(0, +),
                "\(label): \(stepsTogether) steps together, \(aloneSteps.reduce(0, +)) (\(aloneSteps)) one by one")
        // Distinct computed prompt lengths identify the requests in the step log.
        let lengths = outcomes.map(\.computedTokens)
        try #require(Set(lengths).count == lengths.count, "\(label): computed prompt lengths \(lengths)")
        let ids = lengths.map { Batching.request(withPromptTokens: $0, in: log) }
        try #require(ids.allSatisfy { $0 != nil }, "\(label): every request's prompt is in the log (\(lengths))")
        let requestSteps = ids.map { id in log.indices.filter { log[$0].parts.contains { $0.request == id! } } }
        #expect(requestSteps.reduce(0) { $0 + $1.count } > log.count, "\(label): some steps ran several requests")
        #expect(log.map { Set($0.parts.map(\.request)).count }.max() ?? 0 >= 3,
                "\(label): some step ran at least 3 requests")
        // The request under test shared steps with others, prefill and decodes.
        let shared = requestSteps[0].filter { i in log[i].parts.contains { $0.request != ids[0]! } }
        #expect(shared.count >= a.tokenIDs.count / 2,
                "\(label): the request under test shared \(shared.count) of its \(requestSteps[0].count) steps")
        // The long prompt took several chunks.
        let longChunks = log.filter { $0.parts.contains { $0.request == ids[5]! && $0.isPrefill } }.count
        #expect(longChunks >= longPromptChunks, "\(label): the long prompt of \(lengths[5]) tokens ran in \(longChunks) chunks")
    }

    @Test("tiny model: same text, token ids and cumulative logprob alone and among 7 concurrent requests")
    func tinyModel() async throws {
        let limits = BatchingLimits(maxBatchSequences: 16, maxBatchTokens: 64)
        let mix = Self.mix(model: Batching.model, longWords: 60) { words, salt in
            GenerateRequest(prompt: Batching.prompt(words: words, salt: salt))
        }
        // 60 words are about 300 tokens: at least 5 chunks of 64.
        try await Self.check(alone: Batching.engine(limits), together: Batching.engine(limits), mix: mix,
                             longPromptChunks: 5, label: "tiny")
    }
}
