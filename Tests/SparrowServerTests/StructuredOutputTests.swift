import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// Constrained output over real sockets: each request field on its endpoint, on the tiny random
/// Llama (so any structure in the answer comes from the mask), and the 400s that name the field.
@Suite("Structured output over HTTP")
struct StructuredOutputTests {
    static let schema = #"{"type": "object", "properties": {"ok": {"type": "boolean"}, "k": {"enum": ["a", "b"]}}, "required": ["ok", "k"]}"#

    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func checkSchemaOutput(_ text: String, finish: String?) {
        guard finish == "stop" else { return }  // only the length limit may cut an output short
        let o = object(text)
        #expect(o?["ok"] is Bool, "\(text)")
        #expect(["a", "b"].contains(o?["k"] as? String), "\(text)")
    }

    @Test("response_format json_schema and json_object on /v1/chat/completions, streamed and whole")
    func chat() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let format = #"{"type": "json_schema", "json_schema": {"name": "r", "strict": true, "schema": \#(Self.schema)}}"#
            let body = #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 80, "n": 2, "seed": 4, "response_format": \#(format)}"#
            let r = try await server.client.post("v1/chat/completions", body)
            #expect(r.status == 200, "\(r.text)")
            for choice in try #require(r.json()["choices"] as? [[String: Any]]) {
                let message = try #require(choice["message"] as? [String: Any])
                Self.checkSchemaOutput(message["content"] as? String ?? "", finish: choice["finish_reason"] as? String)
            }
            let streamed = try await server.client.post("v1/chat/completions", body.replacingOccurrences(of: "{\"messages\"", with: "{\"stream\": true, \"messages\""))
            #expect(streamed.status == 200)
            var texts = ["", ""], finishes: [String?] = [nil, nil]
            for event in try streamed.jsonEvents() {
                for choice in event["choices"] as? [[String: Any]] ?? [] {
                    let i = choice["index"] as? Int ?? 0
                    texts[i] += (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
                    if let f = choice["finish_reason"] as? String { finishes[i] = f }
                }
            }
            for i in 0 ..< 2 { Self.checkSchemaOutput(texts[i], finish: finishes[i]) }
            let any = try await server.client.post("v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100, "seed": 1, "response_format": {"type": "json_object"}}"#)
            #expect(any.status == 200)
            let choice = try #require((try any.json()["choices"] as? [[String: Any]])?.first)
            if choice["finish_reason"] as? String == "stop" {
                #expect(Self.object((choice["message"] as? [String: Any])?["content"] as? String ?? "") != nil)
            }
        }
    }

    @Test("guided_choice, guided_regex, guided_grammar, grammar and json_schema on /v1/generate and /v1/completions")
    func vllmAndLlamaFields() async throws {
        try await OpenAIFidelityTests.withServer { server in
            let cases: [(String, String, (String) -> Bool)] = [
                (#""guided_choice": ["alpha", "beta"]"#, "v1/generate", { ["alpha", "beta"].contains($0) }),
                (#""guided_regex": "[0-9]{3}-[a-z]{2}""#, "v1/completions", { $0.range(of: #"^[0-9]{3}-[a-z]{2}$"#, options: .regularExpression) != nil }),
                (#""guided_grammar": "root ::= \"<\" [xy]+ \">\"""#, "v1/generate", { $0.range(of: #"^<[xy]+>$"#, options: .regularExpression) != nil }),
                (#""grammar": "root ::= (\"a\" | \"b\"){2}""#, "v1/completions", { ["aa", "ab", "ba", "bb"].contains($0) }),
                (#""json_schema": \#(Self.schema)"#, "v1/generate", { Self.object($0)?["ok"] is Bool }),
                (#""guided_json": \#(Self.schema)"#, "v1/completions", { Self.object($0)?["ok"] is Bool }),
            ]
            for (field, path, valid) in cases {
                let r = try await server.client.post(path, #"{"prompt": "Q:", "max_tokens": 60, "seed": 9, "temperature": 1, \#(field)}"#)
                #expect(r.status == 200, "\(field): \(r.text)")
                let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
                let text = choice["text"] as? String ?? ""
                #expect(choice["finish_reason"] as? String == "stop", "\(field): \(text)")
                #expect(valid(text), "\(field): \(text.debugDescription)")
            }
        }
    }

    @Test("Bad constraints get 400 naming the field, before any model work")
    func badRequests() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let cases: [(String, String, String)] = [
                ("v1/generate", #""guided_grammar": "root ::= root \"a\"""#, "guided_grammar"),
                ("v1/generate", #""grammar": "root ::= missing""#, "grammar"),
                ("v1/generate", #""guided_regex": "(ab""#, "guided_regex"),
                ("v1/generate", #""guided_json": {"type": "nope"}"#, "guided_json"),
                ("v1/generate", #""guided_choice": "x""#, "guided_choice"),
                ("v1/generate", #""guided_choice": ["a"], "guided_regex": "a""#, "guided_regex"),
                ("v1/completions", #""response_format": {"type": "yaml"}"#, "response_format"),
                ("v1/completions", #""json_schema": {"allOf": []}"#, "json_schema"),
                ("v1/generate", #""guided_grammar": "root ::= \#(String(repeating: "(", count: 5000))\"a\"\#(String(repeating: ")", count: 5000))""#, "guided_grammar"),
                ("v1/generate", #""guided_choice": [\#((0 ..< 10_000).map { "\"c\($0)\"" }.joined(separator: ","))]"#, "guided_choice"),
                ("v1/generate", #""guided_regex": "\#(String(repeating: "(a|b)", count: 250_000))""#, "guided_regex"),
                ("v1/generate", #""guided_choice": ["a"], "use_beam_search": true, "best_of": 2, "temperature": 0"#, "guided_choice"),
            ]
            for (path, field, param) in cases {
                let clock = ContinuousClock(), start = clock.now
                let r = try await server.client.post(path, #"{"prompt": "x", "mock_response": true, \#(field)}"#)
                #expect(r.status == 400, "\(param): \(r.text.prefix(300))")
                #expect(try r.error()["param"] as? String == param, "\(r.text.prefix(300))")
                // Milliseconds alone. On 2 cores the other suites can hold this test's task for many
                // seconds, so the wall-clock bound only catches a runaway; ConstraintRequestTests bounds
                // the CPU time of the same refusals.
                #expect(clock.now - start < .seconds(60 * TimeScale.factor), "\(param) took \(clock.now - start)")
            }
            let chat = try await server.client.post("v1/chat/completions",
                ##"{"messages": [{"role": "user", "content": "x"}], "mock_response": true, "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}}}}"##)
            #expect(chat.status == 400)
            #expect(try chat.error()["param"] as? String == "response_format")
            // 10k nested arrays in the body: refused whole.
            let nested = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            let deep = try await server.client.post("v1/generate", #"{"prompt": "x", "mock_response": true, "guided_json": {"enum": \#(nested)}}"#)
            #expect(deep.status == 400)
        }
    }
}
