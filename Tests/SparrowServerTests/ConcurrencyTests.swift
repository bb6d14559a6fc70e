import Dispatch
import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// Queueing, 429, health under load and cancellation on disconnect, with ``SlowBackend``.
@Suite("Concurrency", .serialized)
struct ConcurrencyTests {
    static let body = #"{"prompt": "hi", "max_tokens": 5}"#
    static let streamBody = #"{"prompt": "hi", "max_tokens": 5, "stream": true}"#

    @Test("a full queue answers 429; queued requests run in turn; mock responses skip the queue")
    func queueFull() async throws {
        let backend = SlowBackend(gateOpen: false)
        let configuration = SparrowServer.Configuration(concurrencyPerModel: 1, queuePerModel: 1)
        try await TestServer.with(backend: backend, configuration: configuration) { server in
            let limiter = server.server.limiter
            let first = Task { try await server.client.post("v1/generate", Self.body) }
            #expect(await TestServer.eventually { await limiter.load("slow") == (1, 0) })
            let second = Task { try await server.client.post("v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "stream": true}"#) }
            #expect(await TestServer.eventually { await limiter.load("slow") == (1, 1) })

            let third = try await server.client.post("v1/completions", #"{"prompt": "hi"}"#)
            let error = try ErrorTests.expectError(third, status: 429, type: "rate_limit_error", param: nil)
            #expect(error["code"] as? String == "queue_full")

            let mock = try await server.client.post("v1/generate", #"{"prompt": "hi", "mock_response": true}"#)
            #expect(mock.status == 200)

            backend.gate.open()
            let a = try await first.value
            let b = try await second.value
            #expect(a.status == 200)
            #expect(try (a.json()["choices"] as? [[String: Any]])?.first?["text"] as? String == "token0 token1 token2 token3 token4")
            #expect(b.status == 200)
            #expect(b.events.last == "[DONE]")
            #expect(await TestServer.eventually { await limiter.load("slow") == (0, 0) })
            #expect(await backend.record.started == 3)  // the two queued ones and the mock
        }
    }

    @Test("GET /health answers at once while generations keep a core busy, not after them")
    func healthWhileGenerating() async throws {
        // Generations of ~3 s each spinning on a thread of their own, as the engine's generations keep
        // threads busy; one at a time, as the server runs a backend that names a queue. A /health
        // queued behind them would wait seconds. The 100 ms figure is asserted on a real generation,
        // in a process of its own, by SmolLM2ServerTests (CI's release kernel-test step): here the
        // other suites share the two cores, and their work alone delays an answer past 100 ms.
        let backend = SlowBackend(tokens: 150, tokenSeconds: 0.02, busy: true)
        try await TestServer.with(backend: backend) { server in
            let generations = (0..<2).map { _ in Task { try await server.client.post("v1/generate", Self.body) } }
            #expect(await TestServer.eventually { await backend.record.deltas >= 4 })
            var latencies: [Double] = []
            for _ in 0..<10 {
                let start = DispatchTime.now().uptimeNanoseconds
                let r = try await server.client.get("health")
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                #expect(r.status == 200)
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            let stillRunning = await backend.record.finished
            print("health latencies while generating (ms): \(latencies.map { String(format: "%.1f", $0) }.joined(separator: " "))")
            #expect(stillRunning == 0, "the generations ended before the health checks did")
            #expect(latencies.allSatisfy { $0 < TimeScale.milliseconds(1000) }, "\(latencies)")
            for generation in generations { generation.cancel() }
        }
    }

    @Test("a client that disconnects mid-stream cancels its generation and frees its slot")
    func disconnectCancels() async throws {
        let backend = SlowBackend(tokens: 100_000, tokenSeconds: 0.01)
        try await TestServer.with(backend: backend) { server in
            let limiter = server.server.limiter
            let streaming = Task { try await server.client.post("v1/generate", Self.streamBody) }
            #expect(await TestServer.eventually { await backend.record.deltas >= 5 })
            streaming.cancel()
            #expect(await TestServer.eventually { await backend.record.cancelled == 1 })
            #expect(await TestServer.eventually { await limiter.load("slow") == (0, 0) })
            #expect(await backend.record.finished == 0)
            // The slot is free: the next request starts at once.
            let next = Task { try await server.client.post("v1/generate", Self.streamBody) }
            #expect(await TestServer.eventually { await backend.record.started == 2 })
            next.cancel()
            #expect(await TestServer.eventually { await backend.record.cancelled == 2 })
        }
    }

    @Test("a client whose connection resets while its request waits (for a slot, a whole answer, a first token) cancels it")
    func hangUpWhileWaiting() async throws {
        let backend = SlowBackend(gateOpen: false)
        let configuration = SparrowServer.Configuration(concurrencyPerModel: 1, queuePerModel: 4)
        try await TestServer.with(backend: backend, configuration: configuration) { server in
            let limiter = server.server.limiter
            let port = server.client.base.port ?? 0
            // Runs, but its generation waits at the gate: no token, nothing written.
            let whole = try StreamingSocket(port: port, path: "v1/generate", body: Self.body)
            #expect(await TestServer.eventually { await backend.record.started == 1 })
            #expect(await limiter.load("slow") == (1, 0))
            let queued = try StreamingSocket(port: port, path: "v1/generate", body: Self.streamBody)
            #expect(await TestServer.eventually { await limiter.load("slow") == (1, 1) })

            queued.reset()
            #expect(await TestServer.eventually { await limiter.load("slow") == (1, 0) })
            whole.reset()
            #expect(await TestServer.eventually { await backend.record.cancelled == 1 })
            #expect(await TestServer.eventually { await limiter.load("slow") == (0, 0) })

            // A stream still waiting for its first token.
            let stream = try StreamingSocket(port: port, path: "v1/chat/completions",
                                             body: #"{"messages": [{"role": "user", "content": "hi"}], "stream": true}"#)
            #expect(await TestServer.eventually { await backend.record.started == 2 })
            stream.reset()
            #expect(await TestServer.eventually { await backend.record.cancelled == 2 })
            #expect(await TestServer.eventually { await limiter.load("slow") == (0, 0) })
            #expect(await backend.record.finished == 0)
        }
    }

    @Test("a request waiting in the queue holds no slot once it has been answered")
    func queuedStreamsRunInOrder() async throws {
        let backend = SlowBackend(tokens: 3, tokenSeconds: 0.005)
        try await TestServer.with(backend: backend, configuration: .init(concurrencyPerModel: 1, queuePerModel: 8)) { server in
            let results = try await withThrowingTaskGroup(of: HTTPClient.Result.self) { group in
                for i in 0..<8 {
                    group.addTask { try await server.client.post("v1/generate", i % 2 == 0 ? Self.body : Self.streamBody) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0.status == 200 })
            #expect(await backend.record.finished == 8)
            #expect(await server.server.limiter.load("slow") == (0, 0))
        }
    }

    @Test("a backend that queues itself, as the engine does, gets every request at once; its full queue answers 429")
    func backendQueuesItself() async throws {
        // The server's own limit (one per queue, by default) must not hold these back.
        let backend = SlowBackend(gateOpen: false, capacity: 8)
        try await TestServer.with(backend: backend) { server in
            let running = (0..<8).map { i in
                Task {
                    try await server.client.post(i % 2 == 0 ? "v1/generate" : "v1/completions",
                                                 i % 4 < 2 ? Self.body : Self.streamBody)
                }
            }
            #expect(await TestServer.eventually { await backend.record.started == 8 })
            #expect(await server.server.limiter.load("slow") == (0, 0))

            let chat = #"{"messages": [{"role": "user", "content": "hi"}]"#
            for (path, body) in [("v1/completions", Self.body), ("v1/chat/completions", chat + #", "stream": true}"#)] {
                // Streamed or not, the refusal comes before any event: a 429 with the JSON error.
                let refused = try await server.client.post(path, body)
                let error = try ErrorTests.expectError(refused, status: 429, type: "rate_limit_error", param: nil)
                #expect(error["code"] as? String == "queue_full")
                #expect(error["message"] as? String == "the server is busy with model slow: its batch is full and 0 requests waiting; retry later")
            }

            backend.gate.open()
            for request in running { #expect(try await request.value.status == 200) }
            #expect(await backend.record.finished == 8)
            #expect(await backend.record.started == 8)
            // Room again once they are done.
            #expect(try await server.client.post("v1/generate", Self.body).status == 200)
        }
    }

    @Test("200 mock requests from 8 concurrent clients: no errors")
    func mockLoad() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var statuses: [Int] = []
                        for i in 0..<25 {
                            let path = ["v1/generate", "v1/completions", "v1/chat/completions"][(client + i) % 3]
                            let body = path == "v1/chat/completions"
                                ? #"{"messages": [{"role": "user", "content": "hi"}], "mock_response": true, "stream": \#(i % 2 == 0)}"#
                                : #"{"prompt": "hi", "mock_response": true, "stream": \#(i % 2 == 0)}"#
                            statuses.append(try await server.client.post(path, body).status)
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.count == 200)
            #expect(statuses.allSatisfy { $0 == 200 })
        }
    }
}
