import Testing
@testable import SparrowServer

/// The per-model admission queue on its own.
@Suite("ModelLimiter")
struct ModelLimiterTests {
    @Test("slots, arrival order, a full queue, cancellation while waiting, release by deinit")
    func queueing() async throws {
        let limiter = ModelLimiter(concurrency: 1, queueLength: 2)
        let a = try await limiter.acquire("m")
        #expect(await limiter.load("m") == (1, 0))
        // Another model has its own slots.
        let other = try await limiter.acquire("other")
        await other.release()

        let b = Task { try await limiter.acquire("m") }
        #expect(await TestServer.eventually { await limiter.load("m") == (1, 1) })
        let c = Task { try await limiter.acquire("m") }
        #expect(await TestServer.eventually { await limiter.load("m") == (1, 2) })
        await #expect(throws: ModelLimiter.QueueFull.self) { _ = try await limiter.acquire("m") }

        b.cancel()
        await #expect(throws: CancellationError.self) { _ = try await b.value }
        #expect(await limiter.load("m") == (1, 1))

        await a.release()
        await a.release()  // a second release is harmless
        let cPermit = try await c.value
        #expect(await limiter.load("m") == (1, 0))
        _ = cPermit
    }

    @Test("a permit that is dropped without release() frees its slot")
    func releaseOnDeinit() async throws {
        let limiter = ModelLimiter(concurrency: 1, queueLength: 0)
        do {
            _ = try await limiter.acquire("m")
        }
        #expect(await TestServer.eventually { await limiter.load("m") == (0, 0) })
        let again = try await limiter.acquire("m")
        await again.release()
        #expect(await limiter.load("m") == (0, 0))
    }
}
