/// Why a GGUF file could not be read. Every case names the offending key or tensor where there is one.
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case file(FileError)
    /// The file has no bytes at all.
    case emptyFile
    /// The first four bytes are not "GGUF".
    case badMagic([UInt8])
    /// A version this reader does not read (it reads 2 and 3).
    case unsupportedVersion(UInt32)
    /// The file ends inside the header while reading `what` at byte `offset`.
    case truncatedHeader(what: String, offset: Int)
    /// A string's length field points past the end of the file.
    case stringPastEndOfFile(what: String, length: UInt64, offset: Int)
    /// A string that is not valid UTF-8.
    case invalidUTF8(what: String, offset: Int)
    /// A metadata array whose element count cannot fit in the rest of the file.
    case arrayTooLarge(key: String, count: UInt64)
    /// Arrays nested deeper than `GGUFFile.maxArrayNesting`.
    case arrayNestingTooDeep(key: String)
    /// A metadata value type id outside 0...12.
    case unknownValueType(key: String, type: UInt32)
    /// A bool byte other than 0 or 1.
    case invalidBool(key: String, byte: UInt8)
    /// A count or length within the file but above a `GGUFLimits` ceiling: `what` names it (a key,
    /// "tensor count", ...), `value` is what the file claims.
    case limitExceeded(what: String, value: UInt64, limit: Int)
    /// The same metadata key twice.
    case duplicateKey(String)
    /// The tensor count cannot fit in the rest of the file.
    case tensorCountTooLarge(UInt64)
    /// The metadata count cannot fit in the rest of the file.
    case metadataCountTooLarge(UInt64)
    /// `general.alignment` is not a non-zero power of two, or not an unsigned integer.
    case invalidAlignment(String)
    /// The same tensor name twice.
    case duplicateTensor(String)
    /// More dimensions than ggml supports (4).
    case tooManyDimensions(tensor: String, count: UInt32)
    /// Dimensions whose element count overflows, or that are too large.
    case invalidShape(tensor: String, dims: [UInt64])
    /// A tensor type id this reader does not know.
    case unknownTensorType(tensor: String, type: UInt32)
    /// The row length is not a multiple of the type's block size.
    case rowNotBlockAligned(tensor: String, type: ElementType, rowLength: Int)
    /// A tensor's offset is not a multiple of the file's alignment.
    case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor that starts past the end of the file.
    case tensorPastEndOfFile(tensor: String, offset: UInt64, byteCount: Int, dataSectionSize: Int)
    /// A tensor that starts inside the file but whose bytes run past its end.
    case truncatedTensorData(tensor: String, offset: UInt64, byteCount: Int, dataSectionSize: Int)
    /// No tensor has this name.
    case tensorNotFound(String)
    /// A metadata key that is absent.
    case missingKey(String)
    /// A metadata key whose value has another type than the one asked for.
    case typeMismatch(key: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case let .file(e): return e.description
        case .emptyFile: return "GGUF: the file is empty"
        case let .badMagic(b): return "GGUF: bad magic \(b.map { String(format2: $0) }) (expected \"GGUF\")"
        case let .unsupportedVersion(v):
            if v > 0xFFFF { return "GGUF: unsupported version \(v) (a big-endian file?); versions 2 and 3 are read" }
            return "GGUF: unsupported version \(v); versions 2 and 3 are read"
        case let .truncatedHeader(what, off): return "GGUF: the file ends inside the header, reading \(what) at byte \(off)"
        case let .stringPastEndOfFile(what, len, off):
            return "GGUF: \(what): string of \(len) bytes at byte \(off) runs past the end of the file"
        case let .invalidUTF8(what, off): return "GGUF: \(what): invalid UTF-8 at byte \(off)"
        case let .arrayTooLarge(key, n): return "GGUF: metadata '\(key)': array count \(n) cannot fit in the file"
        case let .arrayNestingTooDeep(key): return "GGUF: metadata '\(key)': arrays nested too deeply"
        case let .unknownValueType(key, t): return "GGUF: metadata '\(key)': unknown value type \(t)"
        case let .invalidBool(key, b): return "GGUF: metadata '\(key)': bool byte \(b) is neither 0 nor 1"
        case let .limitExceeded(what, v, limit): return "GGUF: \(what): \(v) exceeds the reader's limit of \(limit)"
        case let .duplicateKey(k): return "GGUF: metadata key '\(k)' appears twice"
        case let .tensorCountTooLarge(n): return "GGUF: tensor count \(n) cannot fit in the file"
        case let .metadataCountTooLarge(n): return "GGUF: metadata count \(n) cannot fit in the file"
        case let .invalidAlignment(v): return "GGUF: general.alignment \(v) is not a power of two"
        case let .duplicateTensor(t): return "GGUF: tensor '\(t)' appears twice"
        case let .tooManyDimensions(t, n): return "GGUF: tensor '\(t)' has \(n) dimensions (at most 4)"
        case let .invalidShape(t, d): return "GGUF: tensor '\(t)' has an invalid shape \(d)"
        case let .unknownTensorType(t, ty): return "GGUF: tensor '\(t)' has an unknown or unsupported type \(ty)"
        case let .rowNotBlockAligned(t, ty, n):
            return "GGUF: tensor '\(t)': row length \(n) is not a multiple of \(ty)'s block size \(ty.blockSize)"
        case let .misalignedTensorOffset(t, off, a):
            return "GGUF: tensor '\(t)': offset \(off) is not a multiple of the alignment \(a)"
        case let .tensorPastEndOfFile(t, off, n, size):
            return "GGUF: tensor '\(t)' (\(n) bytes at data offset \(off)) starts past the end of the data section (\(size) bytes)"
        case let .truncatedTensorData(t, off, n, size):
            return "GGUF: tensor '\(t)' (\(n) bytes at data offset \(off)) is truncated: the data section has \(size) bytes"
        case let .tensorNotFound(t): return "GGUF: no tensor named '\(t)'"
        case let .missingKey(k): return "GGUF: metadata key '\(k)' is missing"
        case let .typeMismatch(k, e, a): return "GGUF: metadata '\(k)' is \(a), expected \(e)"
        }
    }
}

extension String {
    /// "0x4A"-style rendering of a byte for error messages.
    init(format2 byte: UInt8) {
        let hex = String(byte, radix: 16, uppercase: true)
        self = "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
