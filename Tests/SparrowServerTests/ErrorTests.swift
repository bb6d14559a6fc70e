import Foundation
import GenerateAPI
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import SparrowServer

/// Bad input gets a 4xx with OpenAI's error body, never a 500.
@Suite("Errors")
struct ErrorTests {
    static let endpoints = ["v1/generate", "v1/completions", "v1/chat/completions"]

    /// Checks the OpenAI error shape and returns its `param`.
    @discardableResult
    static func expectError(_ r: HTTPClient.Result, status: Int, type: String = "invalid_request_error",
                            param: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        let error = try r.error()
        #expect(error["type"] as? String == type, sourceLocation: sourceLocation)
        #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error["param"] as? String == param, "\(r.text)", sourceLocation: sourceLocation)
        return error
    }

    @Test("malformed JSON and non-objects: 400 without a param")
    func malformed() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for path in Self.endpoints {
                for body in [#"{"prompt": "#, "[1, 2]", "", "null", "\"text\""] {
                    let r = try await server.client.post(path, body)
                    try Self.expectError(r, status: 400, param: nil)
                }
            }
        }
    }

    @Test("wrong types name the field")
    func wrongTypes() async throws {
        let cases: [(String, String, String)] = [
            ("v1/generate", #"{"prompt": "hi", "temperature": "hot", "mock_response": true}"#, "temperature"),
            ("v1/generate", #"{"prompt": 5, "mock_response": true}"#, "prompt"),
            ("v1/generate", #"{"prompt": "hi", "stop": [1], "mock_response": true}"#, "stop"),
            ("v1/generate", #"{"prompt": "hi", "seed": 0.5, "mock_response": true}"#, "seed"),
            ("v1/generate", #"{"prompt": "hi", "early_stopping": "sometimes", "mock_response": true}"#, "early_stopping"),
            ("v1/completions", #"{"prompt": "hi", "max_tokens": "many", "mock_response": true}"#, "max_tokens"),
            ("v1/completions", #"{"prompt": [[1], [2]], "mock_response": true}"#, "prompt"),
            ("v1/completions", #"{"prompt": "hi", "logprobs": true, "mock_response": true}"#, "logprobs"),
            ("v1/completions", #"{"prompt": "hi", "logit_bias": {"50256": -100}, "mock_response": true}"#, "logit_bias"),
            ("v1/chat/completions", #"{"messages": "hi", "mock_response": true}"#, "messages"),
            ("v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}"#, "stream"),
            ("v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "top_p": [1]}"#, "top_p"),
            ("v1/chat/completions", #"{"messages": [{"content": "hi"}], "mock_response": true}"#, "messages[0].role"),
            ("v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}"#, "tools[0].function"),
        ]
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for (path, body, field) in cases {
                let r = try await server.client.post(path, body)
                try Self.expectError(r, status: 400, param: field)
            }
        }
    }

    @Test("the engine's limits: 400 naming the field")
    func limits() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/generate", #"{"prompt": "hi", "n": 1000, "mock_response": true}"#)
            try Self.expectError(r, status: 400, param: "n")
            let s = try await server.client.post("v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "hi"}], "best_of": 500, "n": 1, "stream": true, "mock_response": true}"#)
            try Self.expectError(s, status: 400, param: "best_of")
        }
    }

    /// Sampling's value checks (temperature >= 0, top_p in (0, 1], ...) land with the sampling
    /// branch; until then `validate()` accepts everything and this test is skipped.
    static let valueChecksImplemented: Bool = (try? GenerateRequest(temperature: -1).validate()) == nil

    @Test("invalid values: 400 naming the field",
          .enabled(if: valueChecksImplemented, "SKIPPED: SamplingParameters.validate() is not merged yet"))
    func invalidValues() async throws {
        let cases: [(String, String)] = [
            (#""temperature": -1"#, "temperature"),
            (#""top_p": 0"#, "top_p"),
            (#""max_tokens": 0"#, "max_tokens"),
            (#""presence_penalty": 3"#, "presence_penalty"),
            (#""min_p": 2"#, "min_p"),
        ]
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for (field, name) in cases {
                let r = try await server.client.post("v1/generate", #"{"prompt": "hi", "mock_response": true, \#(field)}"#)
                try Self.expectError(r, status: 400, param: name)
                let c = try await server.client.post("v1/chat/completions",
                    #"{"messages": [{"role": "user", "content": "hi"}], "stream": true, "mock_response": true, \#(field)}"#)
                try Self.expectError(c, status: 400, param: name)
            }
        }
    }

    @Test("an unknown model: 404 model_not_found on every endpoint, streamed or not")
    func unknownModel() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let bodies = [
                "v1/generate": #"{"model": "no-such-model", "prompt": "hi", "stream": STREAM}"#,
                "v1/completions": #"{"model": "no-such-model", "prompt": "hi", "stream": STREAM}"#,
                "v1/chat/completions": #"{"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}], "stream": STREAM}"#,
            ]
            for (path, body) in bodies {
                for stream in ["false", "true"] {
                    let r = try await server.client.post(path, body.replacingOccurrences(of: "STREAM", with: stream))
                    let error = try Self.expectError(r, status: 404, param: "model")
                    #expect(error["code"] as? String == "model_not_found")
                }
            }
            // A path is not a model name when clients may not name files.
            let r = try await server.client.post("v1/generate", #"{"model": "/etc/passwd", "prompt": "hi"}"#)
            try Self.expectError(r, status: 404, param: "model")
            // vLLM's server checks the model (_check_model) before the fields: 404 before 400.
            let both = try await server.client.post(
                "v1/chat/completions", #"{"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}], "temperature": -1}"#)
            try Self.expectError(both, status: 404, param: "model")
        }
    }

    @Test("a body over the limit: 413, with or without Content-Length")
    func bodyTooLarge() async throws {
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: .init(maxBodyBytes: 4096)) { server in
            let prompt = String(repeating: "word ", count: 2000)
            let body = #"{"prompt": "\#(prompt)", "mock_response": true}"#
            for path in Self.endpoints {
                let r = try await server.client.post(path, body)
                let error = try Self.expectError(r, status: 413, param: nil)
                #expect(error["code"] as? String == "body_too_large")
            }
            // A chunked upload declares no length: the limit applies while reading.
            var request = URLRequest(url: server.client.base.appendingPathComponent("v1/generate"))
            request.httpMethod = "POST"
            request.httpBodyStream = InputStream(data: Data(body.utf8))
            let (data, response) = try await server.client.session.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 413, "\(String(decoding: data, as: UTF8.self))")
            // Under the limit is fine.
            let small = try await server.client.post("v1/generate", #"{"prompt": "hi", "mock_response": true}"#)
            #expect(small.status == 200)
        }
    }

    @Test("no bad body yields a 5xx; every refusal has an error body")
    func neverServerError() async throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let bodies = [
            "{}", "[]", "0", "true", deep, #"{"prompt": null}"#, #"{"messages": []}"#, #"{"messages": [{}]}"#,
            #"{"messages": [{"role": "wizard", "content": "x"}]}"#, #"{"prompt": "x", "max_tokens": -1}"#,
            #"{"prompt": "x", "seed": 1.5}"#, #"{"prompt": "x", "n": 0, "best_of": -3}"#, #"{"prompt": "x", "prompt": 3}"#,
            #"{"prompt": "x", "formatted_prompt": "y"}"#, #"{"prompt": "\ud800"}"#, #"{"prompt": "x", "temperature": 1e999}"#,
            #"{"stream_options": 3, "prompt": "x", "messages": [{"role": "user", "content": "x"}]}"#,
        ]
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for path in Self.endpoints {
                for body in bodies {
                    for mock in [false, true] {
                        var data = body
                        if mock, body.hasPrefix("{"), body.count > 2 { data = "{\"mock_response\": true, " + body.dropFirst() }
                        let r = try await server.client.post(path, data)
                        // A mock response does not look at the prompt, so some of these are answered.
                        #expect(r.status == 200 || (400..<500).contains(r.status), "\(path) \(data.prefix(80)): \(r.status) \(r.text)")
                        if r.status != 200 { #expect((try? r.error()) != nil, "\(path) \(data.prefix(80)): \(r.text)") }
                    }
                }
            }
        }
    }
}
