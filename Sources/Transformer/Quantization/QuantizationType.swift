import ModelFormats
import Tensor

/// A whole-model quantization: one of llama.cpp's file types (`llama_ftype`), which names a default
/// tensor type and the rules that give some tensors another (``QuantizationPlan``).
///
/// `Q4_K_M` is mostly Q4_K, with Q6_K for `output.weight` and for the `attn_v` and `ffn_down` weights
/// of the layers llama.cpp gives more bits; `Q4_0` is Q4_0 with `output.weight` in Q6_K; `F16` turns
/// every 2-D weight into F16. One-dimensional tensors (norms) keep their type in every case. `F32`
/// (llama.cpp's `LLAMA_FTYPE_ALL_F32`) widens every weight to F32, and is also what converting a Hugging
/// Face checkpoint with `--outtype f32` writes.
public enum QuantizationType: String, CaseIterable, Sendable, CustomStringConvertible {
    case f16 = "F16"
    case bf16 = "BF16"
    case q8_0 = "Q8_0"
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case q5_0 = "Q5_0"
    case q5_1 = "Q5_1"
    case q2_K = "Q2_K"
    case q3_K_M = "Q3_K_M"
    case q4_K_M = "Q4_K_M"
    case q5_K_M = "Q5_K_M"
    case q6_K = "Q6_K"
    case f32 = "F32"

    /// The name llama.cpp's `llama-quantize` takes ("Q4_K_M").
    public var name: String { rawValue }

    public var description: String { rawValue }

    /// The type named `name`, case-insensitively ("q4_k_m", "Q4_K_M").
    public init?(name: String) {
        let upper = name.uppercased()
        guard let match = Self.allCases.first(where: { $0.rawValue == upper }) else { return nil }
        self = match
    }

    /// llama.cpp's `llama_ftype` value, which the output's `general.file_type` records.
    public var fileType: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .q5_0: 8
        case .q5_1: 9
        case .q2_K: 10
        case .q3_K_M: 12
        case .q4_K_M: 15
        case .q5_K_M: 17
        case .q6_K: 18
        case .bf16: 32
        }
    }

    /// Whether this is a float type (F32, F16, BF16): the weights are widened or rounded, never
    /// quantized, and a Hugging Face checkpoint converts to it directly.
    public var isFloat: Bool { !defaultTensorType.isQuantized }

    /// The tensor type most weights get (`llama_ftype_get_default_type`).
    public var defaultTensorType: ElementType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q2_K: .q2_K
        case .q3_K_M: .q3_K
        case .q4_K_M: .q4_K
        case .q5_K_M: .q5_K
        case .q6_K: .q6_K
        }
    }
}
