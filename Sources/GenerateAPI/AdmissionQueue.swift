import Foundation

/// What a request holds while it generates: sequences of the batch and blocks of KV memory.
struct AdmissionCost: Sendable, Equatable {
    var sequences: Int
    var blocks: Int
}

/// Admits requests to one model's scheduler in arrival order, while their costs fit: at most
/// ``BatchingLimits/maxBatchSequences`` sequences and the KV pool's blocks, reserved for each
/// request's worst case (prompt + max_tokens for every candidate), so a running sequence never
/// finds the pool empty and nothing needs to be preempted.
///
/// The first waiting request blocks the ones behind it even if they would fit (first come, first
/// served: a large request is never starved by small ones).
final class AdmissionQueue: @unchecked Sendable {
    let capacity: AdmissionCost
    let maxWaiting: Int
    private let lock = NSLock()
    private var inUse = AdmissionCost(sequences: 0, blocks: 0)
    private var waiting: [(id: UInt64, cost: AdmissionCost, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID: UInt64 = 0

    init(capacity: AdmissionCost, maxWaiting: Int) {
        self.capacity = capacity
        self.maxWaiting = maxWaiting
    }

    /// Sequences and blocks held, and requests waiting (for tests and logs).
    var load: (inUse: AdmissionCost, waiting: Int) { lock.withLock { (inUse, waiting.count) } }

    /// Waits until `cost` fits (in arrival order) and returns the ticket that holds it. Cancelling
    /// the waiting task leaves the queue and throws `CancellationError`.
    /// - Throws: ``GenerateError/queueFull(waiting:)`` when ``maxWaiting`` requests already wait.
    func admit(_ cost: AdmissionCost) async throws -> AdmissionTicket {
        let (id, admitted): (UInt64, Bool) = try lock.withLock {
            nextID += 1
            if waiting.isEmpty && fits(cost) {
                take(cost)
                return (nextID, true)
            }
            guard waiting.count < maxWaiting else { throw GenerateError.queueFull(waiting: waiting.count) }
            return (nextID, false)
        }
        if !admitted {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    lock.withLock {
                        if Task.isCancelled {
                            continuation.resume(throwing: CancellationError())
                        } else {
                            waiting.append((id, cost, continuation))
                            admitWaiting()
                        }
                    }
                }
            } onCancel: {
                leave(id)
            }
        }
        return AdmissionTicket(queue: self, cost: cost)
    }

    /// Returns `cost` and admits whoever now fits.
    fileprivate func release(_ cost: AdmissionCost) {
        lock.withLock {
            inUse.sequences -= cost.sequences
            inUse.blocks -= cost.blocks
            admitWaiting()
        }
    }

    private func fits(_ cost: AdmissionCost) -> Bool {
        inUse.sequences + cost.sequences <= capacity.sequences && inUse.blocks + cost.blocks <= capacity.blocks
    }

    private func take(_ cost: AdmissionCost) {
        inUse.sequences += cost.sequences
        inUse.blocks += cost.blocks
    }

    /// Admits waiting requests from the front while they fit (under the lock).
    private func admitWaiting() {
        while let first = waiting.first, fits(first.cost) {
            waiting.removeFirst()
            take(first.cost)
            first.continuation.resume()
        }
    }

    private func leave(_ id: UInt64) {
        lock.withLock {
            guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
            waiting.remove(at: index).continuation.resume(throwing: CancellationError())
            // The request behind a large one may fit now.
            admitWaiting()
        }
    }
}

/// An admitted request's share of its model's scheduler; returned by ``release()`` or, failing
/// that, when the ticket goes away.
final class AdmissionTicket: @unchecked Sendable {
    private let queue: AdmissionQueue
    private let cost: AdmissionCost
    private let lock = NSLock()
    private var released = false

    fileprivate init(queue: AdmissionQueue, cost: AdmissionCost) {
        self.queue = queue
        self.cost = cost
    }

    func release() {
        let first = lock.withLock {
            defer { released = true }
            return !released
        }
        if first { queue.release(cost) }
    }

    deinit { release() }
}
