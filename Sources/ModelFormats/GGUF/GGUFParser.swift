/// Parses a GGUF header over untrusted bytes. See `GGUFFile`.
struct GGUFParser {
    struct Header {
        var version: UInt32
        var metadata: GGUFMetadata
        var alignment: Int
        var dataOffset: Int
        var tensors: [GGUFTensorInfo]
    }

    var cursor: ByteCursor
    let limits: GGUFLimits

    init(bytes: UnsafeRawBufferPointer, limits: GGUFLimits) {
        cursor = ByteCursor(bytes, maxStringBytes: limits.maxStringBytes)
        self.limits = limits
    }

    // Smallest encodings, used to reject counts that cannot fit in the rest of the file before
    // reserving anything: a key/value is at least a u64 key length + u32 type + 1 byte; a tensor info
    // at least a u64 name length + u32 n_dims + u32 type + u64 offset.
    private static let minKeyValueBytes = 13
    private static let minTensorInfoBytes = 24

    mutating func parse() throws(GGUFError) -> Header {
        guard cursor.bytes.count > 0 else { throw .emptyFile }
        guard cursor.bytes.count >= 4 else { throw .badMagic(Array(cursor.bytes)) }
        let magic = Array(cursor.bytes.prefix(4))
        guard magic == Array("GGUF".utf8) else { throw .badMagic(magic) }
        cursor.skip(to: 4)
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try cursor.read(UInt64.self, "tensor count")
        let kvCount = try cursor.read(UInt64.self, "metadata count")
        guard kvCount <= UInt64(cursor.remaining / Self.minKeyValueBytes) else { throw .metadataCountTooLarge(kvCount) }
        guard tensorCount <= UInt64(cursor.remaining / Self.minTensorInfoBytes) else { throw .tensorCountTooLarge(tensorCount) }
        guard kvCount <= UInt64(limits.maxMetadataCount) else {
            throw .limitExceeded(what: "metadata count", value: kvCount, limit: limits.maxMetadataCount)
        }
        guard tensorCount <= UInt64(limits.maxTensorCount) else {
            throw .limitExceeded(what: "tensor count", value: tensorCount, limit: limits.maxTensorCount)
        }

        var entries: [(key: String, value: GGUFValue)] = []
        entries.reserveCapacity(Int(kvCount))
        var index: [String: Int] = [:]
        var stringArrays: [Int: GGUFStringArray] = [:]
        for i in 0..<Int(kvCount) {
            let key = try cursor.readString("metadata key #\(i)")
            let typeID = try cursor.read(UInt32.self, "type of metadata '\(key)'")
            // String arrays stay bytes (validated) until asked for: see `GGUFStringArray`.
            let value: GGUFValue
            if typeID == GGUFValueType.array.rawValue, let strings = try readStringArray(key: key) {
                stringArrays[entries.count] = strings
                value = .array(.string([]))
            } else {
                value = try readValue(typeID: typeID, key: key, depth: 0)
            }
            guard index[key] == nil else { throw .duplicateKey(key) }
            index[key] = entries.count
            entries.append((key, value))
        }
        let metadata = GGUFMetadata(entries: entries, index: index, stringArrays: stringArrays)

        var alignment = GGUFFile.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case let .uint32(v) = a, v > 0, v & (v - 1) == 0 else {
                throw .invalidAlignment("\(a)")
            }
            alignment = Int(v)
        }

        var infos: [(name: String, type: UInt32, dims: [UInt64], offset: UInt64)] = []
        infos.reserveCapacity(Int(tensorCount))
        for i in 0..<Int(tensorCount) {
            let name = try cursor.readString("name of tensor #\(i)")
            let nDims = try cursor.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard nDims <= 4 else { throw .tooManyDimensions(tensor: name, count: nDims) }
            var dims: [UInt64] = []
            for d in 0..<Int(nDims) { dims.append(try cursor.read(UInt64.self, "dimension \(d) of tensor '\(name)'")) }
            let type = try cursor.read(UInt32.self, "type of tensor '\(name)'")
            let offset = try cursor.read(UInt64.self, "offset of tensor '\(name)'")
            infos.append((name, type, dims, offset))
        }

