import Foundation
import Testing
@testable import GenerateAPI

@Suite("mock_response")
struct MockResponseTests {
    /// An engine whose registry knows nothing: a mock answer must not need any model file.
    static func engine() -> Engine {
        Engine(configuration: .init(registry: ModelRegistry(roots: [], aliases: [:]), defaultModel: nil))
    }

    @Test("the document's sample body with mock_response true is answered without model files")
    func sampleBody() async throws {
        let body = RequestDecodingTests.docSampleBody.replacingOccurrences(of: #""mock_response":false"#, with: #""mock_response":true"#)
        let request = try RequestDecodingTests.decode(body)
        let response = try await Self.engine().generate(request: request)
        #expect(response.model == "TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        #expect(response.id.hasPrefix("mock-"))
        #expect(response.choices.count == 1)
        let choice = try #require(response.choices.first)
        #expect(choice.text == MockResponse.words.joined(separator: " "))
        #expect(choice.finishReason == .stop)
        #expect(choice.tokenIDs == Array(0..<MockResponse.words.count))
        #expect(response.usage.completionTokens == MockResponse.words.count)
        #expect(response.usage.totalTokens == response.usage.promptTokens + response.usage.completionTokens)
        // Well-formed: it encodes to the documented shape.
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(response)) as? [String: Any])
        #expect(Set(json.keys) == ["id", "model", "choices", "usage", "timing"])
        let first = try #require((json["choices"] as? [[String: Any]])?.first)
        #expect(Set(first.keys) == ["index", "text", "token_ids", "finish_reason", "stop_reason", "cumulative_logprob"])
    }

    @Test("the same request gets the same answer; max_tokens and n shape it")
    func deterministic() async throws {
        let request = GenerateRequest(model: "anything", prompt: "one two three", maxTokens: 3, n: 2, mockResponse: true)
        let a = try await Self.engine().generate(request: request)
        let b = try await Self.engine().generate(request: request)
        #expect(a == b)
        #expect(a.choices.map(\.text) == ["This is a", "This is a (1)"])
        #expect(a.choices.map(\.finishReason) == [.length, .length])
        #expect(a.usage == .init(promptTokens: 3, completionTokens: 6))
        var other = request
        other.prompt = "one two four"
        #expect(try await Self.engine().generate(request: other).id != a.id)
    }

    @Test("a mock request is validated like a real one")
    func validated() async throws {
        let request = GenerateRequest(model: "m", prompt: "x", topP: 0, mockResponse: true)
        await #expect(throws: GenerateError.self) { try await Self.engine().generate(request: request) }
    }

    @Test("streaming a mock answer gives its text and then the response")
    func stream() async throws {
        let request = GenerateRequest(model: "m", prompt: "x", mockResponse: true)
        var text = "", finished: GenerateResponse?
        for try await event in Self.engine().stream(request: request) {
            switch event {
            case let .delta(_, t): text += t
            case .logprobs: break
            case let .finished(r): finished = r
            }
        }
        let response = try #require(finished)
        #expect(text == response.choices[0].text)
    }
}
