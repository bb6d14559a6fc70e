import Tensor

/// RMSNorm with its learned scale: y = x / √(mean(x²) + ε) ⊙ g, row by row.
struct RMSNorm: Sendable {
    /// g, widened to Float at load (a vector of the residual width).
    let weight: [Float]
    let epsilon: Float

    /// Normalises `rows` rows of `weight.count` values from `x` into `y` (which may be `x`).
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let n = weight.count
        weight.withUnsafeBufferPointer { g in
            guard let g = g.baseAddress else { return }
            for r in 0..<rows {
                Normalization.unsafeRMSNorm(x + r * n, weight: g, epsilon: epsilon, into: y + r * n, count: n)
            }
        }
    }
}
