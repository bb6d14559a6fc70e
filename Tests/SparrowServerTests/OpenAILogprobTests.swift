import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// OpenAI's `logprobs` over HTTP on the tiny random Llama (``OpenAIFidelityTests/withServer(_:)``):
/// the wire shapes of both endpoints, whole and streamed, and their values against the engine's
/// own entries from `/v1/generate` (which `LogprobTests` checks against the logits).
@Suite("OpenAI logprobs over HTTP")
struct OpenAILogprobTests {
    static let messages = OpenAIFidelityTests.messages

    /// `/v1/generate`'s entries for the same greedy request, the reference for the OpenAI shapes.
    static func engineEntries(_ server: TestServer, _ body: String) async throws -> [[String: Any]] {
        let r = try await server.client.post("v1/generate", body)
        #expect(r.status == 200, "\(r.text)")
        let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
        return try #require(choice["logprobs"] as? [[String: Any]])
    }

    /// The JSON text of `value` with sorted keys, to compare parsed objects.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// The first choice's `logprobs.content` of every chunk of a chat stream, concatenated, and
    /// the streamed text.
    static func streamedChat(_ result: HTTPClient.Result) throws -> (content: [[String: Any]], text: String, chunks: Int) {
        var content: [[String: Any]] = [], text = "", chunks = 0
        for event in try result.jsonEvents() {
            for choice in event["choices"] as? [[String: Any]] ?? [] {
                text += (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
                if let logprobs = choice["logprobs"] as? [String: Any] {
                    content += logprobs["content"] as? [[String: Any]] ?? []
                    chunks += 1
                }
            }
        }
        return (content, text, chunks)
    }

    @Test("chat: content entries {token, logprob, bytes, top_logprobs} with bytes the token's UTF-8; streamed = whole")
    func chat() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let settings = #""max_tokens": 10, "temperature": 0, "ignore_eos": true"#
            let whole = try await server.client.post(
                "v1/chat/completions", "{\(Self.messages), \(settings), \"logprobs\": true, \"top_logprobs\": 3}")
            #expect(whole.status == 200, "\(whole.text)")
            let choice = try #require((try whole.json()["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 10)
            let tokens = content.compactMap { $0["token"] as? String }
            #expect(tokens.joined() == message["content"] as? String)
            for entry in content {
                #expect(Set(entry.keys) == ["token", "logprob", "bytes", "top_logprobs"])
                let token = try #require(entry["token"] as? String)
                #expect(entry["bytes"] as? [Int] == token.utf8.map(Int.init))
                let top = try #require(entry["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 3)
                for alternative in top {
                    #expect(Set(alternative.keys) == ["token", "logprob", "bytes"])
                    #expect(alternative["bytes"] as? [Int] == (alternative["token"] as? String)?.utf8.map(Int.init))
                }
                // Greedy: the chosen token is the most likely, first among the alternatives.
                #expect(top.first?["token"] as? String == token)
                #expect(top.first?["logprob"] as? Double == entry["logprob"] as? Double)
            }

            // The same values as the engine's entries for the same messages.
            let reference = try await Self.engineEntries(server, "{\(Self.messages), \(settings), \"logprobs\": 3}")
            #expect(reference.map { $0["token"] as? String } == tokens)
            #expect(reference.map { $0["logprob"] as? Double } == content.map { $0["logprob"] as? Double })
            #expect(reference.map { ($0["top"] as? [[String: Any]])?.map { $0["token"] as? String } }
                == content.map { ($0["top_logprobs"] as? [[String: Any]])?.map { $0["token"] as? String } })

            let stream = try await server.client.post(
                "v1/chat/completions", "{\(Self.messages), \(settings), \"logprobs\": true, \"top_logprobs\": 3, \"stream\": true}")
            let streamed = try Self.streamedChat(stream)
            #expect(try Self.canonical(streamed.content) == (try Self.canonical(content)))
            #expect(streamed.text == message["content"] as? String)
            #expect(streamed.chunks >= 1)

