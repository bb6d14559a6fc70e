import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// Every endpoint, whole and streamed, over real HTTP with `mock_response` (no model needed).
@Suite("Endpoints with mock responses")
struct MockEndpointTests {
    static let mockSentence = "This is a mock response from Sparrow: no model was loaded and no tokens were sampled."

    @Test("GET /health and GET /v1/models")
    func healthAndModels() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let health = try await server.client.get("health")
            #expect(health.status == 200)
            #expect(try health.json()["status"] as? String == "ok")
            // No model is loaded yet: no scheduler to report.
            #expect((try health.json()["models"] as? [String: Any])?.isEmpty == true)

            let models = try await server.client.get("v1/models")
            #expect(models.status == 200)
            let list = try models.json()
            #expect(list["object"] as? String == "list")
            let data = try #require(list["data"] as? [[String: Any]])
            #expect(data.contains { $0["id"] as? String == DefaultModel.name && $0["object"] as? String == "model" })
        }
    }

    @Test("POST /v1/generate answers the documented response")
    func generateWhole() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/generate", #"{"prompt": "Hello there", "max_tokens": 4, "mock_response": true}"#)
            #expect(r.status == 200)
            #expect(r.contentType.hasPrefix("application/json"))
            let body = try r.json()
            #expect((body["id"] as? String)?.hasPrefix("mock-") == true)
            #expect(body["model"] as? String == DefaultModel.name)
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "This is a mock")
            #expect(choice["finish_reason"] as? String == "length")
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 2)
            #expect(usage["completion_tokens"] as? Int == 4)
        }
    }

    @Test("POST /v1/generate accepts the document's sample body")
    func documentSample() async throws {
        let sample = """
            {"model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "formatted_prompt": "<string>",
             "max_tokens": 256, "n": 1, "best_of": 1, "presence_penalty": 0, "frequency_penalty": 0,
             "repetition_penalty": 1, "temperature": 1, "top_p": 1, "top_k": -1, "min_p": 0,
             "use_beam_search": false, "length_penalty": 1, "early_stopping": false, "mock_response": true}
            """
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/generate", sample)
            #expect(r.status == 200)
            #expect(try r.json()["model"] as? String == "TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        }
    }

    @Test("POST /v1/generate with stream: deltas, the whole response, [DONE]")
    func generateStream() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/generate", #"{"prompt": "Hi", "n": 2, "stream": true, "mock_response": true}"#)
            #expect(r.status == 200)
            #expect(r.contentType.hasPrefix("text/event-stream"))
            #expect(r.events.last == "[DONE]")
            let events = try r.jsonEvents()
            let final = try #require(events.last)
            let choices = try #require(final["choices"] as? [[String: Any]])
            #expect(choices.count == 2)
            var texts: [Int: String] = [:]
            for delta in events.dropLast() {
                let index = try #require(delta["index"] as? Int)
                texts[index, default: ""] += try #require(delta["text"] as? String)
            }
            for choice in choices {
                let index = try #require(choice["index"] as? Int)
                #expect(texts[index] == choice["text"] as? String)
            }
            #expect(texts[0] == Self.mockSentence)
        }
    }

    @Test("POST /v1/completions: text_completion, echo, streamed chunks with usage")
    func completions() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/completions",
                #"{"model": "m", "prompt": ["Say hi."], "max_tokens": 3, "echo": true, "mock_response": true, "top_k": 5}"#)
            #expect(r.status == 200)
            let body = try r.json()
            #expect(body["object"] as? String == "text_completion")
            #expect((body["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(body["model"] as? String == "m")
            #expect(body["created"] as? Int ?? 0 > 1_700_000_000)
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "Say hi.This is a")
            #expect(choice["finish_reason"] as? String == "length")
            #expect((body["usage"] as? [String: Any])?["total_tokens"] as? Int == 5)

            let s = try await server.client.post("v1/completions",
                #"{"prompt": "Say hi.", "stream": true, "stream_options": {"include_usage": true}, "mock_response": true}"#)
            #expect(s.status == 200)
            #expect(s.events.last == "[DONE]")
            let chunks = try s.jsonEvents()
            #expect(chunks.allSatisfy { $0["object"] as? String == "text_completion" })
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 16)
            let withChoices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect(withChoices.compactMap { $0["text"] as? String }.joined() == Self.mockSentence)
            #expect(withChoices.last?["finish_reason"] as? String == "stop")
            #expect(withChoices.dropLast().allSatisfy { $0["finish_reason"] is NSNull })
        }
    }

    @Test("POST /v1/chat/completions: chat.completion with n choices")
    func chatWhole() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/chat/completions", """
                {"model": "SmolLM2-135M-Instruct", "n": 2, "mock_response": true, "seed": 7,
                 "messages": [{"role": "developer", "content": "Be brief."},
                              {"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}
                """)
            #expect(r.status == 200)
            let body = try r.json()
            #expect(body["object"] as? String == "chat.completion")
            #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choices = try #require(body["choices"] as? [[String: Any]])
            #expect(choices.count == 2)
            let message = try #require(choices.first?["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == Self.mockSentence)
            #expect(choices.first?["finish_reason"] as? String == "stop")
            #expect((body["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 3)
        }
    }

    @Test("POST /v1/chat/completions with stream: role chunk, content deltas, finish chunk, usage, [DONE]")
    func chatStream() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Hello"}], "stream": true, "max_tokens": 5,
                 "stream_options": {"include_usage": true}, "mock_response": true}
                """)
            #expect(r.status == 200)
            #expect(r.contentType.hasPrefix("text/event-stream"))
            #expect(r.events.last == "[DONE]")
            let chunks = try r.jsonEvents()
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            let deltas = choices.compactMap { $0["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == "This is a mock response")
            #expect(choices.last?["finish_reason"] as? String == "length")
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            #expect((last["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
        }
    }
}
