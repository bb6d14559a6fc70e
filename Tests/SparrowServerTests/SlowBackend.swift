import Dispatch
import Foundation
import GenerateAPI
import SparrowServer

/// A backend without a model whose generations take as long as a test needs, so queues fill and
/// streams run deterministically. Like ``GenerateAPI/Engine`` it generates on threads that block,
/// not on Swift's cooperative pool: one `Thread` per generation, since Linux's Dispatch adds a
/// worker for blocked ones only once a second and would hold back tests that run eight at once.
final class SlowBackend: GenerationBackend {
    /// What happened, for the test to check.
    actor Record {
        private(set) var started = 0
        private(set) var finished = 0
        private(set) var cancelled = 0
        private(set) var deltas = 0
        func start() { started += 1 }
        func finish() { finished += 1 }
        func cancel() { cancelled += 1 }
        func delta() { deltas += 1 }
    }

    /// Held closed, generations wait at their first token; `open()` lets them all run.
    final class Gate: @unchecked Sendable {
        // A lock rather than an actor: the waiting side is a Dispatch thread.
        private let lock = NSLock()
        private var isOpen: Bool
        init(open: Bool) { isOpen = open }
        func open() { lock.lock(); isOpen = true; lock.unlock() }
        var opened: Bool { lock.lock(); defer { lock.unlock() }; return isOpen }
    }

    let record = Record()
    let gate: Gate
    /// Tokens per answer, and the time each takes.
    let tokens: Int
    let tokenSeconds: Double
    /// Spin instead of sleeping, so a generation really occupies a core.
    let busy: Bool
    /// Set: the backend queues itself, as the engine does — its admissions name no server queue,
    /// it runs up to this many generations at once and refuses the next with
    /// `GenerateError.queueFull`. `nil`: every request waits in the server's queue "slow".
    let capacity: Int?
    private let inFlight = Counter()

    init(tokens: Int = 5, tokenSeconds: Double = 0.01, gateOpen: Bool = true, busy: Bool = false, capacity: Int? = nil) {
        self.tokens = tokens
        self.tokenSeconds = tokenSeconds
        self.gate = Gate(open: gateOpen)
        self.busy = busy
        self.capacity = capacity
    }

    func admit(_ request: GenerateRequest) async throws -> Admission {
        Admission(queueKey: request.mockResponse || capacity != nil ? nil : "slow", modelName: request.model ?? "slow")
    }

    /// Generations running, when the backend queues itself.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        /// Adds one unless `limit` are already counted.
        func enter(limit: Int) -> Bool {
            lock.lock(); defer { lock.unlock() }
            guard value < limit else { return false }
            value += 1
            return true
        }
        func leave() { lock.lock(); value -= 1; lock.unlock() }
    }

    func modelNames() async -> [String] { ["slow"] }

    func generate(request: GenerateRequest) async throws -> GenerateResponse {
        for try await event in stream(request: request) {
            if case let .finished(response) = event { return response }
        }
        throw TestFailure("the stream ended without a response")
    }

    func stream(request: GenerateRequest) -> AsyncThrowingStream<GenerateStreamEvent, any Error> {
        let record = record, tokens = tokens, tokenSeconds = tokenSeconds, busy = busy
        let model = request.model ?? "slow"
        // A mock response is answered at once, as the engine answers it.
        let gate = request.mockResponse ? Gate(open: true) : gate
        let counted = !request.mockResponse && capacity != nil
        if counted, let capacity, !inFlight.enter(limit: capacity) {
            return AsyncThrowingStream { $0.finish(throwing: GenerateError.queueFull(waiting: 0)) }
        }
        let inFlight = inFlight
        return AsyncThrowingStream { continuation in
            let stop = Gate(open: false)
            continuation.onTermination = { reason in
                stop.open()
                if counted { inFlight.leave() }
                if case .cancelled = reason { Task { await record.cancel() } }
            }
            Thread {
                let started = DispatchSemaphore(value: 0)
                Task { await record.start(); started.signal() }
                started.wait()
                while !gate.opened, !stop.opened { Thread.sleep(forTimeInterval: 0.005) }
                var text = ""
                for i in 0..<tokens where !stop.opened {
                    Self.work(seconds: tokenSeconds, busy: busy)
                    let piece = i == 0 ? "token0" : " token\(i)"
                    text += piece
                    continuation.yield(.delta(index: 0, text: piece))
                    Task { await record.delta() }
                }
                if stop.opened { return }
                let choice = GenerateChoice(index: 0, text: text, tokenIDs: Array(0..<tokens), finishReason: .length,
                                            stopReason: nil, cumulativeLogprob: 0, logprobs: nil)
                let response = GenerateResponse(
                    id: "slow", model: model, choices: [choice], usage: .init(promptTokens: 1, completionTokens: tokens),
                    timing: .init(loadSeconds: 0, promptSeconds: 0, generationSeconds: 0, promptTokensPerSecond: 0,
                                  generationTokensPerSecond: 0))
                continuation.yield(.finished(response))
                continuation.finish()
                Task { await record.finish() }
            }.start()
        }
    }

    private static func work(seconds: Double, busy: Bool) {
        guard busy else { Thread.sleep(forTimeInterval: seconds); return }
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        var x = 1.0
        while DispatchTime.now().uptimeNanoseconds < end { x = x * 1.000001 + 1e-9 }
        if x < 0 { print(x) }  // keeps the loop from being optimised away
    }
}
