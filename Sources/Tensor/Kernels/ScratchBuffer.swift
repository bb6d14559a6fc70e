/// Float working memory that a kernel's caller owns and reuses across calls.
///
/// Kernels never allocate: matrix × vector dequantizes into one of these, the prefill path
/// dequantizes tiles of weight rows into one. Each thread keeps its own (the class is
/// deliberately not `Sendable`), sized once with ``reserve(_:)`` for the largest use.
package final class ScratchBuffer {
    private var base: UnsafeMutablePointer<Float>
    /// The number of Floats available.
    package private(set) var capacity: Int

    /// Empty working memory; call ``reserve(_:)`` before use.
    package init() {
        capacity = 0
        base = ScratchBuffer.allocate(0)
    }

    /// Working memory for `capacity` Floats, 64-byte aligned so vector loads of it never split a
    /// cache line.
    package convenience init(capacity: Int) throws(KernelError) {
        self.init()
        try reserve(capacity)
    }

    deinit { base.deallocate() }

    /// Grows the buffer to at least `count` Floats. Never shrinks; the old contents are dropped.
    package func reserve(_ count: Int) throws(KernelError) {
        // Sizes come from model files: refuse ones whose byte count would overflow.
        guard count >= 0, count <= Int.max / 8 else { throw .invalidDimension(name: "scratch", value: count) }
        guard count > capacity else { return }
        base.deallocate()
        base = ScratchBuffer.allocate(count)
        capacity = count
    }

    /// All `capacity` Floats. Valid until the next ``reserve(_:)`` or the buffer's release; the
    /// contents are unspecified.
    package var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base, count: capacity)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        // One element minimum so an empty buffer still has a valid, deallocatable address.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) &* 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
}
