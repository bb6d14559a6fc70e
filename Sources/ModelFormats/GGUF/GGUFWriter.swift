import Foundation

/// Why a GGUF file could not be written.
public enum GGUFWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be created or written; `errno` is the system's reason.
    case io(path: String, errno: Int32)
    /// A tensor's data is not the size its type and shape make.
    case tensorSize(tensor: String, expected: Int, actual: Int)
    /// More tensors' data than were announced, or fewer by ``GGUFWriter/finish()``.
    case tensorCount(expected: Int, written: Int)
    /// A tensor's rows are not whole blocks of its type.
    case rowNotBlockAligned(tensor: String, type: ElementType, rowLength: Int)
    /// The alignment is not a positive power of two.
    case invalidAlignment(Int)

    public var description: String {
        switch self {
        case let .io(path, errno): "cannot write \(path): \(String(cString: strerror(errno)))"
        case let .tensorSize(tensor, expected, actual): "tensor \(tensor): \(actual) bytes of data, expected \(expected)"
        case let .tensorCount(expected, written): "\(written) tensors written, \(expected) announced"
        case let .rowNotBlockAligned(tensor, type, rowLength):
            "tensor \(tensor): rows of \(rowLength) values are not whole \(type) blocks of \(type.blockSize)"
        case let .invalidAlignment(alignment): "alignment \(alignment) is not a positive power of two"
        }
    }
}

/// A tensor as a GGUF file announces it before its data.
public struct GGUFTensorPlan: Sendable, Equatable {
    public let name: String
    public let type: ElementType
    /// Row-major, as ``Shape`` everywhere in Sparrow; the writer stores it reversed (GGUF's `ne`).
    public let shape: Shape

    public init(name: String, type: ElementType, shape: Shape) {
        self.name = name
        self.type = type
        self.shape = shape
    }

    /// The bytes of the tensor's data.
    public var byteCount: Int { shape.rowCount * (shape.rowLength / type.blockSize) * type.blockBytes }
}

/// Writes a GGUF v3 file in one pass: the header, the metadata and every tensor's info up front, then
/// each tensor's data in the announced order, at offsets aligned as `general.alignment` says (32 unless
/// the metadata sets it). Only one tensor's data passes through at a time, so a converter's memory
/// stays bounded by its largest tensor.
///
/// ```swift
/// let writer = try GGUFWriter(path: temporary, metadata: entries, tensors: plans)
/// for plan in plans { try writer.append(bytes(of: plan)) }
/// try writer.finish()
/// ```
public final class GGUFWriter {
    public let path: String
    public let tensors: [GGUFTensorPlan]
    public let alignment: Int
    private let handle: FileHandle
    private var written = 0
    /// Bytes of tensor `written` already written by ``appendPart(_:)``.
    private var partWritten = 0

