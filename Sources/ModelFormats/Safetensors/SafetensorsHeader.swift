import JSON

/// The validated contents of a safetensors header. Building one checks everything the header
/// claims against the file before any tensor byte is exposed.
struct SafetensorsHeader {
    /// N, the byte length of the JSON header.
    let headerLength: Int
    let metadata: [String: String]
    /// Sorted by data offset (begin, then end, then name).
    let tensors: [SafetensorsTensorInfo]

    /// Reads and validates the header of `file`.
    ///
    /// The order of the checks matters: the length field is compared with the file size before
    /// anything is sliced, and the JSON parser only ever sees bytes inside the file. Entries are
    /// validated in name order so that a file with several problems always reports the same one.
    static func parse(_ file: MappedFile, maxHeaderLength: Int) throws(SafetensorsError) -> SafetensorsHeader {
        let path = file.path
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .fileTooShort(file: path, size: bytes.count) }

        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let available = bytes.count - 8
        // Compared as UInt64: the field may be anything up to 2^64 - 1, which does not fit Int.
        guard declared <= UInt64(available) else {
            throw .headerLengthExceedsFile(file: path, headerLength: declared, available: available)
        }
        guard declared <= UInt64(maxHeaderLength) else {
            throw .headerTooLarge(file: path, headerLength: declared, limit: maxHeaderLength)
        }
        let headerLength = Int(declared)  // exact: at most `available`
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        let object: [(key: String, value: JSONValue)]
        switch SafetensorsJSON.parseObject(UnsafeRawBufferPointer(rebasing: bytes[8 ..< dataStart])) {
        case let .success(o): object = o
        case .failure(.notUTF8): throw .headerNotUTF8(file: path)
        case let .failure(.invalid(error)):
            throw .invalidHeaderJSON(file: path, reason: "\(error.reason) at byte \(error.offset) of the header")
        case .failure(.notObject): throw .headerNotObject(file: path)
        }

        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(object.count)
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, path: path)
            } else {
                tensors.append(try parseEntry(name: name, value: value, path: path,
                                              dataStart: dataStart, dataLength: dataLength))
            }
        }

        tensors.sort { a, b in
            if a.dataOffsets.lowerBound != b.dataOffsets.lowerBound {
                return a.dataOffsets.lowerBound < b.dataOffsets.lowerBound
            }
            if a.dataOffsets.upperBound != b.dataOffsets.upperBound {
                return a.dataOffsets.upperBound < b.dataOffsets.upperBound
            }
            return a.name < b.name
        }
        try checkNoOverlap(tensors, path: path)
        return SafetensorsHeader(headerLength: headerLength, metadata: metadata, tensors: tensors)
    }

    /// `__metadata__` must be an object of strings (`null` is read as empty, as the reference
    /// implementation's optional map does).
    private static func parseMetadata(_ value: JSONValue, path: String) throws(SafetensorsError) -> [String: String] {
        if value.isNull { return [:] }
        guard let members = value.members else { throw .invalidMetadata(file: path, key: "__metadata__") }
        var result: [String: String] = [:]
        for (key, v) in JSONValue.uniqueMembers(members).sorted(by: { $0.key < $1.key }) {
            guard let s = v.string else { throw .invalidMetadata(file: path, key: key) }
            result[key] = s
        }
        return result
    }

    private static func parseEntry(
        name: String, value: JSONValue, path: String, dataStart: Int, dataLength: Int
    ) throws(SafetensorsError) -> SafetensorsTensorInfo {
        // The subscript reads a repeated field's last value, as the reference implementation does.
        guard value.members != nil else { throw .tensorEntryNotObject(file: path, tensor: name) }
        let entry = value

        guard let dtypeValue = entry["dtype"] else { throw .missingField(file: path, tensor: name, field: "dtype") }
        guard let dtypeName = dtypeValue.string else {
            throw .wrongFieldType(file: path, tensor: name, field: "dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .unknownDtype(file: path, tensor: name, dtype: dtypeName)
        }

        guard let shapeValue = entry["shape"] else { throw .missingField(file: path, tensor: name, field: "shape") }
        guard let shapeArray = shapeValue.array else {
            throw .wrongFieldType(file: path, tensor: name, field: "shape")
        }
        var dims: [Int] = []
        dims.reserveCapacity(shapeArray.count)
        for (i, d) in shapeArray.enumerated() {
            guard let dim = SafetensorsJSON.exactNonNegativeInt(d) else {
                throw .invalidDimension(file: path, tensor: name, index: i)
            }
            dims.append(dim)
        }
        // A zero dimension makes the element count 0 whatever the others are, but consumers still
        // compute row sizes and strides from the other dimensions; so the product of the non-zero
        // dimensions, in bytes, must fit Int too.
        var nonZeroBytes = dtype.byteSize
        for d in dims where d != 0 {
            let (p, overflow) = nonZeroBytes.multipliedReportingOverflow(by: d)
            if overflow { throw .shapeOverflow(file: path, tensor: name, shape: dims) }
            nonZeroBytes = p
        }
        let expectedBytes = dims.contains(0) ? 0 : nonZeroBytes

        guard let offsetsValue = entry["data_offsets"] else {
            throw .missingField(file: path, tensor: name, field: "data_offsets")
        }
        guard let offsets = offsetsValue.array else {
            throw .wrongFieldType(file: path, tensor: name, field: "data_offsets")
        }
        guard offsets.count == 2,
              let begin = SafetensorsJSON.exactNonNegativeInt(offsets[0]),
              let end = SafetensorsJSON.exactNonNegativeInt(offsets[1]),
              begin <= end else {
            throw .invalidDataOffsets(file: path, tensor: name)
        }
        guard end <= dataLength else {
            throw .offsetsOutsideData(file: path, tensor: name, end: end, dataLength: dataLength)
        }
        guard end - begin == expectedBytes else {
            throw .byteLengthMismatch(file: path, tensor: name, expected: expectedBytes, actual: end - begin)
        }
        // No overflow: end <= dataLength, and dataStart + dataLength is the file size.
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: Shape(dims), dataOffsets: begin ..< end,
                                     fileRange: dataStart + begin ..< dataStart + end)
    }

    /// Rejects tensors that share a byte. Gaps are allowed, and empty tensors occupy no bytes so
    /// they never overlap anything. `sorted` is ordered by begin offset.
    private static func checkNoOverlap(_ sorted: [SafetensorsTensorInfo], path: String) throws(SafetensorsError) {
        var reach = 0  // the furthest end seen so far
        var reachName: String?
        for t in sorted where !t.dataOffsets.isEmpty {
            if let previous = reachName, t.dataOffsets.lowerBound < reach {
                throw .overlappingTensors(file: path, first: previous, second: t.name)
            }
            if t.dataOffsets.upperBound > reach {
                reach = t.dataOffsets.upperBound
                reachName = t.name
            }
        }
    }
}