            // logprobs without top_logprobs: entries with no alternatives, as OpenAI answers.
            let bare = try await server.client.post("v1/chat/completions", "{\(Self.messages), \(settings), \"logprobs\": true}")
            let bareContent = (((try bare.json()["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["content"]
                as? [[String: Any]]) ?? []
            #expect(bareContent.count == 10 && bareContent.allSatisfy { ($0["top_logprobs"] as? [Any])?.isEmpty == true })
            // Without logprobs, chunks and answers carry null.
            let none = try await server.client.post("v1/chat/completions", "{\(Self.messages), \(settings)}")
            #expect((try none.json()["choices"] as? [[String: Any]])?.first?["logprobs"] is NSNull)
        }
    }

    @Test("chat: sampled n 2 streams each choice's entries under its index, equal to the whole answer's")
    func chatSampledChoices() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let body = "\(Self.messages), \"max_tokens\": 8, \"n\": 2, \"temperature\": 1, \"seed\": 9, \"logprobs\": true, \"top_logprobs\": 2"
            let whole = try await server.client.post("v1/chat/completions", "{\(body)}")
            var expected: [Int: String] = [:]
            for choice in try whole.json()["choices"] as? [[String: Any]] ?? [] {
                let content = (choice["logprobs"] as? [String: Any])?["content"] ?? []
                expected[choice["index"] as? Int ?? -1] = try Self.canonical(content)
            }
            #expect(expected.count == 2)
            let stream = try await server.client.post("v1/chat/completions", "{\(body), \"stream\": true}")
            var streamed: [Int: [[String: Any]]] = [:]
            for event in try stream.jsonEvents() {
                for choice in event["choices"] as? [[String: Any]] ?? [] {
                    if let logprobs = choice["logprobs"] as? [String: Any] {
                        streamed[choice["index"] as? Int ?? -1, default: []] += logprobs["content"] as? [[String: Any]] ?? []
                    }
                }
            }
            #expect(try streamed.mapValues(Self.canonical) == expected)
        }
    }

    @Test("completions: tokens, token_logprobs, top_logprobs ({text: logprob} with the chosen token) and text_offset; streamed = whole; echo refused")
    func completion() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let settings = #""prompt": "Hello world", "max_tokens": 9, "temperature": 0, "ignore_eos": true"#
            let body = "\(settings), \"logprobs\": 2"
            let whole = try await server.client.post("v1/completions", "{\(body)}")
            #expect(whole.status == 200, "\(whole.text)")
            let choice = try #require((try whole.json()["choices"] as? [[String: Any]])?.first)
            let text = try #require(choice["text"] as? String)
            let logprobs = try #require(choice["logprobs"] as? [String: Any])
            #expect(Set(logprobs.keys) == ["tokens", "token_logprobs", "top_logprobs", "text_offset"])
            let tokens = try #require(logprobs["tokens"] as? [String])
            let values = try #require(logprobs["token_logprobs"] as? [Double])
            let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
            let offsets = try #require(logprobs["text_offset"] as? [Int])
            #expect(tokens.count == 9 && values.count == 9 && top.count == 9 && offsets.count == 9)
            // Offsets count code points (Python's len, which vLLM sums).
            #expect(tokens.joined() == text)
            var offset = 0
            for (i, token) in tokens.enumerated() {
                #expect(offsets[i] == offset)
                offset += token.unicodeScalars.count
                // The chosen token and the 2 most likely (greedy: the chosen is one of them).
                #expect(top[i][token] == values[i])
                #expect((1 ... 2).contains(top[i].count))
            }
            let reference = try await Self.engineEntries(server, "{\(settings), \"logprobs\": 2}")
            #expect(reference.map { $0["token"] as? String } == tokens)
            #expect(reference.map { $0["logprob"] as? Double } == values)

            let stream = try await server.client.post("v1/completions", "{\(body), \"stream\": true}")
            var streamed: [String: [Any]] = [:]
            var streamedText = ""
            for event in try stream.jsonEvents() {
                for choice in event["choices"] as? [[String: Any]] ?? [] {
                    streamedText += choice["text"] as? String ?? ""
                    guard let chunk = choice["logprobs"] as? [String: Any] else { continue }
                    for (key, value) in chunk { streamed[key, default: []] += value as? [Any] ?? [] }
                }
            }
            #expect(streamedText == text)
            #expect(try Self.canonical(streamed) == (try Self.canonical(logprobs)))

            // echo with logprobs needs the prompt's entries first (vLLM's prompt_logprobs): refused.
            let echo = try await server.client.post("v1/completions", "{\(settings), \"logprobs\": 1, \"echo\": true}")
            #expect(echo.status == 400, "\(echo.text)")
            #expect(try echo.error()["param"] as? String == "echo")

            // logprobs 0: the chosen tokens only, top_logprobs null (vLLM 0.4's _create_logprobs).
            let zero = try await server.client.post("v1/completions", "{\(settings), \"logprobs\": 0}")
            let zeroLogprobs = try #require(((try zero.json()["choices"] as? [[String: Any]])?.first)?["logprobs"] as? [String: Any])
            #expect(zeroLogprobs["top_logprobs"] is NSNull)
            #expect((zeroLogprobs["tokens"] as? [String])?.count == 9)
        }
    }

    @Test("completions: a completion vLLM sends whole (best_of > n) carries the same logprobs streamed as not")
    func completionBestOf() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let body = #""prompt": "Hello world", "max_tokens": 6, "n": 1, "best_of": 3, "temperature": 1, "seed": 4, "logprobs": 1"#
            let whole = try await server.client.post("v1/completions", "{\(body)}")
            let wholeChoice = try #require((try whole.json()["choices"] as? [[String: Any]])?.first)
            let stream = try await server.client.post("v1/completions", "{\(body), \"stream\": true}")
            let events = try stream.jsonEvents()
            let streamedChoice = try #require((events.first?["choices"] as? [[String: Any]])?.first)
            #expect(try Self.canonical(streamedChoice["logprobs"] ?? NSNull()) == (try Self.canonical(wholeChoice["logprobs"] ?? 0)))
        }
    }
}
