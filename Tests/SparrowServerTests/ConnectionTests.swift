import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// The connection layer against hostile and old clients, over raw sockets: timeouts, the
/// connection cap, early 413s, half-closure and HTTP/1.0.
@Suite("Connections", .serialized)
struct ConnectionTests {
    /// Short limits so the tests wait seconds, not minutes; bounds below are scaled for slow builds.
    static func limits(header: Double = 30, body: Double = 30, idle: Double = 30, maxConnections: Int = 512) -> ConnectionLimits {
        ConnectionLimits(headerTimeout: TimeScale.seconds(header), bodyTimeout: TimeScale.seconds(body),
                         idleTimeout: TimeScale.seconds(idle), maxConnections: maxConnections)
    }

    static func port(_ server: TestServer) -> Int { server.client.base.port ?? 0 }

    static func errorCode(_ reading: RawConnection.Reading) throws -> String? {
        (try reading.json()["error"] as? [String: Any])?["code"] as? String
    }

    @Test("a slowloris head (a byte at a time) is answered 408 and closed within the header timeout")
    func slowloris() async throws {
        let configuration = SparrowServer.Configuration(connections: Self.limits(header: 1))
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let connection = try RawConnection(port: Self.port(server))
            let head = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8)
            // Trickles for longer than the timeout; sending stops failing quietly once the server closes.
            let trickle = Task {
                for byte in head + Array(repeating: UInt8(ascii: "a"), count: 100) {
                    try await connection.send([byte])
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let reading = try await connection.readToEnd(within: 30 * TimeScale.factor)
            trickle.cancel()
            // The header timeout counts from the head's first byte.
            let elapsed = reading.endedAt.timeIntervalSince(try #require(connection.sendTimesSeen.first))
            #expect(reading.closed, "the connection stayed open: \(reading.text)")
            #expect(reading.status == 408, "\(reading.text)")
            #expect(try Self.errorCode(reading) == "header_timeout")
            #expect(reading.headers["connection"] == "close")
            #expect(elapsed >= 0.9 && elapsed < 1 + 5 * TimeScale.factor, "closed after \(elapsed) s")
        }
    }

    @Test("a body that stops half-way is answered 408 and closed within the body timeout")
    func partialBody() async throws {
        let configuration = SparrowServer.Configuration(connections: Self.limits(body: 1))
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let connection = try RawConnection(port: Self.port(server))
            try await connection.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\": ")
            let reading = try await connection.readToEnd(within: 30 * TimeScale.factor)
            // The body timeout counts from the head, sent in one piece with the body's start.
            let elapsed = reading.endedAt.timeIntervalSince(try #require(connection.sendTimesSeen.first))
            #expect(reading.closed)
            #expect(reading.status == 408, "\(reading.text)")
            #expect(try Self.errorCode(reading) == "body_timeout")
            #expect(elapsed >= 0.9 && elapsed < 1 + 5 * TimeScale.factor, "closed after \(elapsed) s")
        }
    }

