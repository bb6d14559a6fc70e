/// One memory-mapped `.safetensors` file.
///
/// Layout: a little-endian u64 N, N bytes of UTF-8 JSON, then the data section. The header is
/// validated in full when the file is opened (see ``SafetensorsError`` for every check); after
/// that, each tensor is a zero-copy view of the mapping (Tensor's `tensor(_:)` extension), which
/// stays alive as long as this object or any tensor taken from it.
///
/// ```swift
/// let file = try SafetensorsFile(path: "model.safetensors")
/// let embedding = try file.tensor("model.embed_tokens.weight")   // F32, F16 or BF16
/// let ids = try file.rawBytes("position_ids")                      // any dtype, raw bytes
/// ```
public final class SafetensorsFile: Sendable {
    /// The largest header accepted, in bytes. The reference implementation uses the same limit;
    /// it keeps a corrupt length field from making the JSON parser allocate without bound.
    public static let maxHeaderLength = 100_000_000

    /// The path the file was opened with.
    public let path: String
    /// The whole file, mapped read-only.
    public let mappedFile: MappedFile
    /// N, the length of the JSON header in bytes.
    public let headerLength: Int
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, sorted by position in the data section (begin offset, then end, then name).
    ///
    /// JSON objects are unordered, so the header's own key order is not kept; offset order is the
    /// order of the bytes in the file.
    public let tensors: [SafetensorsTensorInfo]
    private let indexByName: [String: Int]

    /// Opens, maps and validates the file at `path`.
    public convenience init(path: String) throws(SafetensorsError) {
        let mapped: MappedFile
        do throws(FileError) {
            mapped = try MappedFile(path: path)
        } catch {
            throw .cannotOpen(error)
        }
        try self.init(mapping: mapped)
    }

    /// Validates an already mapped file.
    public init(mapping file: MappedFile) throws(SafetensorsError) {
        let header = try SafetensorsHeader.parse(file, maxHeaderLength: Self.maxHeaderLength)
        path = file.path
        mappedFile = file
        headerLength = header.headerLength
        metadata = header.metadata
        tensors = header.tensors
        var index: [String: Int] = [:]
        index.reserveCapacity(header.tensors.count)
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        indexByName = index
    }

    /// The absolute file offset of the data section (8 + N).
    public var dataStart: Int { 8 + headerLength }

    /// Tensor names, in the order of ``tensors``.
    public var names: [String] { tensors.map(\.name) }

    /// Whether the file has a tensor called `name`.
    public func contains(_ name: String) -> Bool { indexByName[name] != nil }

    /// The table entry for `name`, or `nil` when there is none.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The stored bytes of tensor `name`, whatever its dtype (little-endian, as in the file).
    ///
    /// The buffer points into the mapping: it is valid only while this `SafetensorsFile` (or
    /// its ``mappedFile``) is alive. Tensor's `rawStorage(_:)` holds the mapping alive instead.
    public func rawBytes(_ name: String) throws(SafetensorsError) -> UnsafeRawBufferPointer {
        let range = try require(name).fileRange
        return UnsafeRawBufferPointer(rebasing: mappedFile.bytes[range])
    }

    /// The table entry for `name`.
    /// - Throws: ``SafetensorsError/tensorNotFound(file:tensor:)`` when there is none.
    package func require(_ name: String) throws(SafetensorsError) -> SafetensorsTensorInfo {
        guard let info = info(name) else { throw .tensorNotFound(file: path, tensor: name) }
        return info
    }
}
