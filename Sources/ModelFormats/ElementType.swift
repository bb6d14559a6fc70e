/// The storage type of a tensor's elements, with ggml's numeric ids.
///
/// Float types store one value per element. Quantized types store fixed-size blocks of
/// `blockSize` weights in `blockBytes` bytes; a row's length must be a multiple of `blockSize`.
/// The byte layout of each quantized block is documented once, on its `…Block` type in Tensor's
/// `Quant/`.
public enum ElementType: UInt32, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case bf16 = 30

    /// Weights per block (1 for float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    /// Whether values are stored in blocks with shared scales.
    public var isQuantized: Bool { blockSize > 1 }

    /// The name ggml and the `gguf` Python package use ("Q4_0", "F16", ...).
    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        }
    }

    public var description: String { name }

    /// Looks a type up by its ggml name, case-insensitively.
    public init?(name: String) {
        let upper = name.uppercased()
        guard let match = ElementType.allCases.first(where: { $0.name.uppercased() == upper }) else {
            return nil
        }
        self = match
    }

    /// Bytes needed for `count` elements, or `nil` when `count` is not a whole number of blocks or
    /// the size overflows `Int`.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
