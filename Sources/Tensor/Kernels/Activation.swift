import CKernels

/// Elementwise activations of the feed-forward block, in the C kernels
/// (`Sources/CKernels/activation_impl.h`): every form here — one value, a vector, the SwiGLU
/// product — runs the same per-value computation, so a token's activations are the same bits
/// decoded alone or in a prompt, and on every instruction set.
///
/// SiLU (swish) is x·σ(x), written x / (1 + e^−x) as llama.cpp does, within 1 ulp of the exact
/// value. For x below about −88.72, e^−x overflows Float and the result is −0, the right limit;
/// above 80 it is x. silu(−∞) and silu(NaN) are NaN.
package enum Activation {
    /// SiLU of one value.
    /// - Parameter isa: the instruction set to run (every one gives the same bits).
    package static func silu(_ x: Float, isa: InstructionSet = .best) -> Float {
        var input = x, output: Float = 0
        sparrow_silu(isa.rawValue, &input, &output, 1)
        return output
    }

    /// SiLU in place over a vector.
    /// - Parameter isa: the instruction set to run (every one gives the same bits).
    package static func silu(_ x: UnsafeMutableBufferPointer<Float>, isa: InstructionSet = .best) {
        guard let base = x.baseAddress else { return }
        sparrow_silu(isa.rawValue, base, base, Int64(x.count))
    }

    /// The SwiGLU product: out[i] = silu(gate[i])·up[i], rounded once after silu. `out` may be the
    /// same memory as `gate` or `up`.
    /// - Parameter isa: the instruction set to run (every one gives the same bits).
    /// - Throws: ``KernelError/lengthMismatch(operand:expected:actual:)`` unless all three have
    ///   the same length.
    package static func swiglu(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
        isa: InstructionSet = .best
    ) throws(KernelError) {
        guard up.count == gate.count else { throw .lengthMismatch(operand: "up", expected: gate.count, actual: up.count) }
        guard out.count == gate.count else {
            throw .lengthMismatch(operand: "out", expected: gate.count, actual: out.count)
        }
        guard let g = gate.baseAddress, let u = up.baseAddress, let o = out.baseAddress else { return }
        unsafeSwiGLU(gate: g, up: u, into: o, count: gate.count, isa: isa)
    }

    /// The unchecked core of ``swiglu(gate:up:into:isa:)``: `count` values at each pointer. `out`
    /// may be `gate` or `up` exactly, not another overlapping range.
    package static func unsafeSwiGLU(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int,
        isa: InstructionSet = .best
    ) {
        sparrow_swiglu(isa.rawValue, gate, up, out, Int64(count))
    }
}
