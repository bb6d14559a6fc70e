import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// Admission: a request whose worst case can never fit the model's batch or KV memory fails at
/// once, naming the field at fault; the others wait for room in arrival order, a large request at
/// the head of the queue not overtaken by small ones behind it.
@Suite("Batching: admission")
struct BatchingAdmissionTests {
    @Test("the long runner ends only at max_tokens (the other batching tests rely on it)")
    func longRunnerRunsToMaxTokens() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 4, maxBatchTokens: 64))
        for salt: UInt64 in [2, 3] {
            let response = try await engine.generate(request: Batching.longRunner(maxTokens: 300, salt: salt))
            #expect(response.choices[0].finishReason == .length, "salt \(salt)")
            #expect(response.choices[0].tokenIDs.count == 300, "salt \(salt)")
        }
    }

    @Test("n or best_of above maxBatchSequences fails at once with invalidField naming it, even while another request runs")
    func tooManySequences() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 4, maxBatchTokens: 32, maxQueue: 8))
        let (runner, scheduler) = try await Batching.startHeldRunner(engine, Batching.longRunner(maxTokens: 1_000))
        let prompt = Batching.prompt(words: 4, salt: 41)
        let cases: [(GenerateRequest, String)] = [
            (GenerateRequest(prompt: prompt, maxTokens: 4, n: 1, bestOf: 5, seed: 1), "best_of"),
            (GenerateRequest(prompt: prompt, maxTokens: 4, n: 5, seed: 1), "n"),
            (GenerateRequest(prompt: prompt, maxTokens: 4, n: 2, bestOf: 5, temperature: 0, useBeamSearch: true), "best_of"),
        ]
        for (request, field) in cases {
            do {
                _ = try await engine.generate(request: request)
                Issue.record("\(field): no error")
            } catch let GenerateError.invalidField(f, reason) {
                #expect(f == field, "\(reason)")
                #expect(reason.contains("4"), "the reason names the limit: \(reason)")
            }
            // It did not wait for the runner: that one is still generating, nothing is queued.
            let status = try await Batching.status(engine)
            #expect(status.generating == 1 && status.waiting == 0 && status.sequences == 1, "\(field): \(status)")
        }
        // best_of 4 fits (it waits for the runner's sequence, and is cancelled here).
        let fits = Task { try await engine.generate(request: GenerateRequest(prompt: prompt, maxTokens: 4, n: 1, bestOf: 4, seed: 1)) }
        try await Batching.waitFor(engine, "best_of 4 to wait") { $0.waiting == 1 }
        fits.cancel()
        await BatchingCancellationTests.expectCancelled(fits, "best_of 4")
        scheduler.releaseSteps()
        runner.cancel()
        _ = try? await runner.value
        try await Batching.expectIdle(engine, "too many sequences")
    }

    @Test("max_tokens needing more KV memory than kvCacheBytes fails at once with invalidField max_tokens")
    func tooMuchKVMemory() async throws {
        // 24 blocks of 16 positions (384 positions) in a 2,048-position context.
        let engine = Batching.engine(.init(maxBatchSequences: 8, maxBatchTokens: 32, maxQueue: 8), kvBlocks: 24)
        // The runner reserves 3 + 20 blocks: all but one.
        let (runner, scheduler) = try await Batching.startHeldRunner(engine, Batching.longRunner(maxTokens: 300))
        let reserved = try await Batching.status(engine)
        #expect(reserved.totalBlocks == 24 && reserved.reservedBlocks == 23, "\(reserved)")
        let prompt = Batching.prompt(words: 4, salt: 42)
        let cases: [GenerateRequest] = [
            GenerateRequest(prompt: prompt, maxTokens: 400),  // 2 + 27 blocks
            GenerateRequest(prompt: prompt, maxTokens: 160, n: 2, seed: 1),  // 2 + 2 × 12
            GenerateRequest(prompt: prompt, maxTokens: 100, n: 1, bestOf: 2, temperature: 0, useBeamSearch: true),  // 2 + 4 × 8
        ]
        for request in cases {
            do {
                _ = try await engine.generate(request: request)
                Issue.record("max_tokens \(request.maxTokens): no error")
            } catch let GenerateError.invalidField(field, reason) {
                #expect(field == "max_tokens", "\(reason)")
                #expect(reason.contains("KV"), "\(reason)")
            }
            let status = try await Batching.status(engine)
            #expect(status.generating == 1 && status.waiting == 0 && status.reservedBlocks == 23, "\(status)")
        }
        scheduler.releaseSteps()
        runner.cancel()
        _ = try? await runner.value
        try await Batching.expectIdle(engine, "too much KV memory")
        // What fits the whole memory runs: 2 + 20 blocks.
        let response = try await engine.generate(request: GenerateRequest(prompt: prompt, maxTokens: 300, temperature: 0))
        #expect(!response.choices[0].tokenIDs.isEmpty)
        try await Batching.expectIdle(engine, "after the largest request that fits")
    }

    /// Starts `request` and waits until the engine counts `waiting` requests in its queue.
    static func enqueue(_ engine: Engine, _ request: GenerateRequest, waiting: Int) async throws -> Task<GenerateResponse, any Error> {
        let task = Task { try await engine.generate(request: request) }
        try await Batching.waitFor(engine, "\(waiting) waiting") { $0.waiting == waiting }
        return task
    }

    @Test("requests wait in arrival order: best_of 4 at the head (no room for its sequences) is not overtaken by single ones that would fit")
    func arrivalOrderBySequences() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 4, maxBatchTokens: 64, maxQueue: 8))
        let (runner, scheduler) = try await Batching.startHeldRunner(engine, Batching.longRunner(maxTokens: 1_000))
        scheduler.recordSteps()
        let large = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 3, salt: 51), maxTokens: 6, n: 1, bestOf: 4, seed: 1), waiting: 1)
        let small1 = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 5, salt: 52), maxTokens: 3, seed: 2), waiting: 2)
        let small2 = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 7, salt: 53), maxTokens: 3, seed: 3), waiting: 3)
        // While the runner decodes, the small ones (which would fit beside it) keep waiting.
        let stepsNow = try await Batching.status(engine).steps
        scheduler.allowSteps(10)
        let later = try await Batching.waitFor(engine, "the runner to decode 10 more steps") { $0.steps >= stepsNow + 10 }
        #expect(later.waiting == 3 && later.sequences == 1, "the small requests did not overtake: \(later)")
        scheduler.releaseSteps()
        runner.cancel()
        _ = try? await runner.value
        let l = try await large.value, s1 = try await small1.value, s2 = try await small2.value
        try await Batching.expectIdle(engine, "arrival order")
        let log = scheduler.takeStepLog()
        func steps(_ response: GenerateResponse) throws -> [Int] {
            let id = try #require(Batching.request(withPromptTokens: response.usage.promptTokens, in: log))
            return log.indices.filter { log[$0].parts.contains { $0.request == id } }
        }
        let largeSteps = try steps(l), small1Steps = try steps(s1), small2Steps = try steps(s2)
        // best_of 4 takes all 4 sequences: the small ones start only after it has finished.
        #expect(small1Steps.first! > largeSteps.last!, "large \(largeSteps), small \(small1Steps)")
        #expect(small2Steps.first! > largeSteps.last!, "large \(largeSteps), small \(small2Steps)")
    }

    @Test("requests wait in arrival order: a large KV reservation at the head is not overtaken by small ones that would fit")
    func arrivalOrderByMemory() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 16, maxBatchTokens: 64, maxQueue: 8), kvBlocks: 48)
        let (runner, scheduler) = try await Batching.startHeldRunner(engine, Batching.longRunner(maxTokens: 400))  // 3 + 27 blocks
        let held = try await Batching.status(engine)
        #expect(held.reservedBlocks == 30, "\(held)")
        // 2 + 20 blocks: does not fit beside the runner. Then 2 + 2 blocks each: would.
        let large = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 3, salt: 61), maxTokens: 300, temperature: 0), waiting: 1)
        let small1 = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 4, salt: 62), maxTokens: 8, seed: 2), waiting: 2)
        let small2 = try await Self.enqueue(engine, GenerateRequest(prompt: Batching.prompt(words: 5, salt: 63), maxTokens: 8, seed: 3), waiting: 3)
        let stepsNow = try await Batching.status(engine).steps
        scheduler.allowSteps(10)
        let later = try await Batching.waitFor(engine, "the runner to decode 10 more steps") { $0.steps >= stepsNow + 10 }
        #expect(later.waiting == 3 && later.reservedBlocks == 30, "the small requests did not overtake: \(later)")
        scheduler.releaseSteps()
        runner.cancel()
        _ = try? await runner.value
        // Once the runner is gone all three fit together.
        for task in [large, small1, small2] { #expect(!(try await task.value).choices.isEmpty) }
        try await Batching.expectIdle(engine, "arrival order by memory")
    }
}

