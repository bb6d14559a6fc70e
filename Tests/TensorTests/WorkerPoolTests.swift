import Foundation
import Testing
import Tensor

@Suite("WorkerPool: every task once, on every thread count")
struct WorkerPoolTests {
    /// The pool runs every task exactly once, for any task count, many times over.
    @Test func workerPoolRunsEveryTaskOnce() {
        let runner = sharedRunner(threads: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for tasks in [1, 2, 3, 7, 64, 1000] {
            for _ in 0..<50 {
                counts.update(repeating: 0, count: tasks)
                runner.run(tasks: tasks) { i in counts[i] += 1 }
                #expect((0..<tasks).allSatisfy { counts[$0] == 1 })
            }
        }
    }

    /// The same through a task value (`ParallelTask`, the decode loop's allocation-free form),
    /// alternating with closures, on the pool and on the serial runner.
    @Test(arguments: [1, 2, 3])
    func workerPoolRunsEveryTaskValueOnce(threads: Int) {
        struct Count: ParallelTask {
            let counts: UnsafeMutablePointer<Int>
            let offset: Int
            func run(task: Int) { counts[task] += offset }
        }
        let runner = sharedRunner(threads: threads)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for tasks in [1, 2, 3, 7, 64, 1000] {
            for round in 0..<50 {
                counts.update(repeating: 0, count: tasks)
                if round % 2 == 0 {
                    runner.run(tasks: tasks, Count(counts: counts, offset: 1))
                } else {
                    runner.run(tasks: tasks) { i in counts[i] += 1 }
                }
                #expect((0..<tasks).allSatisfy { counts[$0] == 1 })
            }
        }
    }

    /// After a pause long enough for idle workers to stop spinning and sleep, the next operations
    /// wake them and still run every task exactly once, on more than the calling thread.
    @Test func sleepingWorkerPoolWakesForTheNextRun() {
        let runner = sharedRunner(threads: 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        defer { counts.deallocate() }
        let caller = pthread_self()
        var otherThreadRan = false
        for round in 0..<200 {
            // 20 000 yields, then the worker sleeps: 50 ms is well past that on this kind of machine.
            if round % 40 == 0 { usleep(50_000) }
            counts.update(repeating: 0, count: 256)
            let others = UnsafeMutablePointer<Int>.allocate(capacity: 256)
            defer { others.deallocate() }
            runner.run(tasks: 256) { i in
                counts[i] += 1
                for _ in 0..<2_000 { others[i] = pthread_equal(pthread_self(), caller) == 0 ? 1 : 0 }
            }
            #expect((0..<256).allSatisfy { counts[$0] == 1 })
            if (0..<256).contains(where: { others[$0] == 1 }) { otherThreadRan = true }
        }
        #expect(otherThreadRan)
    }

    /// More pool threads than cores, from several callers at once: workers the scheduler has not
    /// run yet are skipped by operations that close without them, and late workers never touch
    /// an operation they did not join. Every task still runs exactly once.
    @Test func oversubscribedPoolsRunEveryTaskOnce() async {
        let pools = (0..<4).map { _ in WorkerPool(threads: 3) }
        await withTaskGroup(of: Bool.self) { group in
            for pool in pools {
                group.addTask {
                    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
                    defer { counts.deallocate() }
                    var ok = true
                    for round in 0..<3_000 {
                        let tasks = 1 + round % 64
                        counts.update(repeating: 0, count: tasks)
                        pool.run(tasks: tasks) { i in counts[i] += 1 }
                        ok = ok && (0..<tasks).allSatisfy { counts[$0] == 1 }
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
