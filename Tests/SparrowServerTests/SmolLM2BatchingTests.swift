import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// Continuous batching over HTTP on the real SmolLM2-135M-Instruct: batch invariance, the engine's
/// full queue as a 429, and a client hanging up mid-stream. In ``SmolLM2ServerTests`` (an
/// extension), so that they run one at a time with its other tests.
extension SmolLM2ServerTests {
    /// A request of the invariance test: where it goes and its body.
    struct Call: Sendable {
        let path: String
        let body: String
        var stream: Bool { body.contains(#""stream": true"#) }
    }

    /// Eight requests of different prompt lengths, endpoints and parameters, every sampled one
    /// seeded. The first is the one the issue names: temperature 0.8, max_tokens 24, fixed seed.
    static let calls: [Call] = {
        let words = (1...60).map { "word\($0)" }.joined(separator: " ")  // ~150 tokens: two prefill chunks of 128
        return [
            Call(path: "v1/generate", body: #"{"prompt": "The capital of France is", "temperature": 0.8, "seed": 42, "max_tokens": 24}"#),
            Call(path: "v1/generate", body: #"{"prompt": "Once upon a time, in a small village by the sea, there lived", "n": 2, "temperature": 1.0, "seed": 7, "max_tokens": 16}"#),
            Call(path: "v1/completions", body: #"{"prompt": "List three colors:", "n": 1, "best_of": 3, "temperature": 0.9, "seed": 3, "max_tokens": 20}"#),
            Call(path: "v1/generate", body: #"{"prompt": "1, 2, 3, 4,", "temperature": 0.7, "seed": 11, "max_tokens": 30, "stream": true}"#),
            Call(path: "v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "Name a fruit."}], "temperature": 0, "max_tokens": 12}"#),
            Call(path: "v1/generate", body: #"{"prompt": "Repeat after me: \#(words).", "temperature": 0.5, "top_k": 20, "seed": 5, "max_tokens": 8}"#),
            Call(path: "v1/completions", body: #"{"prompt": "Write a haiku about the sea:", "temperature": 1.2, "top_p": 0.9, "seed": 9, "max_tokens": 40, "stream": true}"#),
            Call(path: "v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "Tell me about owls."}], "temperature": 0.8, "presence_penalty": 0.5, "repetition_penalty": 1.2, "seed": 13, "max_tokens": 20, "stream": true}"#),
        ]
    }()

    /// What a response generated, without what differs between two runs of one request (ids,
    /// creation times, timings): every choice (text, token ids, finish reason, cumulative logprob)
    /// or, for a stream, every event's choices (or delta), as sorted-key JSON.
    static func outcome(_ call: Call, _ result: HTTPClient.Result) throws -> String {
        guard result.status == 200 else { throw TestFailure("\(call.path) answered \(result.status): \(result.text)") }
        let parts: [Any]
        if call.stream {
            guard result.events.last == "[DONE]" else { throw TestFailure("no [DONE]: \(result.text.suffix(200))") }
            parts = try result.jsonEvents().map { event in event["choices"] ?? event }
        } else {
            parts = [try result.json()["choices"] ?? NSNull()]
        }
        let data = try JSONSerialization.data(withJSONObject: parts, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test("a seeded request gives the same text and token ids alone and among 7 others; they ran batched",
          .enabled(if: modelPath != nil, skipReason))
    func invarianceUnderLoad() async throws {
        let engine = try Self.engine()
        try await TestServer.with(backend: engine) { server in
            try await engine.preload()
            // Alone, one after another: each one's answer and the steps it took.
            var alone: [String] = []
            var stepsAlone = 0
            var target: HTTPClient.Result?
            for call in Self.calls {
                let before = try await Self.status(engine).steps
                let result = try await server.client.post(call.path, call.body)
                alone.append(try Self.outcome(call, result))
                if target == nil { target = result }
                let idle = await Self.waitUntilIdle(engine)
                #expect(idle.idle, "\(idle.last)")
                stepsAlone += try await Self.status(engine).steps - before
            }

            // Together: all eight at once, watching how many generate at the same time.
            let before = try await Self.status(engine).steps
            let watching = Task {
                var most = 0
                while !Task.isCancelled {
                    most = max(most, (try? await engine.batchingStatus())?.generating ?? 0)
                    try? await Task.sleep(nanoseconds: 5_000_000)
                }
                return most
            }
            let together = try await withThrowingTaskGroup(of: (Int, HTTPClient.Result).self) { group in
                for (i, call) in Self.calls.enumerated() {
                    group.addTask { (i, try await server.client.post(call.path, call.body)) }
                }
                var results = [HTTPClient.Result?](repeating: nil, count: Self.calls.count)
                for try await (i, result) in group { results[i] = result }
                return results
            }
            watching.cancel()
            let mostAtOnce = await watching.value
            let idle = await Self.waitUntilIdle(engine)
            #expect(idle.idle, "\(idle.last)")
            let stepsTogether = try await Self.status(engine).steps - before

            for (i, call) in Self.calls.enumerated() {
                let result = try #require(together[i])
                #expect(try Self.outcome(call, result) == alone[i], "request \(i): \(call.body)")
            }
            // The issue's request, field by field: byte-identical text, the same token ids.
            let first = try #require(together[0])
            let targetAlone = try #require(target)
            let choiceAlone = try #require((try targetAlone.json()["choices"] as? [[String: Any]])?.first)
            let choiceTogether = try #require((try first.json()["choices"] as? [[String: Any]])?.first)
            let textAlone = try #require(choiceAlone["text"] as? String)
            #expect(Array((choiceTogether["text"] as? String ?? "").utf8) == Array(textAlone.utf8))
            let idsAlone = try #require(choiceAlone["token_ids"] as? [Int])
            #expect(choiceTogether["token_ids"] as? [Int] == idsAlone)
            #expect(idsAlone.count == 24 || choiceAlone["finish_reason"] as? String == "stop")

            // Run one after another, every request needs its own steps; batched, they share them.
            print("invariance: \(stepsTogether) steps together, \(stepsAlone) alone; at most \(mostAtOnce) requests generating at once")
            #expect(stepsTogether < stepsAlone)
            #expect(mostAtOnce >= 2)
        }
    }

    @Test("the engine's full queue answers 429 queue_full before any stream starts; hanging up leaves the queue",
          .enabled(if: modelPath != nil, skipReason))
    func queueFull() async throws {
        // One sequence at a time and two waiting requests: the fourth request finds the queue full.
        let engine = try Self.engine(batching: BatchingLimits(maxBatchSequences: 1, maxBatchTokens: 128, maxQueue: 2))
        try await TestServer.with(backend: engine) { server in
            try await engine.preload()
            let port = try #require(server.client.base.port)
            let running = try StreamingSocket(port: port, path: "v1/generate", body: Self.longStream)
            _ = try await running.readEvents(atLeast: 1)
            let waiting = Task { try await server.client.post("v1/completions", #"{"prompt": "Hi", "max_tokens": 4, "temperature": 0}"#) }
            #expect(await TestServer.eventually(30) { (try? await engine.batchingStatus())?.waiting == 1 })
            let queuedStream = try StreamingSocket(port: port, path: "v1/chat/completions",
                                                   body: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "stream": true}"#)
            #expect(await TestServer.eventually(30) { (try? await engine.batchingStatus())?.waiting == 2 })

            let refusals = [
                ("v1/completions", #"{"prompt": "Hi", "max_tokens": 4}"#),
                ("v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "stream": true}"#),
            ]
            for (path, body) in refusals {
                let refused = try await server.client.post(path, body)
                let error = try ErrorTests.expectError(refused, status: 429, type: "rate_limit_error", param: nil)
                #expect(error["code"] as? String == "queue_full")
                #expect(error["message"] as? String
                    == "the server is busy with model SmolLM2-135M-Instruct: its batch is full and 2 requests waiting; retry later")
            }
            // More candidates than the batch holds can never run: a 400 naming the field.
            let tooWide = try await server.client.post("v1/completions", #"{"prompt": "Hi", "max_tokens": 4, "n": 2}"#)
            try ErrorTests.expectError(tooWide, status: 400, param: "n")

            // A client that hangs up while its request waits for room leaves the engine's queue.
            queuedStream.close()
            #expect(await TestServer.eventually(10) { (try? await engine.batchingStatus())?.waiting == 1 })
            #expect(queuedStream.events.isEmpty)

            // Hanging up frees the batch for the waiting request.
            running.close()
            let answer = try await waiting.value
            #expect(answer.status == 200, "\(answer.text)")
            #expect((try answer.json()["choices"] as? [[String: Any]])?.count == 1)
            let idle = await Self.waitUntilIdle(engine)
            #expect(idle.idle, "\(idle.last)")
        }
    }

    @Test("a client that hangs up mid-stream frees its sequence and every KV block",
          .enabled(if: modelPath != nil, skipReason))
    func disconnectMidStream() async throws {
        let engine = try Self.engine()
        try await TestServer.with(backend: engine) { server in
            try await engine.preload()
            #expect(await Self.waitUntilIdle(engine, seconds: 0).idle)
            let port = try #require(server.client.base.port)
            let stream = try StreamingSocket(port: port, path: "v1/generate", body: Self.longStream)
            let events = try await stream.readEvents(atLeast: 4)
            #expect(events.prefix(4).allSatisfy { $0.hasPrefix(#"{"index":0,"text":"#) }, "\(events)")
            let during = try await Self.status(engine)
            #expect(during.generating == 1)
            #expect(during.sequences == 1)
            #expect(during.freeBlocks < during.totalBlocks)

            stream.close()
            // The server notices at its next write and cancels; the scheduler drops the sequence
            // at its next step, long before 1,000 tokens.
            let idle = await Self.waitUntilIdle(engine)
            #expect(idle.idle, "\(idle.last)")
            let stopped = try await Self.status(engine).steps
            try await Task.sleep(nanoseconds: 300_000_000)
            #expect(try await Self.status(engine).steps == stopped, "steps still run for a client that is gone")

            let next = try await server.client.post("v1/generate", #"{"prompt": "Hi", "max_tokens": 4, "temperature": 0}"#)
            #expect(next.status == 200)
        }
    }
}
