import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// Every admitted request generates at once, in shared steps: none waits for a worker thread. (The
/// engine runs each generation, which blocks its thread for the whole request, off the cooperative
/// pool; on Linux the global Dispatch queue has about one thread per core and adds more only about
/// once a second, so generations run there would take turns on a 2-core machine.)
@Suite("Batching: many requests generate at once")
struct BatchingConcurrencyTests {
    /// Long runners that end only at max_tokens (checked once, as in `BatchingAdmissionTests`).
    static let salts: [UInt64] = [2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
    static var count: Int { salts.count }

    @Test("10 requests started together are all generating at once, and share steps")
    func allGenerateAtOnce() async throws {
        let engine = Batching.engine(.init(maxBatchSequences: 16, maxBatchTokens: 64, maxQueue: 0))
        try await engine.preload()
        let scheduler = try await Batching.scheduler(engine)
        scheduler.recordSteps()
        // Held until all have arrived, so that how fast a busy machine starts the tasks does not
        // decide which steps they share.
        scheduler.holdSteps(after: 0)
        var tasks: [Task<GenerateResponse, any Error>] = []
        for salt in Self.salts {
            let request = Batching.longRunner(maxTokens: 1_000, salt: salt)
            tasks.append(Task { try await engine.generate(request: request) })
        }
        // maxQueue 0: none of them may wait for admission either (all fit), so none is refused.
        // Each runs for 1,000 tokens, so they can only all be generating at one moment if none
        // waits for another: the bound only stops a hang (a loaded machine may take seconds).
        let all = try await Batching.waitFor(engine, "all \(Self.count) generating", seconds: 10) { $0.generating == Self.count }
        #expect(all.generating == Self.count && all.sequences == Self.count, "\(all)")
        let steps = all.steps
        scheduler.waitForSampling(upTo: .seconds(10))
        scheduler.releaseSteps()
        try await Batching.waitFor(engine, "10 more steps") { $0.steps >= steps + 10 }
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
        try await Batching.expectIdle(engine, "after cancelling all")
        let log = scheduler.takeStepLog()
        // All of them should share a step; the gather window is 2 ms of wall-clock time, so a
        // sanitized (slow) build may split them: at least half.
        let widest = log.map { Set($0.parts.map(\.request)).count }.max() ?? 0
        #expect(widest * (TimeScale.factor == 1 ? 1 : 2) >= Self.count, "the widest step ran \(widest) of \(Self.count) requests")
    }
}
