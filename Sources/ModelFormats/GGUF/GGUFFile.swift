/// One tensor's entry in a GGUF file's tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: ElementType
    /// Row-major shape (GGUF's dimensions reversed; see `Shape`).
    public let shape: Shape
    /// Offset from the start of the data section.
    public let offset: Int
    /// Absolute offset in the file.
    public let fileOffset: Int
    public let byteCount: Int
}

/// A memory-mapped GGUF file (versions 2 and 3).
///
/// Opening parses the header, metadata and tensor table and validates every tensor's type, shape,
/// alignment and byte range against the file; tensor data is never read or copied at open.
/// Tensor's `tensor(named:)` extension returns a `Tensor` that is a view into the mapping.
///
/// The file is treated as hostile: every count, length and offset is checked against the bytes that
/// remain before anything is allocated or read, so a malformed file yields a `GGUFError`.
public final class GGUFFile: Sendable {
    /// Deepest nesting of arrays inside arrays accepted in metadata (real files use 1).
    public static let maxArrayNesting = 8
    /// The alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32

    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int
    public let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and parses the file at `path`, within `limits`.
    public convenience init(path: String, limits: GGUFLimits = .init()) throws(GGUFError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .file(error) }
        try self.init(file: file, limits: limits)
    }

    /// Parses an already mapped file (or an in-memory copy: `MappedFile(copying:name:)`), within `limits`.
    public init(file: MappedFile, limits: GGUFLimits = .init()) throws(GGUFError) {
        GGUFParseCounter.current?.increment()
        path = file.path
        self.file = file
        var p = GGUFParser(bytes: file.bytes, limits: limits)
        let header = try p.parse()
        version = header.version
        metadata = header.metadata
        alignment = header.alignment
        dataOffset = header.dataOffset
        tensors = header.tensors
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        tensorIndex = index
    }

    /// The architecture (`general.architecture`), e.g. "llama".
    public var architecture: String? { metadata.string("general.architecture") }

    /// The table entry of the tensor `name`, or `nil` when the file has none.
    public func info(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }
}