/// The admission queue on its own: costs, order, leaving, a full queue, tickets.
@Suite("AdmissionQueue")
struct AdmissionQueueTests {
    static func waitForWaiting(_ queue: AdmissionQueue, _ count: Int) async throws {
        let deadline = ContinuousClock.now + TimeScale.seconds(10)
        while queue.load.waiting != count {
            if ContinuousClock.now >= deadline {
                Issue.record("timed out waiting for \(count) waiting (\(queue.load.waiting))")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Holds a ticket until released (tickets are returned on release or deinit).
    final class Holder: @unchecked Sendable {
        private let lock = NSLock()
        private var tickets: [String: AdmissionTicket] = [:]
        private(set) var order: [String] = []
        func admitted(_ name: String, _ ticket: AdmissionTicket) { lock.withLock { tickets[name] = ticket; order.append(name) } }
        func release(_ name: String) { lock.withLock { tickets.removeValue(forKey: name) }?.release() }
        var admittedOrder: [String] { lock.withLock { order } }
    }

    @Test("first come, first served; a request behind a large one waits; leaving the queue lets the next in")
    func order() async throws {
        let queue = AdmissionQueue(capacity: AdmissionCost(sequences: 4, blocks: 100), maxWaiting: 3)
        let holder = Holder()
        holder.admitted("first", try await queue.admit(AdmissionCost(sequences: 1, blocks: 10)))
        #expect(queue.load.inUse == AdmissionCost(sequences: 1, blocks: 10))
        func start(_ name: String, _ cost: AdmissionCost) -> Task<Void, any Error> {
            Task { holder.admitted(name, try await queue.admit(cost)) }
        }
        let large = start("large", AdmissionCost(sequences: 4, blocks: 10))
        try await Self.waitForWaiting(queue, 1)
        let small = start("small", AdmissionCost(sequences: 1, blocks: 1))
        try await Self.waitForWaiting(queue, 2)
        let memory = start("memory", AdmissionCost(sequences: 1, blocks: 95))
        try await Self.waitForWaiting(queue, 3)
        // Full: the fourth is refused.
        await #expect(throws: GenerateError.queueFull(waiting: 3)) { _ = try await queue.admit(AdmissionCost(sequences: 1, blocks: 1)) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(holder.admittedOrder == ["first"], "small fits beside first but must wait behind large")

        holder.release("first")  // large fits now; small not beside it
        try await large.value
        try await Self.waitForWaiting(queue, 2)
        #expect(holder.admittedOrder == ["first", "large"])
        #expect(queue.load.inUse == AdmissionCost(sequences: 4, blocks: 10))

        holder.release("large")  // small, then memory (1 + 95 blocks ≤ 100) both fit
        try await small.value
        try await memory.value
        #expect(holder.admittedOrder == ["first", "large", "small", "memory"])
        #expect(queue.load.inUse == AdmissionCost(sequences: 2, blocks: 96))
        holder.release("small")
        holder.release("memory")
        #expect(queue.load.inUse == AdmissionCost(sequences: 0, blocks: 0) && queue.load.waiting == 0)
    }

    @Test("a cancelled waiter leaves the queue, and the one behind it gets in if it fits")
    func cancelWaiter() async throws {
        let queue = AdmissionQueue(capacity: AdmissionCost(sequences: 2, blocks: 10), maxWaiting: 4)
        var held: AdmissionTicket? = try await queue.admit(AdmissionCost(sequences: 1, blocks: 5))
        let large = Task { try await queue.admit(AdmissionCost(sequences: 2, blocks: 2)) }
        try await Self.waitForWaiting(queue, 1)
        let small = Task { try await queue.admit(AdmissionCost(sequences: 1, blocks: 5)) }
        try await Self.waitForWaiting(queue, 2)
        large.cancel()
        await #expect(throws: CancellationError.self) { _ = try await large.value }
        let ticket = try await small.value  // fits beside `held` once large has left
        #expect(queue.load.inUse == AdmissionCost(sequences: 2, blocks: 10) && queue.load.waiting == 0)
        ticket.release()
        ticket.release()  // twice is once
        #expect(queue.load.inUse == AdmissionCost(sequences: 1, blocks: 5))
        held = nil  // a dropped ticket returns its cost
        _ = held
        #expect(queue.load.inUse == AdmissionCost(sequences: 0, blocks: 0))
    }
}
