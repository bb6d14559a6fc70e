import ModelFormats

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding (RoPE) for a vector of heads, in either of the two layouts models use.
///
/// Each head of `headDim` values rotates its first `ropeDims` values in pairs; the rest (partial
/// rotary, as in some Phi models) pass through unchanged. Pair i turns by the angle
/// `position × invFreq[i]`, with `invFreq[i] = 1 / base^(2i / ropeDims)`.
///
/// The frequencies and angles are computed in Float exactly as Hugging Face's float32 code does
/// (`1.0 / base ** (arange(0, d, 2).float() / d)`, then `position.float() * inv_freq`), rather than
/// llama.cpp's running product: at position 4095 one ulp of the angle is already 5e-4 radians, so
/// matching that computation is what makes 1e-4 parity with transformers possible.
///
/// cos and sin are computed on demand, once per call for all heads, instead of kept in a table
/// per position: a table needs a maximum context up front and costs `maxPosition × ropeDims × 4`
/// bytes, while ropeDims/2 sin/cos pairs per token are small next to one matrix × vector. To
/// rotate q and k at the same position with one computation, use ``angles(position:cos:sin:)``
/// and ``apply(to:heads:cos:sin:)``.
package struct RotaryEmbedding: Sendable, Hashable {
    /// Which values form a rotated pair.
    package enum Convention: Sendable, Hashable {
        /// Pair i is (x[2i], x[2i+1]): GGUF llama-family weights (the converter permutes Q and K).
        case adjacentPairs
        /// Pair i is (x[i], x[i + ropeDims/2]): Hugging Face checkpoints, and GGUF "NeoX"-style
        /// models such as Phi-3 and Qwen2.
        case halfSplit
    }

    /// Values per head.
    package let headDim: Int
    /// The number of leading values of each head that rotate (even, 2...headDim).
    package let ropeDims: Int
    /// θ, the frequency base (10000 for Llama 2, 500000 for Llama 3).
    package let base: Float
    /// Which values pair up; must match how the checkpoint's Q and K rows are ordered.
    package let convention: Convention
    /// The ropeDims/2 angular frequencies, in Float as Hugging Face computes them.
    package let inverseFrequencies: [Float]

    /// - Parameter ropeDims: rotated values per head; `nil` rotates all of them.
    /// - Throws: ``KernelError/invalidRotaryConfiguration(headDim:ropeDims:base:)`` unless
    ///   ropeDims is even and in 2...headDim and base is finite and positive.
    package init(headDim: Int, ropeDims: Int? = nil, base: Float, convention: Convention) throws(KernelError) {
        let dims = ropeDims ?? headDim
        guard headDim > 0, dims >= 2, dims <= headDim, dims % 2 == 0, base.isFinite, base > 0 else {
            throw .invalidRotaryConfiguration(headDim: headDim, ropeDims: dims, base: base)
        }
        self.headDim = headDim
        self.ropeDims = dims
        self.base = base
        self.convention = convention
        let d = Float(dims)
        // Each step in Float, as torch does: exponent = Float(2i) / d, then pow, then 1 / that.
        inverseFrequencies = stride(from: 0, to: dims, by: 2).map { 1 / powf(base, Float($0) / d) }
    }

    /// Writes cos and sin of each pair's angle at `position` into the first ropeDims/2 values of
    /// `cos` and `sin`.
    /// - Throws: ``KernelError`` for a negative position or buffers shorter than ropeDims/2.
    package func angles(
        position: Int, cos: UnsafeMutableBufferPointer<Float>, sin: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        guard position >= 0 else { throw .invalidPosition(position) }
        let half = ropeDims / 2
        guard cos.count >= half else { throw .bufferTooSmall(operand: "cos", needed: half, available: cos.count) }
        guard sin.count >= half else { throw .bufferTooSmall(operand: "sin", needed: half, available: sin.count) }
        // The position becomes a Float before multiplying, as in transformers (exact below 2^24).
        let p = Float(position)
        for i in 0..<half {
            let angle = p * inverseFrequencies[i]
            cos[i] = cosf(angle)
            sin[i] = sinf(angle)
        }
    }

    /// Rotates every head of `x` (heads × headDim values, head after head) for `position`.
    /// - Throws: ``KernelError`` for a negative position or when x is not heads × headDim long.
    package func apply(to x: UnsafeMutableBufferPointer<Float>, heads: Int, position: Int) throws(KernelError) {
        guard position >= 0 else { throw .invalidPosition(position) }
        try checkLength(x, heads: heads)
        let half = ropeDims / 2
        // Stack memory: no heap allocation per token.
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: ropeDims) { (table) throws(KernelError) in
            let cos = UnsafeMutableBufferPointer(rebasing: table[0..<half])
            let sin = UnsafeMutableBufferPointer(rebasing: table[half..<ropeDims])
            try angles(position: position, cos: cos, sin: sin)
            try apply(to: x, heads: heads, cos: UnsafeBufferPointer(cos), sin: UnsafeBufferPointer(sin))
        }
    }

    /// Rotates every head of `x` with cos/sin from ``angles(position:cos:sin:)``.
    /// - Throws: ``KernelError`` when x is not heads × headDim long or cos/sin are shorter than
    ///   ropeDims/2.
    package func apply(
        to x: UnsafeMutableBufferPointer<Float>, heads: Int,
        cos: UnsafeBufferPointer<Float>, sin: UnsafeBufferPointer<Float>
    ) throws(KernelError) {
        try checkLength(x, heads: heads)
        let half = ropeDims / 2
        guard cos.count >= half else { throw .bufferTooSmall(operand: "cos", needed: half, available: cos.count) }
        guard sin.count >= half else { throw .bufferTooSmall(operand: "sin", needed: half, available: sin.count) }
        guard let base = x.baseAddress, let c = cos.baseAddress, let s = sin.baseAddress else { return }
        for h in 0..<heads {
            let head = base + h * headDim
            switch convention {
            case .adjacentPairs:
                for i in 0..<half { Self.rotate(head + 2 * i, head + 2 * i + 1, c[i], s[i]) }
            case .halfSplit:
                for i in 0..<half { Self.rotate(head + i, head + i + half, c[i], s[i]) }
            }
        }
    }

    /// (a, b) ← (a·cos − b·sin, b·cos + a·sin), each product rounded before the sum, as
    /// `q*cos + rotate_half(q)*sin` rounds in float32.
    @inline(__always)
    private static func rotate(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ c: Float, _ s: Float) {
        let x0 = a.pointee, x1 = b.pointee
        a.pointee = x0 * c - x1 * s
        b.pointee = x1 * c + x0 * s
    }

    private func checkLength(_ x: UnsafeMutableBufferPointer<Float>, heads: Int) throws(KernelError) {
        let (needed, overflow) = heads.multipliedReportingOverflow(by: headDim)
        guard heads >= 0, !overflow else { throw .invalidDimension(name: "heads", value: heads) }
        guard x.count == needed else { throw .lengthMismatch(operand: "x", expected: needed, actual: x.count) }
    }
}
