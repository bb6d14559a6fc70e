#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs the tasks of one operation on several threads: the caller plus `threadCount − 1`
/// persistent workers, created once and reused by every operation (no thread or task is created
/// per operation).
///
/// ``run(tasks:_:)`` cuts the task indices 0..<tasks into one contiguous range per thread. Each
/// thread takes its own range's tasks in order from the front, then takes what is left of the
/// others' from their backs (threads that run faster take more, which matters on a shared machine).
/// Tasks that cut a matrix into chunks of rows thus reach each thread in memory order, so a
/// kernel's prefetch at the end of one chunk fetches the start of the chunk its thread does next.
/// `run` returns when every task is done and every worker that joined the operation has left it.
/// A worker joins an operation only while it is open; the caller closes it once no task is left to
/// take, so a worker the scheduler has not run yet (a busy host runs more threads than it has
/// cores) is skipped rather than waited for, and the caller does its share. Between operations workers spin briefly (yielding the CPU), then
/// sleep on a condition variable until the next one.
///
/// One operation runs at a time; a `run` that finds the pool busy (another thread's model using it)
/// runs its tasks on the calling thread alone. Prefill's sgemms run inside the pool's tasks, each on
/// one OpenBLAS thread (see ``BLAS/setThreadCount(_:)``).
package protocol ParallelRunner: AnyObject, Sendable {
    /// Threads taking part in an operation, the caller included.
    var threadCount: Int { get }
    /// Calls `body(i)` once for every i in 0..<tasks, on any of the threads, and returns when all
    /// calls have returned.
    ///
    /// Handing a closure to other threads takes `withoutActuallyEscaping`, which allocates a small
    /// box on every call; the decode loop uses ``run(tasks:_:)-(_,ParallelTask)`` instead.
    func run(tasks: Int, _ body: (Int) -> Void)
    /// Calls `task.run(task: i)` once for every i in 0..<tasks, on any of the threads, and returns
    /// when all calls have returned. Allocates nothing: the threads read `task` where it lies on
    /// the caller's stack.
    func run<Task: ParallelTask>(tasks: Int, _ task: Task)
}

/// One operation's work for a ``ParallelRunner``, as a value: the fields are what a closure would
/// capture, ``run(task:)`` its body.
package protocol ParallelTask {
    /// Does task `task` of the operation.
    func run(task: Int)
}

/// Runs everything on the calling thread.
package final class SerialRunner: ParallelRunner {
    package init() {}
    package var threadCount: Int { 1 }
    package func run(tasks: Int, _ body: (Int) -> Void) {
        for i in 0..<tasks { body(i) }
    }
    package func run<Task: ParallelTask>(tasks: Int, _ task: Task) {
        for i in 0..<tasks { task.run(task: i) }
    }
}

/// The pool to use for `threads` threads: a process-wide pool per thread count, created on first
/// use (threads are never torn down), or a ``SerialRunner`` for 1 thread or where the pool's
/// atomics are unavailable.
package func sharedRunner(threads: Int) -> any ParallelRunner {
    guard threads > 1 else { return SerialRunner() }
    if #available(macOS 15.0, *) {
        return WorkerPool.shared(threads: threads)
    }
    return SerialRunner()
}