        // The data section starts at the next multiple of the alignment after the header.
        let headerEnd = cursor.offset
        let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw .truncatedHeader(what: "data section", offset: headerEnd) }
        let dataOffset = padded / alignment * alignment
        let dataSize = max(0, cursor.bytes.count - dataOffset)

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        var seen = Set<String>()
        for raw in infos {
            guard seen.insert(raw.name).inserted else { throw .duplicateTensor(raw.name) }
            tensors.append(try validate(raw, alignment: alignment, dataOffset: dataOffset, dataSize: dataSize))
        }
        return Header(version: version, metadata: metadata, alignment: alignment, dataOffset: dataOffset, tensors: tensors)
    }

    private func validate(
        _ raw: (name: String, type: UInt32, dims: [UInt64], offset: UInt64),
        alignment: Int, dataOffset: Int, dataSize: Int
    ) throws(GGUFError) -> GGUFTensorInfo {
        let name = raw.name
        guard let type = ElementType(rawValue: raw.type) else { throw .unknownTensorType(tensor: name, type: raw.type) }
        var dims: [Int] = []
        for d in raw.dims.reversed() {
            guard let v = Int(exactly: d) else { throw .invalidShape(tensor: name, dims: raw.dims) }
            dims.append(v)
        }
        guard let elements = Shape.checkedElementCount(dims) else { throw .invalidShape(tensor: name, dims: raw.dims) }
        let shape = Shape(dims)
        guard shape.rowLength % type.blockSize == 0 else {
            throw .rowNotBlockAligned(tensor: name, type: type, rowLength: shape.rowLength)
        }
        guard let byteCount = type.byteCount(elements: elements) else { throw .invalidShape(tensor: name, dims: raw.dims) }
        guard raw.offset % UInt64(alignment) == 0 else {
            throw .misalignedTensorOffset(tensor: name, offset: raw.offset, alignment: alignment)
        }
        guard raw.offset <= UInt64(dataSize) else {
            throw .tensorPastEndOfFile(tensor: name, offset: raw.offset, byteCount: byteCount, dataSectionSize: dataSize)
        }
        let offset = Int(raw.offset)
        guard byteCount <= dataSize - offset else {
            throw .truncatedTensorData(tensor: name, offset: raw.offset, byteCount: byteCount, dataSectionSize: dataSize)
        }
        return GGUFTensorInfo(name: name, type: type, shape: shape, offset: offset,
                              fileOffset: dataOffset + offset, byteCount: byteCount)
    }

    private mutating func readValue(typeID: UInt32, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        guard let type = GGUFValueType(rawValue: typeID) else { throw .unknownValueType(key: key, type: typeID) }
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try cursor.read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try cursor.read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try cursor.read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try cursor.read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try cursor.read(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try cursor.read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try cursor.read(Int64.self, "value of '\(key)'"))
        case .float32: return .float32(try cursor.readFloat("value of '\(key)'"))
        case .float64: return .float64(try cursor.readDouble("value of '\(key)'"))
        case .bool:
            let b = try cursor.read(UInt8.self, "value of '\(key)'")
            guard b <= 1 else { throw .invalidBool(key: key, byte: b) }
            return .bool(b == 1)
        case .string: return .string(try cursor.readString("value of '\(key)'"))
        case .array: return .array(try readArray(key: key, depth: depth + 1))
        }
    }

    private mutating func readArray(key: String, depth: Int) throws(GGUFError) -> GGUFArray {
        guard depth <= GGUFFile.maxArrayNesting else { throw .arrayNestingTooDeep(key: key) }
        let typeID = try cursor.read(UInt32.self, "array type of '\(key)'")
        guard let type = GGUFValueType(rawValue: typeID) else { throw .unknownValueType(key: key, type: typeID) }
        let rawCount = try cursor.read(UInt64.self, "array count of '\(key)'")
        // Every element takes at least one byte (strings 8, nested arrays 12), so a count larger than
        // the rest of the file is a lie; rejecting it here bounds every allocation below by file size.
        let minElementBytes: Int
        switch type {
        case .string, .uint64, .int64, .float64: minElementBytes = 8
        case .array: minElementBytes = 12
        case .uint32, .int32, .float32: minElementBytes = 4
        case .uint16, .int16: minElementBytes = 2
        case .uint8, .int8, .bool: minElementBytes = 1
        }
        guard rawCount <= UInt64(cursor.remaining / minElementBytes) else { throw .arrayTooLarge(key: key, count: rawCount) }
        try checkArrayLimit(rawCount, key: key)
        let n = Int(rawCount)
        switch type {
        case .uint8: return .uint8(try cursor.readArray(UInt8.self, count: n, key: key))
        case .int8: return .int8(try cursor.readArray(Int8.self, count: n, key: key))
        case .uint16: return .uint16(try cursor.readArray(UInt16.self, count: n, key: key))
        case .int16: return .int16(try cursor.readArray(Int16.self, count: n, key: key))
        case .uint32: return .uint32(try cursor.readArray(UInt32.self, count: n, key: key))
        case .int32: return .int32(try cursor.readArray(Int32.self, count: n, key: key))
        case .uint64: return .uint64(try cursor.readArray(UInt64.self, count: n, key: key))
        case .int64: return .int64(try cursor.readArray(Int64.self, count: n, key: key))
        case .float32: return .float32(try cursor.readArray(UInt32.self, count: n, key: key).map { Float(bitPattern: $0) })
        case .float64: return .float64(try cursor.readArray(UInt64.self, count: n, key: key).map { Double(bitPattern: $0) })
        case .bool:
            let raw = try cursor.readArray(UInt8.self, count: n, key: key)
            if let bad = raw.first(where: { $0 > 1 }) { throw .invalidBool(key: key, byte: bad) }
            return .bool(raw.map { $0 == 1 })
        case .string:
            var out: [String] = []
            out.reserveCapacity(n)
            for i in 0..<n { out.append(try cursor.readString("element \(i) of '\(key)'")) }
            return .string(out)
        case .array:
            var out: [GGUFArray] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try readArray(key: key, depth: depth + 1)) }
            return .array(out)
        }
    }

    /// `GGUFLimits.maxArrayCount`, checked after the fits-in-the-file check so that a count the file
    /// cannot hold keeps its more telling error.
    func checkArrayLimit(_ count: UInt64, key: String) throws(GGUFError) {
        guard count <= UInt64(limits.maxArrayCount) else {
            throw .limitExceeded(what: "metadata '\(key)': array count", value: count, limit: limits.maxArrayCount)
        }
    }
}
