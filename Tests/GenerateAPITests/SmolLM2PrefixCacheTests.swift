import Foundation
import Testing
@testable import GenerateAPI

/// The prefix cache on the default model: a request that reuses cached blocks gets the same text,
/// token ids and log-probabilities as with the cache off, and reports the reused tokens.
///
/// Runs only when `SPARROW_SMOLLM2` holds the model's path (`scripts/check-generate.sh` sets it).
@Suite("Prefix cache through the Engine on SmolLM2 (needs SPARROW_SMOLLM2)", .serialized)
struct SmolLM2PrefixCacheTests {
    static let modelPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]

    static func engine(prefixCaching: Bool) -> Engine {
        var configuration = Engine.Configuration(
            registry: ModelRegistry(aliases: modelPath.map { ["SmolLM2-135M-Instruct": $0] } ?? [:]),
            defaultModel: "SmolLM2-135M-Instruct")
        configuration.prefixCaching = prefixCaching
        return Engine(configuration: configuration)
    }

    /// A system prompt of a few hundred tokens that many requests share.
    static let system = (1...24).map { "Rule \($0): answer briefly, politely and in plain English, without lists." }
        .joined(separator: " ")

    static func chat(_ question: String) -> [ChatMessage] {
        [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: question)]
    }

    /// The prompt tokens the engine computes for `messages`.
    static func promptTokens(_ messages: [ChatMessage]) throws -> [Int] {
        let model = try LoadedModel(path: try #require(modelPath), options: .init())
        return try model.promptTokens(for: .conversation(messages, nil), modelName: "SmolLM2-135M-Instruct")
    }

    /// Whole blocks of 16 of the common prefix, leaving at least one token of `b` to compute.
    static func expectedReuse(_ a: [Int], _ b: [Int]) -> Int {
        let common = zip(a, b).prefix { $0 == $1 }.count
        return min(common, b.count - 1) / 16 * 16
    }

    @Test("full hits, partial-block hits, n, best_of and beam search: cache on and off give the same choices",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func sameOutputsWithAndWithoutTheCache() async throws {
        let cached = Self.engine(prefixCaching: true), uncached = Self.engine(prefixCaching: false)
        let first = Self.chat("What is the capital of France?")
        let second = Self.chat("What is the capital of Spain?")
        let firstTokens = try Self.promptTokens(first), secondTokens = try Self.promptTokens(second)
        #expect(firstTokens.count > 300)
        let requests: [(String, GenerateRequest, expectedCached: Int)] = [
            ("first request: nothing cached", GenerateRequest(messages: first, maxTokens: 24, temperature: 0.8, seed: 5), 0),
            ("the same prompt: a full hit", GenerateRequest(messages: first, maxTokens: 24, temperature: 0.8, seed: 5),
             (firstTokens.count - 1) / 16 * 16),
            ("another question: the shared blocks, the last one partly shared recomputed",
             GenerateRequest(messages: second, maxTokens: 24, temperature: 0.8, seed: 6),
             Self.expectedReuse(firstTokens, secondTokens)),
            ("n = 2, best_of = 3", GenerateRequest(messages: second, maxTokens: 16, n: 2, bestOf: 3, temperature: 0.9, seed: 7),
             (secondTokens.count - 1) / 16 * 16),
            ("beam search", GenerateRequest(messages: first, maxTokens: 12, n: 2, bestOf: 3, temperature: 0, useBeamSearch: true),
             (firstTokens.count - 1) / 16 * 16),
        ]
        for (name, request, expectedCached) in requests {
            let withCache = try await cached.generate(request: request)
            let without = try await uncached.generate(request: request)
            #expect(withCache.choices == without.choices, "\(name)")
            #expect(withCache.usage.cachedPromptTokens == expectedCached, "\(name)")
            #expect(without.usage.cachedPromptTokens == 0, "\(name)")
            #expect(withCache.usage.promptTokens == without.usage.promptTokens, "\(name)")
        }
        let status = try #require(try await cached.batchingStatus())
        #expect(status.cachedPromptTokens == requests.reduce(0) { $0 + $1.expectedCached })
        #expect(status.cachedBlocks > 0)
        #expect(try await uncached.batchingStatus()?.cachedBlocks == 0)
    }

    @Test("a chat's second turn reuses the first turn's prompt and answer",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func secondTurnHits() async throws {
        let cached = Self.engine(prefixCaching: true), uncached = Self.engine(prefixCaching: false)
        var messages = Self.chat("Name a large city in Japan.")
        let turn1 = GenerateRequest(messages: messages, maxTokens: 32, temperature: 0)
        let answer = try await cached.generate(request: turn1).choices[0].text
        messages.append(ChatMessage(role: "assistant", content: answer))
        messages.append(ChatMessage(role: "user", content: "And another one?"))
        let turn2 = GenerateRequest(messages: messages, maxTokens: 16, temperature: 0.7, seed: 3)
        let withCache = try await cached.generate(request: turn2)
        let without = try await uncached.generate(request: turn2)
        #expect(withCache.choices == without.choices)
        let firstPrompt = try Self.promptTokens(Self.chat("Name a large city in Japan."))
        #expect(withCache.usage.cachedPromptTokens >= firstPrompt.count / 16 * 16)
        #expect(withCache.usage.cachedPromptTokens % 16 == 0)
        #expect(withCache.usage.cachedPromptTokens < withCache.usage.promptTokens)
    }
}