@available(macOS 15.0, *)
package final class WorkerPool: ParallelRunner, @unchecked Sendable {
    package let threadCount: Int

    /// The current operation's body; set by `run` before the operation is opened, cleared after
    /// every worker that joined it has left.
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    /// The current operation's task value and its type, when it was given as a ``ParallelTask``.
    private nonisolated(unsafe) var taskPointer: UnsafeRawPointer?
    private nonisolated(unsafe) var taskType: (any ParallelTask.Type)?
    /// The current operation: its number (``OperationState/generationShift`` and up, bumped once
    /// per operation; workers wait for it to change), whether it is closed to joining, and how
    /// many workers joined it.
    private let operation = Atomic<Int>(0)
    /// Per participant (the caller is 0, workers number themselves 1… as they join): the tasks
    /// of its range not yet taken, front | back << 32 (see ``TaskRange``).
    private let ranges: UnsafeMutablePointer<Atomic<Int>>
    /// Workers that joined the current operation and have left it.
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    private static let registry = Mutex<[Int: WorkerPool]>([:])

    /// The process-wide pool of `threads` threads (the caller and threads − 1 workers).
    package static func shared(threads: Int) -> WorkerPool {
        registry.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = WorkerPool(threads: threads)
            pools[threads] = pool
            return pool
        }
    }

    /// A pool of `threads` threads in all; it lives as long as the process (workers keep it).
    package init(threads: Int) {
        threadCount = max(1, threads)
        ranges = .allocate(capacity: threadCount)
        for p in 0..<threadCount { (ranges + p).initialize(to: Atomic(0)) }
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 1..<threadCount { startWorker() }
    }

    private func startWorker() {
        let context = Unmanaged.passRetained(self).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let created = pthread_create(&thread, nil, { raw in
            #if canImport(Darwin)
            let pool = Unmanaged<WorkerPool>.fromOpaque(raw).takeRetainedValue()
            #else
            let pool = Unmanaged<WorkerPool>.fromOpaque(raw!).takeRetainedValue()
            #endif
            pool.workerLoop()
            return nil
        }, context)
        if created == 0 {
            #if canImport(Darwin)
            if let thread { pthread_detach(thread) }
            #else
            pthread_detach(thread)
            #endif
        } else {
            Unmanaged<WorkerPool>.fromOpaque(context).release()
        }
    }

    package func run(tasks: Int, _ body: (Int) -> Void) {
        guard acquire(tasks: tasks) else {
            for i in 0..<tasks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            start(tasks: tasks)
            Self.runTasks(participant: 0, of: threadCount, ranges: ranges, escapable)
            waitForWorkers()
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    package func run<Task: ParallelTask>(tasks: Int, _ task: Task) {
        guard acquire(tasks: tasks) else {
            for i in 0..<tasks { task.run(task: i) }
            return
        }
        withUnsafePointer(to: task) { pointer in
            taskPointer = UnsafeRawPointer(pointer)
            taskType = Task.self
            start(tasks: tasks)
            let task = UnsafeRawPointer(pointer).assumingMemoryBound(to: Task.self)
            Self.runTasks(participant: 0, of: threadCount, ranges: ranges) { task.pointee.run(task: $0) }
            waitForWorkers()
            taskPointer = nil
            taskType = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Whether this operation runs on the pool: more than one task, more than one thread, and the
    /// pool not busy with another caller's operation (then it is now this caller's).
    private func acquire(tasks: Int) -> Bool {
        tasks > 1 && threadCount > 1
            && busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Publishes an operation of `tasks` tasks (its body already set), open to joining, and wakes
    /// sleeping workers.
    private func start(tasks: Int) {
        for p in 0..<threadCount {
            ranges[p].store(TaskRange.pack(front: tasks * p / threadCount, back: tasks * (p + 1) / threadCount),
                            ordering: .relaxed)
        }
        finished.store(0, ordering: .relaxed)
        let generation = OperationState.generation(of: operation.load(ordering: .relaxed)) + 1
        operation.store(OperationState.open(generation: generation), ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    /// The barrier, once the caller has found no task left: the operation is closed to workers
    /// that have not joined it yet, and the caller waits for the ones that did to leave (finish
    /// their tasks and let go of the body). The wait yields the core after a few rounds: a joined
    /// worker that is not running may need this very core to finish.
    private func waitForWorkers() {
        var state = operation.load(ordering: .relaxed)
        while true {
            let exchange = operation.compareExchange(expected: state, desired: state | OperationState.closed,
                                                     ordering: .acquiringAndReleasing)
            if exchange.exchanged { break }
            state = exchange.original
        }
        let joined = OperationState.joined(state)
        var spins = 0
        while finished.load(ordering: .acquiring) < joined {
            spins += 1
            if spins > 64 { sched_yield() }
        }
    }

    /// The packing of ``operation``: generation in the high bits, then the closed flag, then the
    /// count of workers that joined.
    private enum OperationState {
        static let generationShift = 16
        static let closed = 1 << 15
        static let joinedMask = closed - 1

        static func open(generation: Int) -> Int { generation << generationShift }
        static func generation(of state: Int) -> Int { state >> generationShift }
        static func joined(_ state: Int) -> Int { state & joinedMask }
        static func isClosed(_ state: Int) -> Bool { state & closed != 0 }
    }

    /// A participant's range of task indices in one atomic Int: the next to take from the front
    /// (low 32 bits) and the end (high 32 bits); empty when front ≥ back.
    private enum TaskRange {
        static func pack(front: Int, back: Int) -> Int { front | back << 32 }

        /// Takes the front task of `range` (or its back task), or nil when it is empty.
        static func take(_ range: borrowing Atomic<Int>, fromBack: Bool) -> Int? {
            var state = range.load(ordering: .relaxed)
            while true {
                let front = state & 0xFFFF_FFFF, back = state >> 32
                guard front < back else { return nil }
                let desired = fromBack ? pack(front: front, back: back - 1) : pack(front: front + 1, back: back)
                let exchange = range.compareExchange(expected: state, desired: desired, ordering: .relaxed)
                if exchange.exchanged { return fromBack ? back - 1 : front }
                state = exchange.original
            }
        }
    }

    /// Participant `participant`'s share of the current operation: its own range from the front,
    /// in order, then the other ranges from their backs until every range is empty.
    @inline(__always)
    private static func runTasks(participant: Int, of count: Int, ranges: UnsafeMutablePointer<Atomic<Int>>,
                                 _ body: (Int) -> Void) {
        while let i = TaskRange.take(ranges[participant], fromBack: false) { body(i) }
        for step in 1..<count {
            let other = (participant + step) % count
            while let i = TaskRange.take(ranges[other], fromBack: true) { body(i) }
        }
    }

    private func workerLoop() {
        // Workers are started in init, before any operation: generation 0 is the one to wait past.
        // (Reading it here instead would miss an operation begun before this thread first ran.)
        var seen = 0
        while true {
            // Wait for the next operation: spin (yielding) for a while, then sleep.
            var spins = 0
            var state = operation.load(ordering: .acquiring)
            while OperationState.generation(of: state) == seen {
                spins += 1
                if spins < 200 {
                    // A short busy spin: operations follow each other within microseconds.
                } else if spins < 20_000 {
                    sched_yield()
                } else {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while OperationState.generation(of: operation.load(ordering: .sequentiallyConsistent)) == seen {
                        pthread_cond_wait(condition, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
                state = operation.load(ordering: .acquiring)
            }
            seen = OperationState.generation(of: state)
            // Join while the operation is open; a closed one (its tasks all taken) or a newer one
            // that replaced it is not this worker's to touch.
            while OperationState.generation(of: state) == seen, !OperationState.isClosed(state) {
                let exchange = operation.compareExchange(expected: state, desired: state + 1,
                                                         ordering: .acquiringAndReleasing)
                if exchange.exchanged {
                    work(participant: OperationState.joined(state) + 1)
                    finished.add(1, ordering: .releasing)
                    break
                }
                state = exchange.original
            }
        }
    }

    /// Takes tasks of the current operation until none are left. Kept out of line so the body's
    /// reference is released before the worker reports it has left.
    @inline(never)
    private func work(participant: Int) {
        guard participant < threadCount else { return }
        if let body {
            Self.runTasks(participant: participant, of: threadCount, ranges: ranges, body)
        } else if let taskType, let taskPointer {
            Self.runTasks(participant: participant, of: threadCount, ranges: ranges, type: taskType, at: taskPointer)
        }
    }

    /// ``runTasks(participant:of:ranges:_:)`` on the task value at `pointer`, of type `Task`.
    private static func runTasks<Task: ParallelTask>(
        participant: Int, of count: Int, ranges: UnsafeMutablePointer<Atomic<Int>>, type _: Task.Type,
        at pointer: UnsafeRawPointer
    ) {
        let task = pointer.assumingMemoryBound(to: Task.self)
        runTasks(participant: participant, of: count, ranges: ranges) { task.pointee.run(task: $0) }
    }
}
