import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// Status codes and messages the connection layer does not decide: 405 with `Allow`, JSON 404s,
/// bodies that are `null`, and token-id prompts.
@Suite("Status codes")
struct StatusCodeTests {
    /// The tiny random Llama of `Fixtures/transformer`, served by name.
    static func tinyEngine() -> Engine {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/transformer")
        return Engine(configuration: .init(registry: ModelRegistry(roots: [fixtures.path], allowsPaths: false),
                                           defaultModel: "llama-q8_0"))
    }

    static func request(_ server: TestServer, _ method: String, _ path: String, body: String = "") async throws -> RawConnection.Reading {
        let connection = try RawConnection(port: server.client.base.port ?? 0)
        try await connection.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return try await connection.readResponse(within: 30 * TimeScale.factor)
    }

    @Test("a wrong method on a known path gets 405 with Allow and a JSON error; an unknown path a JSON 404")
    func methodNotAllowed() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let cases: [(String, String, String)] = [
                ("POST", "/health", "GET"), ("DELETE", "/v1/models", "GET"), ("GET", "/v1/completions", "POST"),
                ("PUT", "/v1/chat/completions", "POST"), ("GET", "/v1/generate", "POST"),
            ]
            for (method, path, allowed) in cases {
                let r = try await Self.request(server, method, path)
                #expect(r.status == 405, "\(method) \(path): \(r.text)")
                #expect(r.headers["allow"] == allowed)
                let error = try #require(try r.json()["error"] as? [String: Any])
                #expect(error["code"] as? String == "method_not_allowed")
                #expect((error["message"] as? String)?.contains(method) == true)
            }
            let missing = try await Self.request(server, "GET", "/v1/nothing")
            #expect(missing.status == 404)
            #expect((try missing.json()["error"] as? [String: Any])?["code"] as? String == "not_found")
        }
    }

    @Test("a null body gets a message that names no Swift type")
    func nullBody() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for path in ErrorTests.endpoints {
                let r = try await server.client.post(path, "null")
                let error = try ErrorTests.expectError(r, status: 400, param: nil)
                let message = error["message"] as? String ?? ""
                for swiftName in ["Dictionary", "DecodingError", "Swift", "Expected value of type", "GenerateRequest"] {
                    #expect(!message.contains(swiftName), "\(path): \(message)")
                }
            }
        }
    }

    @Test("completions take token-id prompts; a batch of prompts is a clear 400")
    func tokenIDPrompts() async throws {
        try await TestServer.with(backend: Self.tinyEngine()) { server in
            for prompt in ["[1, 2, 3]", "[[1, 2, 3]]"] {
                let r = try await server.client.post("v1/completions", #"{"prompt": \#(prompt), "max_tokens": 4, "seed": 1}"#)
                #expect(r.status == 200, "\(r.text)")
                let body = try r.json()
                #expect((body["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 3, "\(r.text)")
                #expect((body["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4, "\(r.text)")
            }
            // The same ids as text and as ids: the same greedy continuation.
            let stream = try await server.client.post("v1/completions", #"{"prompt": [1, 2, 3], "max_tokens": 4, "stream": true, "temperature": 0}"#)
            #expect(stream.status == 200, "\(stream.text)")
            #expect(stream.events.last == "[DONE]")

            let cases: [(String, String)] = [
                (#"{"prompt": [[1, 2], [3, 4]]}"#, "batches"),
                (#"{"prompt": ["a", "b"]}"#, "batches"),
                (#"{"prompt": [1, 99999999]}"#, "outside the vocabulary"),
                (#"{"prompt": [1, -2]}"#, "negative"),
                (#"{"prompt": [1, "a"]}"#, "token ids"),
                (#"{"prompt": [1, 2], "echo": true}"#, "echo"),
            ]
            for (body, words) in cases {
                let r = try await server.client.post("v1/completions", body)
                #expect(r.status == 400, "\(body): \(r.text)")
                let message = (try r.error()["message"] as? String) ?? ""
                #expect(message.contains(words), "\(body): \(message)")
            }
        }
    }
}

/// `--api-key`: requests need `Authorization: Bearer KEY`; `/health` does not.
@Suite("API keys")
struct APIKeyTests {
    static func request(_ server: TestServer, _ method: String, _ path: String, authorization: String?,
                        body: String = "") async throws -> RawConnection.Reading {
        let connection = try RawConnection(port: server.client.base.port ?? 0)
        let header = authorization.map { "Authorization: \($0)\r\n" } ?? ""
        try await connection.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(header)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return try await connection.readResponse(within: 30 * TimeScale.factor)
    }

    @Test("a listed key is accepted, any other or none is a 401 in OpenAI's shape, and /health stays open")
    func keys() async throws {
        let configuration = SparrowServer.Configuration(apiKeys: ["sk-first", "sk-second-longer"])
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let body = #"{"prompt": "hi", "mock_response": true}"#
            for key in ["sk-first", "sk-second-longer"] {
                for scheme in ["Bearer", "bearer"] {
                    let r = try await Self.request(server, "POST", "/v1/completions", authorization: "\(scheme) \(key)", body: body)
                    #expect(r.status == 200, "\(r.text)")
                }
                #expect(try await Self.request(server, "GET", "/v1/models", authorization: "Bearer \(key)").status == 200)
            }
            let refusals: [(String?, String)] = [
                (nil, "missing_api_key"), ("Bearer sk-firs", "invalid_api_key"), ("Bearer sk-first-", "invalid_api_key"),
                ("Bearer ", "invalid_api_key"), ("Basic c2stZmlyc3Q=", "invalid_api_key"), ("sk-first", "invalid_api_key"),
                ("Bearer SK-FIRST", "invalid_api_key"),
            ]
            for (authorization, code) in refusals {
                for (method, path) in [("POST", "/v1/completions"), ("GET", "/v1/models"), ("POST", "/v1/generate")] {
                    let r = try await Self.request(server, method, path, authorization: authorization, body: body)
                    #expect(r.status == 401, "\(authorization ?? "none") \(path): \(r.text)")
                    #expect(r.headers["www-authenticate"] == "Bearer")
                    let error = try #require(try r.json()["error"] as? [String: Any])
                    #expect(error["code"] as? String == code, "\(authorization ?? "none"): \(error)")
                    #expect(error["type"] as? String == "invalid_request_error")
                    #expect((error["message"] as? String)?.contains("sk-first") == false)
                }
            }
            let health = try await Self.request(server, "GET", "/health", authorization: nil)
            #expect(health.status == 200)
        }
    }

    @Test("digests compare equal only for the same key")
    func constantTimeMatch() {
        let digest = { (key: String) in RequestGate<ServerRequestContext>(routes: [:], apiKeys: [key]).keyDigests[0] }
        #expect(RequestGate<ServerRequestContext>.matches(digest("a"), [digest("b"), digest("a")]))
        #expect(!RequestGate<ServerRequestContext>.matches(digest("a"), [digest("b"), digest("c")]))
        #expect(!RequestGate<ServerRequestContext>.matches(digest("a"), []))
    }
}

/// `--cors-origin`: preflights and response headers as the Fetch standard has them.
@Suite("CORS")
struct CORSTests {
    static let page = "http://app.example"

    static func send(_ server: TestServer, _ head: String, body: String = "") async throws -> RawConnection.Reading {
        let connection = try RawConnection(port: server.client.base.port ?? 0)
        try await connection.send("\(head)Host: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return try await connection.readResponse(within: 30 * TimeScale.factor)
    }

    @Test("a preflight from a listed origin gets 204 with the path's methods and the asked headers, without a key; others 403")
    func preflight() async throws {
        let configuration = SparrowServer.Configuration(apiKeys: ["sk-k"], corsOrigins: [Self.page, "https://other.example"])
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let r = try await Self.send(server, "OPTIONS /v1/chat/completions HTTP/1.1\r\nOrigin: \(Self.page)\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n")
            #expect(r.status == 204, "\(r.text)")
            #expect(r.headers["access-control-allow-origin"] == Self.page)
            #expect(r.headers["access-control-allow-methods"]?.contains("POST") == true)
            #expect(r.headers["access-control-allow-headers"] == "authorization, content-type")
            #expect(r.headers["access-control-max-age"] != nil)
            #expect(r.headers["vary"] == "Origin")

            let refused = try await Self.send(server, "OPTIONS /v1/chat/completions HTTP/1.1\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n")
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused.headers["access-control-allow-origin"] == nil)
        }
    }

    @Test("a streamed cross-origin chat carries Access-Control-Allow-Origin, and so does a 401; other origins get none")
    func streamedResponse() async throws {
        let configuration = SparrowServer.Configuration(apiKeys: ["sk-k"], corsOrigins: [Self.page])
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let body = #"{"messages": [{"role": "user", "content": "hi"}], "stream": true, "mock_response": true}"#
            let connection = try RawConnection(port: server.client.base.port ?? 0)
            try await connection.send("POST /v1/chat/completions HTTP/1.0\r\nOrigin: \(Self.page)\r\nAuthorization: Bearer sk-k\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let stream = try await connection.readToEnd(within: 30 * TimeScale.factor)
            #expect(stream.status == 200, "\(stream.text)")
            #expect(stream.headers["access-control-allow-origin"] == Self.page)
            #expect(stream.headers["vary"] == "Origin")
            #expect(stream.body.hasSuffix("data: [DONE]\n\n"))

            let unauthorized = try await Self.send(server, "POST /v1/chat/completions HTTP/1.1\r\nOrigin: \(Self.page)\r\nContent-Type: application/json\r\n", body: body)
            #expect(unauthorized.status == 401)
            #expect(unauthorized.headers["access-control-allow-origin"] == Self.page)

            let other = try await Self.send(server, "GET /health HTTP/1.1\r\nOrigin: http://evil.example\r\n")
            #expect(other.status == 200)
            #expect(other.headers["access-control-allow-origin"] == nil)
        }
    }

    @Test("with *, any origin gets * and no Vary; without --cors-origin there are no CORS headers")
    func wildcardAndNone() async throws {
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: .init(corsOrigins: ["*"])) { server in
            let r = try await Self.send(server, "GET /v1/models HTTP/1.1\r\nOrigin: http://anywhere.example\r\n")
            #expect(r.headers["access-control-allow-origin"] == "*")
            #expect(r.headers["vary"] == nil)
            let preflight = try await Self.send(server, "OPTIONS /v1/completions HTTP/1.1\r\nOrigin: http://anywhere.example\r\nAccess-Control-Request-Method: POST\r\n")
            #expect(preflight.status == 204)
            #expect(preflight.headers["access-control-allow-origin"] == "*")
        }
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await Self.send(server, "GET /v1/models HTTP/1.1\r\nOrigin: http://anywhere.example\r\n")
            #expect(r.status == 200)
            #expect(r.headers["access-control-allow-origin"] == nil)
            let preflight = try await Self.send(server, "OPTIONS /v1/completions HTTP/1.1\r\nOrigin: http://anywhere.example\r\nAccess-Control-Request-Method: POST\r\n")
            #expect(preflight.status == 405)
        }
    }
}
