import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// Tool calls on `/v1/chat/completions` over real sockets, on the tiny random Llama (its template
/// knows no tools, so they are described in the system message and the output is constrained to
/// llama.cpp's generic format): any structure in the answer comes from the constraint.
@Suite("Tool calls over HTTP")
struct ToolCallTests {
    /// `get_weather(city, unit)`; the city is short so that the tiny model's 128-token context holds
    /// prompt and answer.
    static let weather = #"{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 6}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"]}}}"#
    static let time = #"{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"enum": ["utc", "cet"]}}, "required": ["zone"]}}}"#
    /// Runs `body` against a server over ``OpenAIFidelityTests/chatEngine()``'s model with a
    /// context of 2,048 (the tiny vocabulary spends about a token per character, and the tools'
    /// description and the call's JSON do not fit in 128; RoPE works at any position).
    static func withServer(_ body: @Sendable (TestServer) async throws -> Void) async throws {
        let (_, root) = try OpenAIFidelityTests.chatEngine()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("llama/config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: #""max_position_embeddings": 128"#, with: #""max_position_embeddings": 2048"#)
        try FileManager.default.removeItem(at: config)
        try Data(text.utf8).write(to: config)
        let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [root.path], allowsPaths: false),
                                                 defaultModel: "llama"))
        try await TestServer.with(backend: engine, body)
    }

    static let question = #""messages": [{"role": "user", "content": "Weather in Paris?"}]"#

    /// Checks one call of `get_weather`: its arguments parse and hold under the schema.
    static func checkWeatherCall(name: String?, arguments: String?, id: String?) {
        #expect(name == "get_weather")
        #expect(id?.hasPrefix("call_") == true, "\(id ?? "no id")")
        let parsed = (try? JSONSerialization.jsonObject(with: Data((arguments ?? "").utf8))) as? [String: Any]
        let city = parsed?["city"] as? String
        #expect(city != nil && city!.count <= 6, "\(arguments ?? "no arguments")")
        #expect(["celsius", "fahrenheit"].contains(parsed?["unit"] as? String), "\(arguments ?? "no arguments")")
        #expect(parsed?.count == 2, "\(arguments ?? "no arguments")")
    }

    @Test("tool_choice required: a get_weather call with valid arguments, whole and streamed")
    func required() async throws {
        try await Self.withServer { server in
            let body = #"{\#(Self.question), "tools": [\#(Self.weather)], "tool_choice": "required", "n": 2, "seed": 3, "temperature": 1}"#
            let r = try await server.client.post("v1/chat/completions", body)
            #expect(r.status == 200, "\(r.text)")
            for choice in try #require(r.json()["choices"] as? [[String: Any]]) {
                #expect(choice["finish_reason"] as? String == "tool_calls", "\(r.text)")
                let message = try #require(choice["message"] as? [String: Any])
                #expect(message["content"] is NSNull, "\(r.text)")
                let calls = try #require(message["tool_calls"] as? [[String: Any]], "\(r.text)")
                #expect(calls.count == 1)
                let function = calls.first?["function"] as? [String: Any]
                #expect(calls.first?["type"] as? String == "function")
                Self.checkWeatherCall(name: function?["name"] as? String, arguments: function?["arguments"] as? String,
                                      id: calls.first?["id"] as? String)
            }

            // Streamed: accumulated by index, as the openai client's stream helpers do.
            let streamed = try await server.client.post("v1/chat/completions", body.replacingOccurrences(of: "{\"messages\"", with: "{\"stream\": true, \"messages\""))
            #expect(streamed.status == 200)
            let (calls, finishes) = try Self.accumulate(streamed)
            #expect(finishes == [0: "tool_calls", 1: "tool_calls"], "\(streamed.text)")
            for i in 0 ..< 2 {
                let call = calls[i]?[0]
                #expect(calls[i]?.count == 1)
                Self.checkWeatherCall(name: call?.name, arguments: call?.arguments, id: call?.id)
            }
        }
    }

    /// A stream's tool calls by choice and call index, accumulated as the `openai` client's stream
    /// helpers do (the first delta of a call has its id and name, arguments concatenate), and each
    /// choice's finish reason. Tool-call streams carry no content.
    static func accumulate(_ streamed: HTTPClient.Result) throws
        -> (calls: [Int: [Int: (id: String?, name: String?, arguments: String)]], finishes: [Int: String])
    {
        var calls: [Int: [Int: (id: String?, name: String?, arguments: String)]] = [:]
        var finishes: [Int: String] = [:]
        for event in try streamed.jsonEvents() {
            for choice in event["choices"] as? [[String: Any]] ?? [] {
                let i = try #require(choice["index"] as? Int)
                let delta = choice["delta"] as? [String: Any] ?? [:]
                #expect((delta["content"] as? String ?? "").isEmpty, "\(event)")
                for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                    let k = try #require(call["index"] as? Int)
                    let function = call["function"] as? [String: Any] ?? [:]
                    var entry = calls[i, default: [:]][k] ?? (nil, nil, "")
                    entry.id = entry.id ?? call["id"] as? String
                    entry.name = entry.name ?? function["name"] as? String
                    entry.arguments += function["arguments"] as? String ?? ""
                    calls[i, default: [:]][k] = entry
                }
                if let f = choice["finish_reason"] as? String { finishes[i] = f }
            }
        }
        return (calls, finishes)
    }

    @Test("SmolLM2: get_weather with tool_choice required, whole and streamed; the follow-up turn answers in text",
          .enabled(if: SmolLM2ServerTests.modelPath != nil, SmolLM2ServerTests.skipReason))
    func smolLM2() async throws {
        try await TestServer.with(backend: try SmolLM2ServerTests.engine()) { server in
            let weather = Self.weather.replacingOccurrences(of: #", "maxLength": 6"#, with: "")
            let body = #"{"model": "SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "What is the weather in Paris?"}], "tools": [\#(weather)], "tool_choice": "required", "temperature": 0, "max_tokens": 120}"#
            let r = try await server.client.post("v1/chat/completions", body)
            #expect(r.status == 200, "\(r.text)")
            let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls", "\(r.text)")
            let call = try #require(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first, "\(r.text)")
            let function = call["function"] as? [String: Any]
            let arguments = function?["arguments"] as? String
            let parsed = (try? JSONSerialization.jsonObject(with: Data((arguments ?? "").utf8))) as? [String: Any]
            #expect(function?["name"] as? String == "get_weather")
            #expect(parsed?["city"] is String && ["celsius", "fahrenheit"].contains(parsed?["unit"] as? String), "\(r.text)")

            let streamed = try await server.client.post("v1/chat/completions", body.replacingOccurrences(of: #""temperature""#, with: #""stream": true, "temperature""#))
            let (calls, finishes) = try Self.accumulate(streamed)
            #expect(finishes == [0: "tool_calls"], "\(streamed.text)")
            #expect(calls[0]?[0]?.name == "get_weather")
            #expect(calls[0]?[0]?.arguments == arguments, "greedy: the same call streamed")

            let id = call["id"] as? String ?? "call_1"
            let follow = #"{"model": "SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "What is the weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "\#(id)", "type": "function", "function": {"name": "get_weather", "arguments": \#(JSONResponseText.quoted(arguments ?? "{}"))}}]}, {"role": "tool", "tool_call_id": "\#(id)", "content": "21 degrees, sunny"}], "tools": [\#(weather)], "tool_choice": "none", "temperature": 0, "max_tokens": 40}"#
            let answer = try await server.client.post("v1/chat/completions", follow)
            #expect(answer.status == 200, "\(answer.text)")
            let text = try #require((try answer.json()["choices"] as? [[String: Any]])?.first)
            #expect(text["finish_reason"] as? String != "tool_calls")
            #expect(((text["message"] as? [String: Any])?["content"] as? String)?.isEmpty == false, "\(answer.text)")
        }
    }

    @Test("A named function is the one called; parallel_tool_calls gives one or more calls")
    func namedAndParallel() async throws {
        try await Self.withServer { server in
            let named = #"{\#(Self.question), "tools": [\#(Self.weather), \#(Self.time)], "tool_choice": {"type": "function", "function": {"name": "get_time"}}, "seed": 5}"#
            let r = try await server.client.post("v1/chat/completions", named)
            #expect(r.status == 200, "\(r.text)")
            let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls", "\(r.text)")
            let call = ((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first
            let function = call?["function"] as? [String: Any]
            #expect(function?["name"] as? String == "get_time")
            let arguments = (function?["arguments"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
            #expect(["utc", "cet"].contains(arguments?["zone"] as? String), "\(r.text)")

            let parallel = #"{\#(Self.question), "tools": [\#(Self.time)], "tool_choice": "required", "parallel_tool_calls": true, "seed": 2}"#
            let p = try await server.client.post("v1/chat/completions", parallel)
            #expect(p.status == 200, "\(p.text)")
            let pc = try #require((try p.json()["choices"] as? [[String: Any]])?.first)
            if pc["finish_reason"] as? String == "tool_calls" {
                let calls = try #require((pc["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])
                #expect(!calls.isEmpty)
                #expect(Set(calls.compactMap { $0["id"] as? String }).count == calls.count, "ids are unique")
            } else {
                #expect(pc["finish_reason"] as? String == "length", "\(p.text)")
            }
        }
    }

    @Test("tool_choice auto: a call or a plain answer; a follow-up turn with the call and its result answers in text")
    func autoAndFollowUp() async throws {
        try await Self.withServer { server in
            for seed in 0 ..< 3 {
                let r = try await server.client.post("v1/chat/completions",
                    #"{\#(Self.question), "tools": [\#(Self.time)], "seed": \#(seed), "max_tokens": 40}"#)
                #expect(r.status == 200, "\(r.text)")
                let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
                let message = try #require(choice["message"] as? [String: Any])
                switch choice["finish_reason"] as? String {
                case "tool_calls": #expect(message["tool_calls"] is [[String: Any]])
                case "stop": #expect(message["content"] is String && message["tool_calls"] == nil, "\(r.text)")
                default: #expect(choice["finish_reason"] as? String == "length", "\(r.text)")
                }
            }
            let history = #"""
                "messages": [{"role": "user", "content": "Weather in Paris?"},
                             {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},
                             {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees"}]
                """#
            for choice in [#""tool_choice": "none""#, #""tool_choice": "auto""#] {
                for stream in [false, true] {
                    let r = try await server.client.post("v1/chat/completions",
                        #"{\#(history), "tools": [\#(Self.weather)], \#(choice), "seed": 1, "max_tokens": 12, "stream": \#(stream)}"#)
                    #expect(r.status == 200, "\(choice): \(r.text)")
                    if stream {
                        let events = try r.jsonEvents()
                        let finish = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }.last
                        #expect(["stop", "length", "tool_calls"].contains(finish), "\(r.text)")
                    } else {
                        let c = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
                        let finish = c["finish_reason"] as? String
                        if choice.contains("none") || finish != "tool_calls" {
                            #expect((c["message"] as? [String: Any])?["content"] is String, "\(r.text)")
                        }
                        if choice.contains("none") { #expect(finish != "tool_calls") }
                    }
                }
            }
        }
    }

    @Test("Bad tools and tool_choice get 400 naming the field")
    func badRequests() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let messages = #""messages": [{"role": "user", "content": "x"}], "mock_response": true"#
            let cases: [(String, String)] = [
                (#""tools": [\#(Self.weather)], "tool_choice": {"type": "function", "function": {"name": "nope"}}"#, "tool_choice"),
                (#""tools": [\#(Self.weather)], "tool_choice": "sometimes""#, "tool_choice"),
                (#""tool_choice": "required""#, "tools"),
                (#""tools": [{"type": "retrieval"}]"#, "tools[0].type"),
                (#""tools": [{"type": "function", "function": {"description": "no name"}}]"#, "tools[0].function.name"),
                (#""tools": [\#(Self.weather), {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"allOf": []}}}}}]"#, "tools[1].function.parameters"),
                (#""tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]"#, "tools[0].function.parameters"),
                (#""tools": "get_weather""#, "tools"),
                (#""tools": [\#(Self.weather)], "response_format": {"type": "json_object"}"#, "response_format"),
                (#""functions": [{"name": "f"}]"#, "functions"),
            ]
            for (field, param) in cases {
                let r = try await server.client.post("v1/chat/completions", "{\(messages), \(field)}")
                #expect(r.status == 400, "\(param): \(r.text.prefix(300))")
                #expect(try r.error()["param"] as? String == param, "\(r.text.prefix(300))")
            }
            let badCall = try await server.client.post("v1/chat/completions",
                #"{"mock_response": true, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}]}"#)
            #expect(badCall.status == 400)
            #expect(try badCall.error()["param"] as? String == "messages[1].tool_calls")
            // tool_choice none with tools, and auto without tools, are plain requests.
            for field in [#""tools": [\#(Self.weather)], "tool_choice": "none""#, #""tool_choice": "auto""#] {
                let r = try await server.client.post("v1/chat/completions", "{\(messages), \(field)}")
                #expect(r.status == 200, "\(field): \(r.text)")
            }
        }
    }
}

/// JSON string literals for request bodies built as text.
enum JSONResponseText {
    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data(#""""#.utf8), as: UTF8.self)
    }
}
