#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Elementwise activations of the feed-forward block.
package enum Activation {
    /// SiLU (swish) of one value: x·σ(x), written x / (1 + e^−x) as llama.cpp does. For very
    /// negative x, e^−x overflows to +∞ and the result is −0, the right limit. Below −89 (e^89 is
    /// past Float's largest value) that −0 comes without calling `exp`, whose overflow path (it
    /// sets errno) costs many times a normal call; the result's bits are the same (−∞ still gives
    /// −∞ / ∞ = NaN).
    @inlinable
    package static func silu(_ x: Float) -> Float {
        if x < -89, x != -.infinity { return -0.0 }
        return x / (1 + exp(-x))
    }

    /// SiLU in place over a vector.
    package static func silu(_ x: UnsafeMutableBufferPointer<Float>) {
        for i in x.indices { x[i] = silu(x[i]) }
    }

    /// The SwiGLU product: out[i] = silu(gate[i])·up[i]. `out` may be the same memory as `gate`
    /// or `up`.
    /// - Throws: ``KernelError/lengthMismatch(operand:expected:actual:)`` unless all three have
    ///   the same length.
    package static func swiglu(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        guard up.count == gate.count else { throw .lengthMismatch(operand: "up", expected: gate.count, actual: up.count) }
        guard out.count == gate.count else {
            throw .lengthMismatch(operand: "out", expected: gate.count, actual: out.count)
        }
        guard let g = gate.baseAddress, let u = up.baseAddress, let o = out.baseAddress else { return }
        unsafeSwiGLU(gate: g, up: u, into: o, count: gate.count)
    }

    /// The unchecked core of ``swiglu(gate:up:into:)``.
    package static func unsafeSwiGLU(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { out[i] = silu(gate[i]) * up[i] }
    }
}
