/// Why a safetensors file or checkpoint was rejected, or a lookup failed.
///
/// The readers treat every file as hostile: each case names the file (`file`, the path as given or
/// built from the checkpoint directory) and, where there is one, the offending tensor, key or shard.
public enum SafetensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: Opening

    /// The file could not be opened, inspected or mapped.
    case cannotOpen(FileError)
    /// The file is shorter than the 8-byte header length field.
    case fileTooShort(file: String, size: Int)
    /// The header length field claims more bytes than follow it in the file.
    case headerLengthExceedsFile(file: String, headerLength: UInt64, available: Int)
    /// The header length is larger than ``SafetensorsFile/maxHeaderLength``.
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)

    // MARK: Header JSON

    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not valid JSON; `reason` is the parser's explanation.
    case invalidHeaderJSON(file: String, reason: String)
    /// The header is valid JSON but not an object.
    case headerNotObject(file: String)
    /// `__metadata__` is not an object of strings; `key` is the offending key, or `__metadata__`
    /// itself when it is not an object.
    case invalidMetadata(file: String, key: String)

    // MARK: Tensor entries

    /// A tensor's header entry is not a JSON object.
    case tensorEntryNotObject(file: String, tensor: String)
    /// A tensor's entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// A tensor's field has the wrong JSON type (e.g. `shape` is not an array).
    case wrongFieldType(file: String, tensor: String, field: String)
    /// A dtype that is not one of ``SafetensorsDType``.
    case unknownDtype(file: String, tensor: String, dtype: String)
    /// Shape element `index` is not a non-negative JSON integer that fits `Int`.
    case invalidDimension(file: String, tensor: String, index: Int)
    /// The shape's size in bytes overflows `Int`.
    case shapeOverflow(file: String, tensor: String, shape: [Int])
    /// `data_offsets` is not two non-negative JSON integers `[begin, end]` with `begin <= end`.
    case invalidDataOffsets(file: String, tensor: String)
    /// The tensor's bytes end past the end of the data section.
    case offsetsOutsideData(file: String, tensor: String, end: Int, dataLength: Int)
    /// The shape and dtype need `expected` bytes but `data_offsets` spans `actual`.
    case byteLengthMismatch(file: String, tensor: String, expected: Int, actual: Int)
    /// Two tensors share bytes (`first` starts earlier, or at the same offset).
    case overlappingTensors(file: String, first: String, second: String)

    // MARK: Lookup

    /// No tensor of that name (in a file, or in a checkpoint's index).
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype has no ``ElementType`` (an integer, F64, F8 or C64 tensor).
    case notAFloatTensor(file: String, tensor: String, dtype: SafetensorsDType)
    /// The `Tensor` type rejected a view that passed every check here (`reason` is its error); kept
    /// so that nothing traps.
    case tensorRejected(file: String, tensor: String, reason: String)

    // MARK: Checkpoints

    /// The directory holds neither `model.safetensors.index.json` nor `model.safetensors`.
    case noCheckpoint(directory: String)
    /// The index file is too large, not UTF-8 or not a JSON object.
    case invalidIndex(file: String, reason: String)
    /// The index has no `weight_map` object.
    case missingWeightMap(file: String)
    /// A `weight_map` value (or `metadata` value) for `key` has the wrong JSON type.
    case invalidIndexEntry(file: String, key: String)
    /// A shard name is not a plain file name inside the checkpoint directory.
    case invalidShardName(file: String, shard: String)
    /// A shard named by the index does not exist.
    case shardMissing(file: String, shard: String)
    /// The index maps a tensor to a shard that does not contain it.
    case tensorMissingFromShard(tensor: String, shard: String)

    /// A one-line explanation naming the file and the offending tensor, key or shard.
    public var description: String {
        switch self {
        case let .cannotOpen(e): return e.description
        case let .fileTooShort(f, n):
            return "\(f): \(n) bytes is too short for a safetensors file (at least 8 needed)"
        case let .headerLengthExceedsFile(f, n, a):
            return "\(f): header length \(n) exceeds the \(a) bytes after the length field"
        case let .headerTooLarge(f, n, l): return "\(f): header length \(n) exceeds the limit of \(l) bytes"
        case let .headerNotUTF8(f): return "\(f): header is not valid UTF-8"
        case let .invalidHeaderJSON(f, r): return "\(f): header is not valid JSON: \(r)"
        case let .headerNotObject(f): return "\(f): header is not a JSON object"
        case let .invalidMetadata(f, k):
            if k == "__metadata__" { return "\(f): __metadata__ is not a JSON object" }
            return "\(f): __metadata__ value for \"\(k)\" is not a string"
        case let .tensorEntryNotObject(f, t): return "\(f): entry for tensor \"\(t)\" is not a JSON object"
        case let .missingField(f, t, k): return "\(f): tensor \"\(t)\" has no \"\(k)\""
        case let .wrongFieldType(f, t, k): return "\(f): tensor \"\(t)\" has a \"\(k)\" of the wrong JSON type"
        case let .unknownDtype(f, t, d): return "\(f): tensor \"\(t)\" has unknown dtype \"\(d)\""
        case let .invalidDimension(f, t, i):
            return "\(f): tensor \"\(t)\" shape[\(i)] is not a non-negative integer that fits Int"
        case let .shapeOverflow(f, t, s): return "\(f): tensor \"\(t)\" shape \(s) is too large"
        case let .invalidDataOffsets(f, t):
            return "\(f): tensor \"\(t)\" data_offsets is not two ordered non-negative integers"
        case let .offsetsOutsideData(f, t, e, n):
            return "\(f): tensor \"\(t)\" ends at byte \(e) of a \(n)-byte data section"
        case let .byteLengthMismatch(f, t, e, a):
            return "\(f): tensor \"\(t)\" needs \(e) bytes for its shape and dtype but spans \(a)"
        case let .overlappingTensors(f, a, b): return "\(f): tensors \"\(a)\" and \"\(b)\" overlap"
        case let .tensorNotFound(f, t): return "\(f): no tensor \"\(t)\""
        case let .notAFloatTensor(f, t, d):
            return "\(f): tensor \"\(t)\" has dtype \(d), which is not a float tensor type (F32, F16, BF16)"
        case let .tensorRejected(f, t, reason): return "\(f): tensor \"\(t)\": \(reason)"
        case let .noCheckpoint(d):
            return "\(d): no model.safetensors.index.json or model.safetensors"
        case let .invalidIndex(f, r): return "\(f): invalid index: \(r)"
        case let .missingWeightMap(f): return "\(f): index has no \"weight_map\" object"
        case let .invalidIndexEntry(f, k): return "\(f): index entry \"\(k)\" has the wrong JSON type"
        case let .invalidShardName(f, s): return "\(f): shard name \"\(s)\" is not a plain file name"
        case let .shardMissing(f, s): return "\(f): shard \"\(s)\" does not exist"
        case let .tensorMissingFromShard(t, s): return "\(s): the index lists tensor \"\(t)\" but the shard lacks it"
        }
    }
}
