import Tensor

/// The SwiGLU gate of the feed-forward block: out = silu(gate) ⊙ up, elementwise.
enum SwiGLU {
    /// Values below which the gate runs on the calling thread: a decoded token's few thousand
    /// values take less time than handing them to the pool.
    static let parallelThreshold = 16_384

    /// `count` values; `out` may be `gate` or `up`. A prompt's values are shared among the
    /// `runner`'s threads in contiguous pieces; each value is computed alone, so the split changes
    /// no bit.
    static func apply(
        gate: UnsafeMutablePointer<Float>, up: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>,
        count: Int, runner: (any ParallelRunner)? = nil
    ) {
        guard let runner, runner.threadCount > 1, count >= parallelThreshold else {
            Activation.unsafeSwiGLU(gate: gate, up: up, into: out, count: count)
            return
        }
        runner.run(tasks: runner.threadCount, Shares(gate: gate, up: up, out: out, count: count,
                                                     shares: runner.threadCount))
    }

    /// Contiguous shares of the values, one per task.
    private struct Shares: ParallelTask {
        let gate: UnsafeMutablePointer<Float>, up: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
        let count: Int, shares: Int

        func run(task t: Int) {
            let lo = t * count / shares, hi = (t + 1) * count / shares
            Activation.unsafeSwiGLU(gate: gate + lo, up: up + lo, into: out + lo, count: hi - lo)
        }
    }
}
