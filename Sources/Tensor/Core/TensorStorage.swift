import ModelFormats

/// Heap memory owned by a tensor, 64-byte aligned so that vector loads never straddle cache lines.
public final class OwnedBytes: @unchecked Sendable {
    // @unchecked: written only through `mutableBytes` by whoever created it, before sharing.
    public let baseAddress: UnsafeMutableRawPointer
    public let count: Int

    /// Zero-filled memory of `count` bytes.
    public init(count: Int) {
        self.count = count
        baseAddress = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        baseAddress.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    }

    /// A copy of `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let src = bytes.baseAddress, bytes.count > 0 {
            baseAddress.copyMemory(from: src, byteCount: bytes.count)
        }
    }

    deinit { baseAddress.deallocate() }

    public var mutableBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: baseAddress, count: count)
    }
}

/// Where a tensor's bytes live: in memory it owns, or in a read-only view into a memory-mapped file.
/// Either way the bytes are exactly the stored format (quantized blocks stay quantized).
public enum TensorStorage: Sendable {
    case owned(OwnedBytes)
    /// `count` bytes starting `offset` bytes into `file`. The readers check the range before
    /// creating one of these.
    case mapped(MappedFile, offset: Int, count: Int)

    /// The tensor's bytes.
    public var bytes: UnsafeRawBufferPointer {
        switch self {
        case let .owned(o):
            return UnsafeRawBufferPointer(start: o.baseAddress, count: o.count)
        case let .mapped(file, offset, count):
            guard let base = file.baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            return UnsafeRawBufferPointer(start: base + offset, count: count)
        }
    }

    /// Whether the bytes are a view into a mapped file.
    public var isMapped: Bool {
        if case .mapped = self { return true }
        return false
    }
}
