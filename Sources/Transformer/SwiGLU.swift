import Tensor

/// The SwiGLU gate of the feed-forward block: out = silu(gate) ⊙ up, elementwise.
enum SwiGLU {
    /// `count` values; `out` may be `gate` or `up`.
    static func apply(
        gate: UnsafeMutablePointer<Float>, up: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        Activation.unsafeSwiGLU(gate: gate, up: up, into: out, count: count)
    }
}
