import Foundation
@testable import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// Clients that close their socket (`close()`, a FIN, not a reset) while their request waits: for
/// room in the backend's own queue (as the engine queues), for a slot in the server's queue, a
/// whole answer or a first token. Nothing is written while a request waits, so only the server's
/// probe (``ConnectionGuard``) tells such a client from one that half-closed and still reads.
@Suite("Hanging up while waiting", .serialized)
struct HangUpTests {
    static let chat = #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}"#
    static let streamedChat = #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true}"#

    /// Every endpoint, whole and streamed.
    static let requests = [
        ("v1/generate", ConcurrencyTests.body), ("v1/generate", ConcurrencyTests.streamBody),
        ("v1/completions", ConcurrencyTests.body), ("v1/completions", ConcurrencyTests.streamBody),
        ("v1/chat/completions", chat), ("v1/chat/completions", streamedChat),
    ]

    @Test("a client that closes while its request waits in a backend that queues itself cancels it, on every endpoint")
    func closeWhileBackendQueues() async throws {
        // The backend queues itself, as the engine does: the server holds no slot, and each request
        // waits inside the backend (at its closed gate) with nothing written.
        let backend = SlowBackend(gateOpen: false, capacity: 8)
        try await TestServer.with(backend: backend) { server in
            let port = try #require(server.client.base.port)
            for (number, (path, body)) in Self.requests.enumerated() {
                let socket = try StreamingSocket(port: port, path: path, body: body)
                #expect(await TestServer.eventually { await backend.record.started == number + 1 }, "\(path) \(body)")
                socket.close()
                #expect(await TestServer.eventually(10) { await backend.record.cancelled == number + 1 }, "\(path) \(body)")
            }
            #expect(await backend.record.finished == 0)
        }
    }

    @Test("over the engine: a client that closes while its request waits in the engine's queue leaves it, on every endpoint")
    func closeWhileEngineQueues() async throws {
        // One sequence at a time, two waiting: the tiny Llama's runner holds the batch.
        let (engine, root) = try OpenAIFidelityTests.chatEngine(
            batching: BatchingLimits(maxBatchSequences: 1, maxBatchTokens: 128, maxQueue: 2))
        defer { try? FileManager.default.removeItem(at: root) }
        try await TestServer.with(backend: engine) { server in
            try await engine.preload()
            // The steps are held after the runner's first few, so it cannot end while requests wait.
            let scheduler = try #require(try await engine.scheduler())
            scheduler.holdSteps(after: 4)
            let port = try #require(server.client.base.port)
            let running = try StreamingSocket(
                port: port, path: "v1/generate",
                body: #"{"prompt": "Hello world", "max_tokens": 100, "temperature": 0, "ignore_eos": true, "stream": true}"#)
            _ = try await running.readEvents(atLeast: 1)
            for (path, body) in Self.requests {
                let queued = try StreamingSocket(port: port, path: path, body: body)
                #expect(await TestServer.eventually { (try? await engine.batchingStatus())?.waiting == 1 }, "\(path) \(body)")
                queued.close()
                #expect(await TestServer.eventually(10) { (try? await engine.batchingStatus())?.waiting == 0 }, "\(path) \(body)")
                #expect(queued.events.isEmpty)
            }
            scheduler.releaseSteps()
            running.close()
            #expect(await TestServer.eventually {
                guard let status = try? await engine.batchingStatus() else { return false }
                return status.generating == 0 && status.sequences == 0 && status.waiting == 0
            })
        }
    }

    @Test("a client that closes while its request waits for a slot in the server's queue leaves the queue")
    func closeWhileServerQueues() async throws {
        let backend = SlowBackend(gateOpen: false)
        let configuration = SparrowServer.Configuration(concurrencyPerModel: 1, queuePerModel: 4)
        try await TestServer.with(backend: backend, configuration: configuration) { server in
            let limiter = server.server.limiter
            let port = try #require(server.client.base.port)
            let running = try StreamingSocket(port: port, path: "v1/completions", body: ConcurrencyTests.body)
            #expect(await TestServer.eventually { await backend.record.started == 1 })
            let queued = try StreamingSocket(port: port, path: "v1/chat/completions", body: Self.streamedChat)
            #expect(await TestServer.eventually { await limiter.load("slow") == (1, 1) })

            queued.close()
            #expect(await TestServer.eventually(10) { await limiter.load("slow") == (1, 0) })
            running.close()
            #expect(await TestServer.eventually(10) { await backend.record.cancelled == 1 })
            #expect(await TestServer.eventually(10) { await limiter.load("slow") == (0, 0) })
            #expect(await backend.record.started == 1)
        }
    }

    @Test("a client that half-closes while its request waits is probed, stays, and gets its answer")
    func halfCloseWhileWaiting() async throws {
        for body in [ConcurrencyTests.body, ConcurrencyTests.streamBody] {
            let backend = SlowBackend(gateOpen: false)
            try await TestServer.with(backend: backend) { server in
                let port = try #require(server.client.base.port)
                let connection = try RawConnection(port: port)
                try await connection.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                connection.shutdownWrite()
                #expect(await TestServer.eventually { await backend.record.started == 1 })
                // Time for the probe and, were the client gone, the reset it would draw.
                try await Task.sleep(for: .milliseconds(500))
                #expect(await backend.record.cancelled == 0)
                backend.gate.open()
                let reading = try await connection.readToEnd(within: 60 * TimeScale.factor)
                #expect(reading.interimStatusLines == ["HTTP/1.1 100 Continue"], "\(reading.received.prefix(300))")
                #expect(reading.status == 200, "\(reading.received.prefix(300))")
                #expect(reading.text.contains(#""finish_reason""#), "\(reading.text.suffix(300))")
                #expect(reading.closed)
                #expect(await backend.record.cancelled == 0)
                #expect(await TestServer.eventually { await backend.record.finished == 1 })
            }
        }
    }

    @Test("an HTTP/1.0 client that half-closes while its request waits gets no interim response")
    func noProbeForHTTP10() async throws {
        let backend = SlowBackend(gateOpen: false)
        try await TestServer.with(backend: backend) { server in
            let port = try #require(server.client.base.port)
            let body = ConcurrencyTests.body
            let connection = try RawConnection(port: port)
            try await connection.send("POST /v1/generate HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            connection.shutdownWrite()
            #expect(await TestServer.eventually { await backend.record.started == 1 })
            try await Task.sleep(for: .milliseconds(200))
            backend.gate.open()
            let reading = try await connection.readToEnd(within: 60 * TimeScale.factor)
            #expect(reading.received.hasPrefix("HTTP/1.0 200"), "\(reading.received.prefix(300))")
            #expect(reading.interimStatusLines.isEmpty)
        }
    }
}
