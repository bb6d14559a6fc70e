import Testing
@testable import Tensor
@testable import Transformer

/// The feed-forward gate split across the pool's threads gives the bits it gives on one thread.
@Suite("SwiGLU: the same bits on the pool")
struct SwiGLUTests {
    @Test(arguments: [1, SwiGLU.parallelThreshold - 1, SwiGLU.parallelThreshold, 3 * SwiGLU.parallelThreshold + 7])
    func pooledGateMatchesOneThread(count: Int) {
        var rng = SplitMix64(state: UInt64(count))
        let gate = (0..<count).map { _ in rng.float(20) }
        let up = (0..<count).map { _ in rng.float(3) }
        var alone = [Float](repeating: .nan, count: count), pooled = alone
        var g = gate, u = up
        SwiGLU.apply(gate: &g, up: &u, into: &alone, count: count)
        SwiGLU.apply(gate: &g, up: &u, into: &pooled, count: count, runner: WorkerPool(threads: 3))
        #expect(alone.map(\.bitPattern) == pooled.map(\.bitPattern))
        #expect(alone[0].bitPattern == (Activation.silu(gate[0]) * up[0]).bitPattern)
    }
}

