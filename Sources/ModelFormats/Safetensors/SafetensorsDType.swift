/// A safetensors element type, spelled as in the header's `"dtype"` field.
///
/// Only F32, F16 and BF16 map onto an ``ElementType`` and can be read as a `Tensor`. The other
/// byte-sized types are "passed through": they are validated and listed like any tensor, and their
/// bytes are available raw (``SafetensorsFile/rawBytes(_:)``). Sub-byte types (`F4`, `F6_*`) are
/// not supported and are reported as ``SafetensorsError/unknownDtype(file:tensor:dtype:)``: their
/// byte length is not a whole number of elements, so they cannot be checked the same way.
public enum SafetensorsDType: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8E5M2 = "F8_E5M2"
    case f8E4M3 = "F8_E4M3"
    case f8E8M0 = "F8_E8M0"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case i64 = "I64"
    case u64 = "U64"
    case f64 = "F64"
    case c64 = "C64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64, .c64: return 8
        }
    }

    /// The matching tensor element type, or `nil` for a passed-through type.
    public var elementType: ElementType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    /// The header spelling ("F32", "BF16", "I64", ...).
    public var description: String { rawValue }
}

/// One entry of a safetensors header, after validation.
///
/// Every field has been checked against the file: the shape's element count times the dtype's size
/// equals the byte length, and `fileRange` lies inside the file's data section.
public struct SafetensorsTensorInfo: Sendable, Hashable {
    /// The tensor's name, the key in the header.
    public let name: String
    /// The stored element type.
    public let dtype: SafetensorsDType
    /// Row-major dimensions, as in the header (a scalar has no dimensions).
    public let shape: Shape
    /// The header's `data_offsets`: a byte range relative to the first byte after the header.
    public let dataOffsets: Range<Int>
    /// The same bytes as an absolute range in the file.
    public let fileRange: Range<Int>

    /// The number of elements (1 for a scalar, 0 when a dimension is 0).
    public var elementCount: Int { shape.dims.reduce(1, *) }

    /// The number of bytes.
    public var byteCount: Int { fileRange.count }
}
