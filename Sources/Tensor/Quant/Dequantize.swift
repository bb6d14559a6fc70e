extension ElementType {
    /// Converts `count` stored elements at `source` to Float.
    ///
    /// `count` must be a multiple of `blockSize` and `source` must hold `byteCount(elements: count)`
    /// bytes; `Tensor` checks both before calling.
    public func dequantize(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        default:
            // PLACEHOLDER until the block types land (being written now).
            destination.update(repeating: .nan, count: count)
        }
    }
}
