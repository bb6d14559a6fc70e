import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// Eight generations at once on one `Engine`: each must return what it returns alone. Run under
/// `scripts/sanitize.sh thread` this is also the data-race check of the engine, the model cache,
/// the worker pool and the KV caches.
@Suite("Engine: concurrent generations")
struct ConcurrentEngineTests {
    /// Runs `requests` concurrently on `engine` and returns the responses in request order.
    static func concurrently(_ engine: Engine, _ requests: [GenerateRequest]) async throws -> [GenerateResponse] {
        try await withThrowingTaskGroup(of: (Int, GenerateResponse).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask { (i, try await engine.generate(request: request)) }
            }
            var out = [GenerateResponse?](repeating: nil, count: requests.count)
            for try await (i, response) in group { out[i] = response }
            return out.compactMap { $0 }
        }
    }

    @Test("8 concurrent mock responses each get their own answer")
    func mock() async throws {
        let engine = Engine(configuration: .init(registry: ModelRegistry(), defaultModel: "mock-model"))
        let requests = (1...8).map { i in
            GenerateRequest(prompt: "prompt number \(i)", maxTokens: i, n: 1 + i % 3, mockResponse: true)
        }
        let responses = try await Self.concurrently(engine, requests)
        #expect(responses.count == 8)
        for (i, response) in zip(1...8, responses) {
            #expect(response.model == "mock-model")
            #expect(response.choices.count == 1 + i % 3)
            let words = MockResponse.words.prefix(i).joined(separator: " ")
            #expect(response.choices.map(\.text) == (0 ..< 1 + i % 3).map { $0 == 0 ? words : words + " (\($0))" })
            #expect(response.choices.allSatisfy { $0.tokenIDs == Array(0 ..< i) && $0.finishReason == .length })
            #expect(response.usage.promptTokens == 3)
        }
    }

    @Test("8 concurrent generations on a tiny model equal the same requests run one by one")
    func realModel() async throws {
        let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                 defaultModel: "llama"))
        // Different models, prompts, seeds and modes, so that the runs share the engine and the
        // model cache but not their sampling state; two requests use the same model and seed.
        let requests: [GenerateRequest] = [
            GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: 12, temperature: 0),
            GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: 12, temperature: 0.8, seed: 1),
            GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: 12, temperature: 0.8, seed: 1),
            GenerateRequest(model: "llama-q8_0", prompt: "The quick brown fox", maxTokens: 10, n: 2, bestOf: 3, seed: 5),
            GenerateRequest(model: "mistral", prompt: "1, 2, 3,", maxTokens: 8, temperature: 0.9, topK: 20, seed: 2),
            GenerateRequest(model: "mistral", prompt: "1, 2, 3,", maxTokens: 6, n: 2, bestOf: 3, temperature: 0, useBeamSearch: true),
            GenerateRequest(model: "phi3", prompt: "Once upon a time", maxTokens: 10, temperature: 0.7, topP: 0.9, seed: 3),
            GenerateRequest(model: "phi3-q8_0", prompt: "Once upon a time", maxTokens: 10, temperature: 0),
        ]
        var alone: [[[Int]]] = []
        for request in requests { alone.append(try await engine.generate(request: request).choices.map(\.tokenIDs)) }
        let together = try await Self.concurrently(engine, requests)
        #expect(together.map { $0.choices.map(\.tokenIDs) } == alone)
        #expect(alone[1] == alone[2])
        #expect(alone.allSatisfy { choices in !choices.isEmpty && choices.allSatisfy { !$0.isEmpty } })
    }
}
