#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Normalisations over one vector.
package enum Normalization {
    /// RMSNorm: y = x / sqrt(mean(x²) + epsilon) · weight.
    ///
    /// The mean of squares is accumulated in Float (vector lanes, then a horizontal sum) as
    /// Hugging Face's float32 `pow(2).mean(-1)` does; the scale is `1 / sqrt(mean + eps)` and is
    /// applied to x before the weight, in the order both Hugging Face and llama.cpp use, so
    /// results match them to rounding. `y` may be the same memory as `x`.
    /// - Throws: ``KernelError/lengthMismatch(operand:expected:actual:)`` unless x, weight and y
    ///   have the same length.
    package static func rmsNorm(
        _ x: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>,
        epsilon: Float,
        into y: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        guard weight.count == x.count else {
            throw .lengthMismatch(operand: "weight", expected: x.count, actual: weight.count)
        }
        guard y.count == x.count else { throw .lengthMismatch(operand: "y", expected: x.count, actual: y.count) }
        guard let xp = x.baseAddress, let wp = weight.baseAddress, let yp = y.baseAddress else { return }
        unsafeRMSNorm(xp, weight: wp, epsilon: epsilon, into: yp, count: x.count)
    }

    /// RMSNorm in place.
    package static func rmsNorm(
        _ x: UnsafeMutableBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, epsilon: Float
    ) throws(KernelError) {
        try rmsNorm(UnsafeBufferPointer(x), weight: weight, epsilon: epsilon, into: x)
    }

    /// The unchecked core of ``rmsNorm(_:weight:epsilon:into:)``; `count` > 0.
    package static func unsafeRMSNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
        into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        let mean = VectorOps.unsafeSumOfSquares(x, count: count) / Float(count)
        let scale = 1 / (mean + epsilon).squareRoot()
        // Elementwise with no reduction: LLVM vectorises this loop on its own.
        for i in 0..<count {
            y[i] = (x[i] * scale) * weight[i]
        }
    }

    /// Softmax in place: x[i] = exp(x[i] − max) / Σ exp(x[j] − max).
    ///
    /// Subtracting the maximum keeps exp from overflowing; the sum is accumulated in Double (as
    /// llama.cpp does) so long rows lose nothing to it. If every value is −∞ (nothing to attend
    /// to) the result is all zeros rather than NaN. Empty input is left as is.
    package static func softmax(_ x: UnsafeMutableBufferPointer<Float>) {
        guard let p = x.baseAddress, x.count > 0 else { return }
        unsafeSoftmax(p, count: x.count)
    }

    /// The unchecked core of ``softmax(_:)``; `count` > 0.
    package static func unsafeSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, x[i]) }
        guard maximum > -Float.infinity else {
            x.update(repeating: 0, count: count)
            return
        }
        var sum: Double = 0
        for i in 0..<count {
            let e = exp(x[i] - maximum)
            x[i] = e
            sum += Double(e)
        }
        let inverse = Float(1 / sum)
        for i in 0..<count { x[i] *= inverse }
    }
}
