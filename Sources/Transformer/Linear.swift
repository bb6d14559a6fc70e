import Tensor

/// A weight matrix W [outputs, inputs] in its stored type (quantized stays quantized), applied
/// to activations as Y = X·Wᵀ, one row per token.
///
/// One row (decoding) goes through matrix × vector, which streams each weight byte once; a batch
/// (prefill) goes through the tiled sgemm, which reuses each decoded tile across every token.
struct Linear: Sendable {
    let weight: Tensor
    /// The checkpoint's name, for error messages.
    let name: String

    var outputs: Int { weight.rowCount }
    var inputs: Int { weight.rowLength }

    /// Scratch Floats either path needs for this weight.
    var scratchCount: Int {
        max(MatVec.scratchCount(for: weight), MatMul.recommendedScratchCount(for: weight))
    }

    /// Y[rows, outputs] = X[rows, inputs]·Wᵀ.
    ///
    /// - Parameter rounding: when given, room for rows × inputs Floats where X is first rounded
    ///   as ggml rounds activations for this weight's type (``Numerics/llamaCpp``).
    func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>, rounding: UnsafeMutablePointer<Float>? = nil
    ) throws(TransformerError) {
        var x = x
        if let rounded = rounding, ActivationRounding.applies(to: weight.type) {
            for r in 0..<rows {
                ActivationRounding.round(x + r * inputs, count: inputs, for: weight.type, into: rounded + r * inputs)
            }
            x = rounded
        }
        do {
            if rows == 1 {
                try MatVec.multiply(weight, UnsafeBufferPointer(start: x, count: inputs),
                                    into: UnsafeMutableBufferPointer(start: y, count: outputs), scratch: scratch)
            } else {
                try MatMul.matMul(weights: weight, input: UnsafeBufferPointer(start: x, count: rows * inputs),
                                  tokens: rows, output: UnsafeMutableBufferPointer(start: y, count: rows * outputs),
                                  scratch: scratch)
            }
        } catch {
            throw .kernel(error)
        }
    }
}
