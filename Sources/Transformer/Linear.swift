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
    func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>
    ) throws(TransformerError) {
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