    /// Creates (or truncates) `path` and writes everything before the tensors' data.
    public init(path: String, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorPlan])
        throws(GGUFWriteError)
    {
        let alignment = metadata.first { $0.key == "general.alignment" }?.value.intValue ?? GGUFFile.defaultAlignment
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .invalidAlignment(alignment) }
        for plan in tensors where plan.shape.rowLength % plan.type.blockSize != 0 {
            throw .rowNotBlockAligned(tensor: plan.name, type: plan.type, rowLength: plan.shape.rowLength)
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
        else { throw .io(path: path, errno: errno) }
        self.path = path
        self.tensors = tensors
        self.alignment = alignment
        self.handle = handle

        var header = GGUFEncoder()
        header.bytes(Array("GGUF".utf8))
        header.u32(3)
        header.u64(UInt64(tensors.count))
        header.u64(UInt64(metadata.count))
        for (key, value) in metadata {
            header.string(key)
            header.u32(value.type.rawValue)
            header.value(value)
        }
        var offset = 0
        for plan in tensors {
            header.string(plan.name)
            header.u32(UInt32(plan.shape.rank))
            for d in plan.shape.dims.reversed() { header.u64(UInt64(d)) }
            header.u32(plan.type.rawValue)
            header.u64(UInt64(offset))
            offset = Self.aligned(offset + plan.byteCount, alignment)
        }
        header.pad(to: alignment)
        try write(header.data)
    }

    deinit { try? handle.close() }

    /// Writes the next tensor's data (its bytes, exactly ``GGUFTensorPlan/byteCount``) and the padding
    /// to the next aligned offset.
    public func append(_ data: UnsafeRawBufferPointer) throws(GGUFWriteError) {
        guard written < tensors.count else { throw .tensorCount(expected: tensors.count, written: written + 1) }
        let plan = tensors[written]
        guard partWritten == 0, data.count == plan.byteCount else {
            throw .tensorSize(tensor: plan.name, expected: plan.byteCount, actual: partWritten + data.count)
        }
        try appendPart(data)
    }

    /// Writes the next `data.count` bytes of the current tensor's data, for a producer that makes a
    /// tensor a slab at a time; with its last byte, the padding to the next aligned offset, and the
    /// next call starts the next tensor.
    public func appendPart(_ data: UnsafeRawBufferPointer) throws(GGUFWriteError) {
        guard written < tensors.count else { throw .tensorCount(expected: tensors.count, written: written + 1) }
        let plan = tensors[written]
        guard data.count <= plan.byteCount - partWritten else {
            throw .tensorSize(tensor: plan.name, expected: plan.byteCount, actual: partWritten + data.count)
        }
        if data.count > 0 { try write(data) }
        partWritten += data.count
        guard partWritten == plan.byteCount else { return }
        let padding = Self.aligned(plan.byteCount, alignment) - plan.byteCount
        // Every tensor is padded, the last one too, as llama.cpp's writers do.
        if padding > 0 { try write(Data(count: padding)) }
        written += 1
        partWritten = 0
    }

    /// Checks that every announced tensor was written, and closes the file.
    public func finish() throws(GGUFWriteError) {
        guard written == tensors.count, partWritten == 0 else { throw .tensorCount(expected: tensors.count, written: written) }
        do { try handle.synchronize(); try handle.close() } catch { throw .io(path: path, errno: errno) }
    }

    /// Writes `data` as it is (a tensor's bytes go from the mapping or the quantizer's buffer to the
    /// file without a copy).
    private func write(_ data: some DataProtocol) throws(GGUFWriteError) {
        do { try handle.write(contentsOf: data) } catch { throw .io(path: path, errno: errno == 0 ? EIO : errno) }
    }

    static func aligned(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// Little-endian GGUF encoding of the header's fields and metadata values.
struct GGUFEncoder {
    var data = Data()

    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        data.append(contentsOf: Array(s.utf8))
    }
    mutating func pad(to alignment: Int) {
        data.append(Data(count: GGUFWriter.aligned(data.count, alignment) - data.count))
    }
    private mutating func scalar<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }

    mutating func value(_ value: GGUFValue) {
        switch value {
        case let .uint8(v): scalar(v)
        case let .int8(v): scalar(v)
        case let .uint16(v): scalar(v)
        case let .int16(v): scalar(v)
        case let .uint32(v): scalar(v)
        case let .int32(v): scalar(v)
        case let .uint64(v): scalar(v)
        case let .int64(v): scalar(v)
        case let .float32(v): scalar(v.bitPattern)
        case let .float64(v): scalar(v.bitPattern)
        case let .bool(v): scalar(UInt8(v ? 1 : 0))
        case let .string(v): string(v)
        case let .array(a): array(a)
        }
    }

    mutating func array(_ a: GGUFArray) {
        u32(a.elementType.rawValue)
        u64(UInt64(a.count))
        switch a {
        case let .uint8(v): v.forEach { scalar($0) }
        case let .int8(v): v.forEach { scalar($0) }
        case let .uint16(v): v.forEach { scalar($0) }
        case let .int16(v): v.forEach { scalar($0) }
        case let .uint32(v): v.forEach { scalar($0) }
        case let .int32(v): v.forEach { scalar($0) }
        case let .uint64(v): v.forEach { scalar($0) }
        case let .int64(v): v.forEach { scalar($0) }
        case let .float32(v): v.forEach { scalar($0.bitPattern) }
        case let .float64(v): v.forEach { scalar($0.bitPattern) }
        case let .bool(v): v.forEach { scalar(UInt8($0 ? 1 : 0)) }
        case let .string(v): v.forEach { string($0) }
        case let .array(v): v.forEach { array($0) }
        }
    }
}
