import Foundation
import Testing
@testable import GenerateAPI

/// Cancelling a request frees everything it held, wherever it was: waiting for admission, in the
/// middle of its prompt's chunks, decoding, or streaming to a consumer that stops listening. After
/// each, the model's scheduler holds no request, no sequence, no reservation, and every KV block is
/// back in the free list.
@Suite("Batching: cancellation frees everything")
struct BatchingCancellationTests {
    /// A task whose result is a `CancellationError`, or else records an issue.
    static func expectCancelled<T: Sendable>(_ task: Task<T, any Error>, _ comment: String,
                                             sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await task.value
            Issue.record("\(comment): finished instead of being cancelled", sourceLocation: sourceLocation)
        } catch is CancellationError {
        } catch {
            Issue.record("\(comment): \(error) instead of CancellationError", sourceLocation: sourceLocation)
        }
    }

    /// Starts streaming `request` and returns once it has produced `deltas` deltas; cancelling the
    /// returned task stops the stream's consumer (and so the generation).
    static func startStream(_ engine: Engine, _ request: GenerateRequest, deltas: Int = 2) async -> Task<Batching.Streamed, any Error> {
        let started = Signal()
        let task = Task {
            do {
                let streamed = try await Batching.stream(engine, request) { count in
                    if count == deltas { await started.fire() }
                }
                await started.fire()  // (ended sooner: the caller's checks will tell)
                return streamed
            } catch {
                await started.fire()
                throw error
            }
        }
        await started.wait()
        return task
    }

    @Test("(a) a request cancelled while it waits for admission leaves the queue; a full queue is queueFull")
    func cancelWhileQueued() async throws {
        // One sequence at a time, one request waiting.
        let engine = Batching.engine(.init(maxBatchSequences: 1, maxBatchTokens: 32, maxQueue: 1))
        let (runner, scheduler) = try await Batching.startHeldRunner(engine, Batching.longRunner(maxTokens: 1_000))
        let running = try await Batching.status(engine)
        #expect(running.generating == 1 && running.sequences == 1 && running.waiting == 0, "\(running)")

        let queued = Task { try await engine.generate(request: GenerateRequest(prompt: Batching.prompt(words: 4, salt: 11), maxTokens: 4)) }
        let waiting = try await Batching.waitFor(engine, "the second request to wait") { $0.waiting == 1 }
        #expect(waiting.sequences == 1 && waiting.generating == 1, "the waiting request holds nothing: \(waiting)")

        // The queue (1) is full: a third request is refused at once.
        await #expect(throws: GenerateError.queueFull(waiting: 1)) {
            try await engine.generate(request: GenerateRequest(prompt: Batching.prompt(words: 4, salt: 12), maxTokens: 4))
        }

        queued.cancel()
        await Self.expectCancelled(queued, "the queued request")
        let after = try await Batching.waitFor(engine, "the queue to empty") { $0.waiting == 0 }
        #expect(after.sequences == 1 && after.generating == 1, "only the runner holds anything: \(after)")
        // The queue has room again: a request waits instead of being refused.
        let next = Task { try await engine.generate(request: GenerateRequest(prompt: Batching.prompt(words: 4, salt: 13), maxTokens: 4)) }
        try await Batching.waitFor(engine, "the next request to wait") { $0.waiting == 1 }
        next.cancel()
        await Self.expectCancelled(next, "the next queued request")

        scheduler.releaseSteps()
        runner.cancel()
        _ = try? await runner.value
        try await Batching.expectIdle(engine, "(a) queued")
    }

    @Test("(b) a request cancelled during its prompt's prefill stops at a chunk boundary and frees its blocks")
    func cancelDuringPrefill() async throws {
        // Chunks of 8 tokens: a 1,500-token prompt needs about 190 steps.
        let engine = Batching.engine(.init(maxBatchSequences: 4, maxBatchTokens: 8))
        try await engine.preload()
        let scheduler = try await Batching.scheduler(engine)
        let before = try await Batching.status(engine)
        scheduler.recordSteps()
        // Held after 5 steps, so that a busy machine cannot prefill the whole prompt before the check.
        scheduler.holdSteps(after: 5)
        let prompt = Batching.prompt(words: 290, salt: 21)
        let task = Task { try await engine.generate(request: GenerateRequest(prompt: prompt, maxTokens: 4)) }
        let busy = try await Batching.waitFor(engine, "a few chunks") { $0.steps >= before.steps + 5 }
        #expect(busy.freeBlocks < busy.totalBlocks && busy.generating == 1, "the prompt holds blocks: \(busy)")
        task.cancel()
        scheduler.releaseSteps()
        await Self.expectCancelled(task, "the prefilling request")
        try await Batching.expectIdle(engine, "(b) prefill")
        let log = scheduler.takeStepLog()
        let chunks = log.flatMap(\.parts).filter(\.isPrefill)
        let promptTokens = try #require(chunks.first?.jobTokens)
        #expect(chunks.allSatisfy { $0.jobTokens == promptTokens && $0.rows <= 8 })
        #expect(promptTokens > 1_000)
        // Stopped in the middle: fewer chunks than the prompt needs, no decode.
        #expect(chunks.reduce(0) { $0 + $1.rows } < promptTokens, "\(chunks.count) chunks ran")
        #expect(!log.flatMap(\.parts).contains { !$0.isPrefill }, "no decode ran")
    }

    @Test("(c) a request cancelled while decoding (best_of 3 with forks, and beam search) frees every sequence")
    func cancelDuringDecode() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 8, maxBatchTokens: 32))
        try await engine.preload()
        let scheduler = try await Batching.scheduler(engine)
        var sampled = Batching.longRunner(maxTokens: 1_000)
        sampled.n = 2
        sampled.bestOf = 3
        sampled.temperature = 0.8
        sampled.seed = 1
        var beams = Batching.longRunner(maxTokens: 600, salt: 3)
        beams.n = 2
        beams.bestOf = 4
        beams.useBeamSearch = true
        beams.earlyStopping = .never
        for (name, request) in [("best_of", sampled), ("beam search", beams)] {
            let before = try await Batching.status(engine)
            // Held after the prompt and 12 decode steps, so that a busy machine cannot run the
            // request on towards max_tokens before it is cancelled.
            scheduler.holdSteps(after: 14)
            let task = Task { try await engine.generate(request: request) }
            let decoding = try await Batching.waitFor(engine, "\(name): decoding") { $0.steps >= before.steps + 12 }
            #expect(decoding.sequences == request.bestOf && decoding.generating == 1, "\(name): \(decoding)")
            task.cancel()
            scheduler.releaseSteps()
            await Self.expectCancelled(task, name)
            try await Batching.expectIdle(engine, "(c) \(name)")
            // It stopped at once, not at max_tokens.
            let after = try await Batching.status(engine)
            #expect(after.steps - before.steps < (request.maxTokens ?? 0) / 2, "\(name): \(after.steps - before.steps) steps")
        }
    }

    @Test("(d) a stream whose consumer stops iterating stops generating and frees everything")
    func cancelMidStream() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 8, maxBatchTokens: 32))
        try await engine.preload()
        let scheduler = try await Batching.scheduler(engine)
        // Enough steps for the prompt and the 6 deltas (3 steps of 2 candidates); the generation
        // may run ahead of the consumer only as far as the hold lets it.
        scheduler.holdSteps(after: 24)
        var request = Batching.longRunner(maxTokens: 1_000)
        request.n = 2  // two candidates, each streaming
        request.temperature = 0.5
        request.seed = 4
        var seen = 0
        for try await event in engine.stream(request: request) {
            if case .delta = event { seen += 1 }
            if seen == 6 { break }
        }
        #expect(seen == 6)
        // Ending the iteration has cancelled the generation: released, it stops in the next step.
        let stopped = try await Batching.status(engine)
        scheduler.releaseSteps()
        try await Batching.expectIdle(engine, "(d) mid-stream")
        let after = try await Batching.status(engine)
        #expect(after.steps - stopped.steps <= 2, "generation stopped with the stream: \(after.steps - stopped.steps) more steps")
    }

    @Test("cancelling many requests at every stage, over and over, leaves nothing held")
    func cancelMany() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 6, maxBatchTokens: 24, maxQueue: 64), kvBlocks: 160)
        try await engine.preload()
        for round in 0 ..< 3 {
            var tasks: [Task<Void, any Error>] = []
            for i in 0 ..< 12 {
                var request = GenerateRequest(prompt: Batching.prompt(words: 4 + 13 * (i % 4), salt: UInt64(100 * round + i)),
                                              maxTokens: 20 + 15 * (i % 5), n: 1 + i % 2, bestOf: i % 3 == 0 ? 3 : nil,
                                              temperature: 0.9, seed: UInt64(i))
                if i % 5 == 4 {
                    request.useBeamSearch = true
                    request.temperature = 0
                    request.n = 1
                    request.bestOf = 2
                }
                let streamed = i % 2 == 0, r = request
                tasks.append(Task {
                    if streamed {
                        for try await _ in engine.stream(request: r) {}
                    } else {
                        _ = try await engine.generate(request: r)
                    }
                })
            }
            // Cancel every other one at staggered moments: queued, prefilling, decoding.
            for (i, task) in tasks.enumerated() where i % 2 == 1 {
                try await Task.sleep(for: .milliseconds(3 * i))
                task.cancel()
            }
            for (i, task) in tasks.enumerated() {
                do { try await task.value } catch is CancellationError {
                    #expect(i % 2 == 1, "request \(i) was not cancelled")
                }
            }
            try await Batching.expectIdle(engine, "round \(round)")
        }
    }
}
