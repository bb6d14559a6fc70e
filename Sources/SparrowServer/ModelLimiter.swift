/// Admits generation requests per queue key (one per model file): at most `concurrency` run at
/// once, at most `queueLength` more wait in arrival order, and the next one is turned away (429)
/// instead of piling up.
///
/// Only for backends that name a key in their ``Admission``: one that cannot batch runs a request
/// with every core, so on a small machine running one at a time per model loses nothing, while a
/// mock response or another model is not held up by it. An ``GenerateAPI/Engine`` names no key:
/// its scheduler batches and queues each model's requests itself.
actor ModelLimiter {
    /// The queue of `key` is full.
    struct QueueFull: Error {
        let running: Int
        let waiting: Int
    }

    private struct Slot {
        var running = 0
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    let concurrency: Int
    let queueLength: Int
    private var slots: [String: Slot] = [:]
    /// Permits handed out and not yet returned (so that a double return is harmless).
    private var live: Set<UInt64> = []
    private var nextID: UInt64 = 0

    init(concurrency: Int, queueLength: Int) {
        self.concurrency = max(1, concurrency)
        self.queueLength = max(0, queueLength)
    }

    /// Waits for a slot of `key`'s model and returns it as a permit. Cancelling the waiting task
    /// leaves the queue and throws `CancellationError`.
    /// - Throws: ``QueueFull`` when `queueLength` requests already wait.
    func acquire(_ key: String) async throws -> Permit {
        nextID += 1
        let id = nextID
        var slot = slots[key, default: Slot()]
        if slot.running < concurrency {
            slot.running += 1
            slots[key] = slot
        } else {
            guard slot.waiting.count < queueLength else {
                throw QueueFull(running: slot.running, waiting: slot.waiting.count)
            }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        slots[key, default: Slot()].waiting.append((id, continuation))
                    }
                }
            } onCancel: {
                Task { await self.leaveQueue(key, id: id) }
            }
            // A slot was handed over by `release`: `running` already counts it.
        }
        live.insert(id)
        return Permit(limiter: self, key: key, id: id)
    }

    /// Returns a permit's slot: the longest-waiting request takes it over, else it becomes free.
    func release(_ key: String, id: UInt64) {
        guard live.remove(id) != nil, var slot = slots[key] else { return }
        if slot.waiting.isEmpty {
            slot.running -= 1
        } else {
            slot.waiting.removeFirst().continuation.resume()
        }
        slots[key] = slot.running == 0 && slot.waiting.isEmpty ? nil : slot
    }

    /// How many requests of `key` run and wait (for tests and logs).
    func load(_ key: String) -> (running: Int, waiting: Int) {
        let slot = slots[key] ?? Slot()
        return (slot.running, slot.waiting.count)
    }

    private func leaveQueue(_ key: String, id: UInt64) {
        guard var slot = slots[key], let index = slot.waiting.firstIndex(where: { $0.id == id }) else { return }
        slot.waiting.remove(at: index).continuation.resume(throwing: CancellationError())
        slots[key] = slot
    }
}

/// One admitted request's slot. It is returned by ``release()`` or, should a response be dropped
/// before its body ran (the client went away before the headers were written), when the permit is
/// freed, so a slot can never leak.
final class Permit: Sendable {
    let limiter: ModelLimiter
    let key: String
    let id: UInt64

    init(limiter: ModelLimiter, key: String, id: UInt64) {
        self.limiter = limiter
        self.key = key
        self.id = id
    }

    func release() async {
        await limiter.release(key, id: id)
    }

    deinit {
        let limiter = limiter, key = key, id = id
        Task { await limiter.release(key, id: id) }
    }
}