    @Test("idle connections, new or kept alive after a response, are closed after the idle timeout")
    func idle() async throws {
        let configuration = SparrowServer.Configuration(connections: Self.limits(idle: 1))
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let silent = try RawConnection(port: Self.port(server))
            let keptAlive = try RawConnection(port: Self.port(server))
            let start = Date()
            try await keptAlive.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try await keptAlive.readResponse(within: 30 * TimeScale.factor)
            #expect(first.status == 200)
            #expect(!first.closed, "a keep-alive connection closed after its first response")
            for connection in [silent, keptAlive] {
                let reading = try await connection.readToEnd(within: 30 * TimeScale.factor)
                // Idle from the connection (silent) or from the answer to the request it sent.
                let elapsed = reading.endedAt.timeIntervalSince(connection.sendTimesSeen.last ?? start)
                #expect(reading.closed, "still open after \(elapsed) s")
                #expect(elapsed < 1 + 5 * TimeScale.factor, "closed after \(elapsed) s")
            }
        }
    }

    @Test("connections over the cap are answered 503 and closed; /health answers once one closes")
    func connectionCap() async throws {
        let configuration = SparrowServer.Configuration(connections: Self.limits(maxConnections: 3))
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let port = Self.port(server)
            var open: [RawConnection] = []
            for _ in 0..<3 { open.append(try RawConnection(port: port)) }
            #expect(await TestServer.eventually(10) { server.server.connectionCounter.current == 3 })
            let over = try RawConnection(port: port)
            try await over.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = try await over.readToEnd(within: 30 * TimeScale.factor)
            #expect(refused.closed)
            #expect(refused.status == 503, "\(refused.text)")
            #expect(try Self.errorCode(refused) == "too_many_connections")
            #expect(refused.headers["retry-after"] != nil)

            open.removeLast().close()
            #expect(await TestServer.eventually(10) { server.server.connectionCounter.current == 2 })
            let health = try RawConnection(port: port)
            try await health.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await health.readResponse(within: 30 * TimeScale.factor).status == 200)
        }
    }

    @Test("a declared body over the limit gets 413 with Connection: close while the client is still sending it")
    func earlyPayloadTooLarge() async throws {
        let configuration = SparrowServer.Configuration(maxBodyBytes: 1 << 20)
        try await TestServer.with(backend: TestServer.mockEngine(), configuration: configuration) { server in
            let connection = try RawConnection(port: Self.port(server))
            let size = 20 << 20
            let start = Date()
            // As Python's urllib does: the whole body is sent before the answer is read.
            try await connection.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n")
            try await connection.send([UInt8](repeating: UInt8(ascii: " "), count: size))
            let reading = try await connection.readToEnd(within: 30 * TimeScale.factor)
            let elapsed = reading.endedAt.timeIntervalSince(start)
            #expect(reading.status == 413, "\(reading.text)")
            #expect(reading.headers["connection"] == "close")
            #expect(try Self.errorCode(reading) == "body_too_large")
            #expect(reading.closed)
            #expect(elapsed < 10 * TimeScale.factor, "took \(elapsed) s")
        }
    }

    @Test("a client that half-closes after a complete request gets its answer, not a cancellation")
    func halfClose() async throws {
        let backend = SlowBackend(tokens: 20, tokenSeconds: 0.02)
        try await TestServer.with(backend: backend) { server in
            for body in [ConcurrencyTests.body, ConcurrencyTests.streamBody] {
                let connection = try RawConnection(port: Self.port(server))
                try await connection.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                connection.shutdownWrite()
                let reading = try await connection.readToEnd(within: 60 * TimeScale.factor)
                #expect(reading.closed)
                #expect(reading.status == 200, "\(reading.text)")
                #expect(reading.text.contains(#""finish_reason""#), "\(reading.text.suffix(300))")
            }
            // `finished` counts generations that ran to their end: a cancelled one stops early. (Its
            // `cancelled` count is no witness here: the whole answer's reader drops SlowBackend's
            // stream at the last event, which can count as a cancellation before the stream ends.)
            #expect(await backend.record.finished == 2)
        }
    }

    @Test("HTTP/1.0 gets HTTP/1.0 answers without chunked encoding, ended by closing, whole or streamed")
    func http10() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let health = try RawConnection(port: Self.port(server))
            try await health.send("GET /health HTTP/1.0\r\n\r\n")
            let whole = try await health.readToEnd(within: 30 * TimeScale.factor)
            #expect(whole.closed, "an HTTP/1.0 connection stayed open")
            #expect(whole.statusLine.hasPrefix("HTTP/1.0 200"), "\(whole.text)")
            #expect(try whole.json()["status"] as? String == "ok")

            let body = #"{"prompt": "hi", "max_tokens": 5, "stream": true, "mock_response": true}"#
            let stream = try RawConnection(port: Self.port(server))
            try await stream.send("POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let streamed = try await stream.readToEnd(within: 30 * TimeScale.factor)
            #expect(streamed.closed, "an HTTP/1.0 stream stayed open")
            #expect(streamed.statusLine.hasPrefix("HTTP/1.0 200"), "\(streamed.text)")
            #expect(streamed.headers["transfer-encoding"] == nil)
            #expect(streamed.headers["connection"] == "close")
            // Unchunked: the events follow the head directly, and the last is [DONE].
            #expect(streamed.body.hasPrefix("data: {"), "\(streamed.body.prefix(200))")
            #expect(streamed.body.hasSuffix("data: [DONE]\n\n"), "\(streamed.body.suffix(200))")
        }
    }

    @Test("HTTP/1.1 keeps the connection for a second request")
    func keepAlive() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let connection = try RawConnection(port: Self.port(server))
            for _ in 0..<2 {
                try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                let reading = try await connection.readResponse(within: 30 * TimeScale.factor)
                #expect(reading.statusLine.hasPrefix("HTTP/1.1 200"))
                #expect(!reading.closed)
            }
        }
    }

    @Test("an oversized target gets 414 and oversized headers 431, with JSON error bodies")
    func oversizedHeads() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let limits = ConnectionLimits()
            let cases: [(String, Int, String)] = [
                // Over the target limit, within NIO's head limit: refused on the parsed head.
                ("GET /health?q=\(String(repeating: "a", count: limits.maxURLBytes)) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
                // Over NIO's head limit while still in the request line.
                ("GET /health?q=\(String(repeating: "a", count: 4 * limits.maxHeaderBytes)) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
                ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 2 * limits.maxHeaderBytes))\r\n\r\n", 431, "headers_too_large"),
                ("GET /health HTTP/1.1\r\nHost: x\r\n" + (0..<200).map { "X-Many-\($0): \(String(repeating: "c", count: 200))\r\n" }.joined() + "\r\n",
                 431, "headers_too_large"),
                ("GET /health HTTP/1.1 nonsense\r\n\r\n", 400, "malformed_request"),
            ]
            for (request, status, code) in cases {
                let connection = try RawConnection(port: Self.port(server))
                try await connection.send(request)
                let reading = try await connection.readToEnd(within: 30 * TimeScale.factor)
                #expect(reading.status == status, "\(reading.text.prefix(300))")
                #expect(try Self.errorCode(reading) == code)
                #expect(reading.headers["content-type"] == "application/json")
                #expect(reading.closed)
            }
        }
    }
}
