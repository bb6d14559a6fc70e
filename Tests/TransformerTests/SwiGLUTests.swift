import Testing
@testable import Tensor
@testable import Transformer

/// The feed-forward gate split across the pool's threads gives the bits it gives on one thread.
@Suite("SwiGLU: the same bits on the pool")
struct SwiGLUTests {
    @Test(arguments: [1, SwiGLU.parallelThreshold - 1, SwiGLU.parallelThreshold, 3 * SwiGLU.parallelThreshold + 7])
    func pooledGateMatchesOneThread(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let gate = (0..<count).map { _ in Float.random(in: -20...20, using: &rng) }
        let up = (0..<count).map { _ in Float.random(in: -3...3, using: &rng) }
        var alone = [Float](repeating: .nan, count: count), pooled = alone
        var g = gate, u = up
        SwiGLU.apply(gate: &g, up: &u, into: &alone, count: count)
        SwiGLU.apply(gate: &g, up: &u, into: &pooled, count: count, runner: WorkerPool(threads: 3))
        #expect(alone.map(\.bitPattern) == pooled.map(\.bitPattern))
        #expect(alone[0].bitPattern == (Activation.silu(gate[0]) * up[0]).bitPattern)
    }
}
