import ModelFormats

/// An error building or reading a tensor.
public enum TensorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The shape has a negative dimension or its element count overflows.
    case invalidShape(Shape)
    /// The row length is not a whole number of the type's blocks.
    case rowNotBlockAligned(type: ElementType, rowLength: Int)
    /// The storage holds a different number of bytes than the type and shape need.
    case byteCountMismatch(type: ElementType, shape: Shape, expected: Int, actual: Int)
    /// A row index outside the tensor.
    case rowOutOfRange(row: Int, rowCount: Int)
    /// A destination buffer smaller than what it must receive.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case let .invalidShape(s): return "invalid shape \(s)"
        case let .rowNotBlockAligned(t, n):
            return "row length \(n) is not a multiple of \(t)'s block size \(t.blockSize)"
        case let .byteCountMismatch(t, s, e, a):
            return "a \(t) tensor of shape \(s) needs \(e) bytes, storage has \(a)"
        case let .rowOutOfRange(r, n): return "row \(r) is outside 0..<\(n)"
        case let .bufferTooSmall(n, a): return "buffer holds \(a) values, \(n) needed"
        }
    }
}

/// A tensor: an element type, a row-major shape, and bytes in that type's stored format.
///
/// The bytes are never converted at load: a Q4_0 tensor from a GGUF file is a view of the file's
/// Q4_0 blocks. Kernels read rows in place, dequantizing only what they need.
public struct Tensor: Sendable {
    public let type: ElementType
    public let shape: Shape
    public let storage: TensorStorage
    /// The number of rows (product of all dimensions but the last).
    public let rowCount: Int
    /// The number of elements in a row (the last dimension).
    public let rowLength: Int
    /// The number of bytes in a row.
    public let rowBytes: Int

    /// Wraps `storage` after checking that it holds exactly the bytes `type` and `shape` need.
    public init(type: ElementType, shape: Shape, storage: TensorStorage) throws(TensorError) {
        guard let elements = Shape.checkedElementCount(shape.dims) else { throw .invalidShape(shape) }
        let rowLength = shape.rowLength
        guard rowLength % type.blockSize == 0 else {
            throw .rowNotBlockAligned(type: type, rowLength: rowLength)
        }
        guard let bytes = type.byteCount(elements: elements),
              let rowBytes = type.byteCount(elements: rowLength) else { throw .invalidShape(shape) }
        guard storage.bytes.count == bytes else {
            throw .byteCountMismatch(type: type, shape: shape, expected: bytes, actual: storage.bytes.count)
        }
        self.type = type
        self.shape = shape
        self.storage = storage
        self.rowLength = rowLength
        self.rowCount = rowLength == 0 ? 0 : elements / rowLength
        self.rowBytes = rowBytes
    }

    /// An owned F32 tensor holding `values`.
    public init(floats values: [Float], shape: Shape) throws(TensorError) {
        let owned = values.withUnsafeBytes { OwnedBytes(copying: $0) }
        try self.init(type: .f32, shape: shape, storage: .owned(owned))
    }

    /// An owned tensor holding a copy of `bytes` in the stored format of `type`.
    public init(type: ElementType, shape: Shape, copying bytes: UnsafeRawBufferPointer) throws(TensorError) {
        try self.init(type: type, shape: shape, storage: .owned(OwnedBytes(copying: bytes)))
    }

    public var elementCount: Int { rowCount * rowLength }

    /// The stored bytes.
    public var bytes: UnsafeRawBufferPointer { storage.bytes }

    /// The first byte of row `row`. The caller guarantees `0 <= row < rowCount`.
    @inlinable
    package func unsafeRowAddress(_ row: Int) -> UnsafeRawPointer {
        // A zero-byte tensor has no rows, so there is no row to address.
        storage.bytes.baseAddress.unsafelyUnwrapped + row &* rowBytes
    }

    /// Dequantizes row `row` into the first `rowLength` values of `destination`.
    public func dequantizeRow(_ row: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(TensorError) {
        guard row >= 0, row < rowCount else { throw .rowOutOfRange(row: row, rowCount: rowCount) }
        guard let dst = destination.baseAddress, destination.count >= rowLength else {
            throw .bufferTooSmall(needed: rowLength, available: destination.count)
        }
        type.dequantize(unsafeRowAddress(row), count: rowLength, into: dst)
    }

    /// Row `row` as Floats.
    public func row(_ row: Int) throws(TensorError) -> [Float] {
        var out = [Float](repeating: 0, count: rowLength)
        try out.withUnsafeMutableBufferPointer { (buf) throws(TensorError) in try dequantizeRow(row, into: buf) }
        return out
    }

    /// Every element as Floats, row after row. Meant for small tensors and tests: it allocates the
    /// whole tensor in F32.
    public func toFloats() -> [Float] {
        let n = elementCount
        guard n > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            type.dequantize(bytes.baseAddress.unsafelyUnwrapped, count: n, into: buf.baseAddress.unsafelyUnwrapped)
            initialized = n
        }
    }
}
