import Foundation
import Testing
@testable import GenerateAPI

/// ``BatchingInvarianceTests`` on the default model: a seeded chat gives byte-identical text, the
/// same token ids and the same cumulative log-probability alone and among seven concurrent
/// requests of other lengths and modes (SmolLM2's Q4_1 matrices run the batch-invariant integer
/// kernels). Needs `SPARROW_SMOLLM2`, as ``SmolLM2GenerateTests``.
@Suite("SmolLM2-135M-Instruct: batching invariance (needs SPARROW_SMOLLM2)")
struct SmolLM2BatchingInvarianceTests {
    static let modelPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]

    static func engine(_ limits: BatchingLimits) -> Engine {
        Engine(configuration: .init(
            registry: ModelRegistry(aliases: modelPath.map { ["SmolLM2-135M-Instruct": $0] } ?? [:]),
            defaultModel: "SmolLM2-135M-Instruct", batching: limits))
    }

    @Test("a seeded chat: same text, token ids and cumulative logprob alone and among 7 concurrent requests",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func invariance() async throws {
        let limits = BatchingLimits(maxBatchSequences: 16, maxBatchTokens: 64)
        let mix = BatchingInvarianceTests.mix(model: nil, longWords: 300) { words, salt in
            GenerateRequest(messages: [
                ChatMessage(role: "system", content: "You are a concise assistant."),
                ChatMessage(role: "user", content: "Write a short story using these words: " + Batching.prompt(words: words, salt: salt)),
            ])
        }
        // 300 words are over 320 tokens: at least 5 chunks of 64.
        try await BatchingInvarianceTests.check(alone: Self.engine(limits), together: Self.engine(limits), mix: mix,
                                                longPromptChunks: 5, label: "SmolLM2")
    }
}
