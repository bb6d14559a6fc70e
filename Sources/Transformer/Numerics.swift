import CKernels
import ModelFormats
import Tensor

/// Which reference's arithmetic the forward pass follows where the references round differently.
///
/// transformers computes in float32 throughout. llama.cpp (ggml) rounds the activations before
/// every product with a quantized or half-precision weight, converting them to the format that
/// weight type is paired with (8-bit blocks for quantized weights: ggml's `vec_dot_type`), and it
/// computes rotary angles with a running product of powers. On random-weight test models the
/// activation rounding alone moves logits by about 1% of their range, so agreeing closely with
/// either reference means choosing its rounding.
public enum Numerics: Sendable, Hashable {
    /// ``llamaCpp`` for GGUF files whose matrices are not all F32 (what llama.cpp would run),
    /// ``exact`` otherwise (Hugging Face checkpoints and F32 GGUF files).
    case automatic
    /// Float32 everywhere, as transformers computes.
    case exact
    /// ggml's CPU roundings: 8-bit activations for quantized weights (Q8_0 blocks of 32 for the
    /// Q4/Q5/Q8 types, Q8_K blocks of 256 for the K-quants), Float16 activations for F16 weights,
    /// BFloat16 for BF16 weights; llama.cpp's RoPE angles.
    case llamaCpp
}

/// The precision of the cached keys and values.
public enum KVCachePrecision: Sendable, Hashable {
    /// Float, as transformers keeps them.
    case float32
    /// Float16 values, as llama.cpp's default cache holds them: keys and values are rounded to
    /// halves when cached, and so are the queries and attention probabilities multiplied with them
    /// (ggml converts those to the cache's type for the products). Phi-3's queries are scaled by
    /// 1/√d before that rounding, as in llama.cpp's Phi-3 graph. The cache stores the halves (2
    /// bytes an entry, half a Float cache's memory), which the attention kernel reads directly.
    case float16
}

/// ggml's conversion of activations before a product with a weight of a given type, reproduced
/// as quantize-then-dequantize: x' = d·q with ggml's d and q. A Float dot product of x' with the
/// dequantized weight then equals ggml's integer dot product up to Float rounding of the sum.
enum ActivationRounding {
    /// Whether activations multiplied with weights of `type` are rounded (not for F32).
    static func applies(to type: ElementType) -> Bool { type != .f32 }

    /// Writes the rounded form of `rows` rows of `count` values of `x` (rows `count` apart) into
    /// `y`. `count` is a multiple of the weight type's block size, as every weight row is. The
    /// quantized types go through the integer kernels' own quantizer, in `scratch`.
    static func round(
        _ x: UnsafePointer<Float>, rows: Int, count: Int, for type: ElementType, into y: UnsafeMutablePointer<Float>,
        scratch: Q8Activation
    ) throws(KernelError) {
        let total = rows * count
        guard let format = Q8Activation.Format(weightType: type) else {
            switch type {
            case .f16: roundToHalf(x, count: total, into: y)
            case .bf16: for i in 0..<total { y[i] = bfloat16(x[i]) }
            default: y.update(from: x, count: total)
            }
            return
        }
        // Q8_0 (Q8_1 has the same d and q) for the 32-value types, Q8_K for the K-quants.
        try scratch.quantize(x, rows: rows, count: count, format: format == .q8_1 ? .q8_0 : format)
        let block = format.blockSize
        for i in 0..<total { y[i] = scratch.scales[i / block] * Float(scratch.qs[i]) }
    }

    /// Float → bfloat16 → Float with round-to-nearest-even, NaN kept quiet (ggml's
    /// `GGML_FP32_TO_BF16`).
    static func bfloat16(_ x: Float) -> Float {
        let bits = x.bitPattern
        if x.isNaN { return Float(bitPattern: (bits | 0x0040_0000) & 0xFFFF_0000) }
        let rounded = (bits &+ (0x7FFF &+ ((bits >> 16) & 1))) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    /// Rounds `count` values to Float16 (nearest even, as `Float16(x)`) and back, in place.
    static func roundToHalf(_ x: UnsafeMutablePointer<Float>, count: Int) {
        roundToHalf(x, count: count, into: x)
    }

    /// y = Float(Float16(x)) for `count` values; `y` may be `x`. A C kernel: without F16C, Swift's
    /// conversion is one compiler-rt call per value.
    static func roundToHalf(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        sparrow_round_f16(sparrow_isa_best(), x, y, Int64(count))
    }
}
