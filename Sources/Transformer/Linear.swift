import ModelFormats
import Tensor

/// A weight matrix W [outputs, inputs] in its stored type (quantized stays quantized), applied
/// to activations as Y = X·Wᵀ, one row per token.
///
/// With llama.cpp's numerics and a weight type that has an integer kernel
/// (``QuantizedMatMul/supports(_:)``), every row of X is quantized to 8 bits on its own
/// (``Q8Activation``, shared with the next products of the same input) and multiplied by the
/// quantized matrix × matrix kernel, one token or many alike. F32, F16 and BF16 weights
/// (``FloatMatMul``) multiply X's rows (rounded first to the weight's format with llama.cpp's
/// numerics) by the Float matrix × matrix kernel, one token or many alike. Either way a token's
/// output does not depend on the batch it is in: each (weight row, token) result is added in one
/// order. The other types (Q2_K, Q3_K, and every quantized type with ``Numerics/exact``) dot
/// dequantized rows in Float for one row and go through the tiled sgemm for a batch (whose sums
/// depend on the batch). Every path splits the output rows across the run state's thread pool
/// through ``ParallelProducts``, which keeps that scheduling with the kernels in Tensor.
struct Linear: Sendable {
    let weight: Tensor
    /// The checkpoint's name, for error messages.
    let name: String

    var outputs: Int { weight.rowCount }
    var inputs: Int { weight.rowLength }

    /// Scratch Floats one thread needs for this weight on either path (none for float weights,
    /// which the Float kernel reads where they lie).
    var scratchCount: Int {
        if usesFloatKernel { return 0 }
        return max(MatVec.scratchCount(for: weight), MatMul.recommendedScratchCount(for: weight))
    }

    /// Whether rows multiply through the Float matrix × matrix kernel: F32, F16 and BF16 weights.
    var usesFloatKernel: Bool { FloatMatMul.supports(weight.type) }

    /// Whether rows multiply through the 8-bit integer kernels: with llama.cpp's numerics, for
    /// every type that has one.
    func usesIntegerKernel(rounding: Bool) -> Bool {
        rounding && QuantizedMatMul.supports(weight.type)
    }

    /// Y[rows, outputs] = X[rows, inputs]·Wᵀ.
    ///
    /// - Parameters:
    ///   - rounds: round (or quantize) X first as ggml does for this weight's type
    ///     (``Numerics/llamaCpp``).
    ///   - sameInput: X is the input of the previous `apply` on this state, unchanged since: its
    ///     rounded or quantized form is reused when the format matches.
    func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        state: RunState, rounds: Bool, sameInput: Bool = false
    ) throws(TransformerError) {
        do {
            if usesIntegerKernel(rounding: rounds),
               let format = Q8Activation.Format(weightType: weight.type) {
                try multiplyQuantized(x, rows: rows, format: format, into: y, state: state, sameInput: sameInput)
                return
            }
            var x = x
            if rounds, ActivationRounding.applies(to: weight.type) {
                let rounded = state.rounded.pointer
                if !(sameInput && state.roundedFor == RoundingKey(type: weight.type, rows: rows)) {
                    // `q8` is free here: this product does not use it, and what it held is dropped below.
                    try ActivationRounding.round(x, rows: rows, count: inputs, for: weight.type, into: rounded,
                                                 scratch: state.q8)
                    state.roundedFor = RoundingKey(type: weight.type, rows: rows)
                }
                x = rounded
            } else {
                state.roundedFor = nil
            }
            state.quantizedFormat = nil
            if usesFloatKernel {
                multiplyFloatWeights(x, rows: rows, into: y, state: state)
            } else if rows == 1 {
                try multiplyFloat(x, into: y, state: state)
            } else {
                try multiplyBatch(x, rows: rows, into: y, state: state)
            }
        } catch {
            throw .kernel(error)
        }
    }

    /// Y_i[rows, outputs_i] = X[rows, inputs]·W_iᵀ for two or three weights of the same input
    /// (q, k and v; gate and up). Where all of them take the integer kernels with one 8-bit format,
    /// X is quantized once and the products run as one operation of the pool
    /// (``ParallelProducts``); otherwise they are applied one after another. Each result is the
    /// same bits either way.
    static func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int,
        _ a: Linear, into ya: UnsafeMutablePointer<Float>,
        _ b: Linear, into yb: UnsafeMutablePointer<Float>,
        _ c: Linear? = nil, into yc: UnsafeMutablePointer<Float>? = nil,
        state: RunState, rounds: Bool
    ) throws(TransformerError) {
        if let operands = groupOperands(a, ya, b, yb, c, yc, rounds: rounds),
           let format = Q8Activation.Format(weightType: a.weight.type) {
            do {
                let q8 = try a.quantizedInput(x, rows: rows, format: format, state: state, sameInput: false)
                ParallelProducts.unsafeQuantized(operands.0, operands.1, operands.2, rowLength: a.inputs, x: q8,
                                                 tokens: rows, runner: state.runner)
            } catch {
                throw .kernel(error)
            }
            return
        }
        try a.apply(x, rows: rows, into: ya, state: state, rounds: rounds)
        try b.apply(x, rows: rows, into: yb, state: state, rounds: rounds, sameInput: true)
        if let c, let yc { try c.apply(x, rows: rows, into: yc, state: state, rounds: rounds, sameInput: true) }
    }

    /// The weights of ``apply(_:rows:_:into:_:into:_:into:state:rounds:)`` as operands of one
    /// grouped integer product, or `nil` when they cannot share one: a weight without an integer
    /// kernel, different 8-bit formats or input widths, or an empty matrix.
    private static func groupOperands(
        _ a: Linear, _ ya: UnsafeMutablePointer<Float>, _ b: Linear, _ yb: UnsafeMutablePointer<Float>,
        _ c: Linear?, _ yc: UnsafeMutablePointer<Float>?, rounds: Bool
    ) -> (ParallelProducts.QuantizedOperand, ParallelProducts.QuantizedOperand, ParallelProducts.QuantizedOperand?)? {
        guard let format = Q8Activation.Format(weightType: a.weight.type),
              let oa = a.quantizedOperand(ya, rounds: rounds, format: format),
              let ob = b.quantizedOperand(yb, rounds: rounds, format: format), b.inputs == a.inputs
        else { return nil }
        guard let c else { return (oa, ob, nil) }
        guard let yc, c.inputs == a.inputs, let oc = c.quantizedOperand(yc, rounds: rounds, format: format) else {
            return nil
        }
        return (oa, ob, oc)
    }

    /// This weight as an operand of a grouped integer product in `format`, if it can be one.
    private func quantizedOperand(
        _ y: UnsafeMutablePointer<Float>, rounds: Bool, format: Q8Activation.Format
    ) -> ParallelProducts.QuantizedOperand? {
        guard usesIntegerKernel(rounding: rounds), Q8Activation.Format(weightType: weight.type) == format,
              let w = weight.bytes.baseAddress, outputs > 0, inputs > 0 else { return nil }
        return ParallelProducts.QuantizedOperand(type: weight.type, matrix: w, rowBytes: weight.rowBytes,
                                                 outputs: outputs, y: y)
    }

    /// The run state's 8-bit copy of X in `format`, quantized unless `sameInput` and it already
    /// holds it.
    private func quantizedInput(
        _ x: UnsafeMutablePointer<Float>, rows: Int, format: Q8Activation.Format, state: RunState, sameInput: Bool
    ) throws(KernelError) -> Q8Activation {
        let q8 = state.q8
        if !(sameInput && state.quantizedFormat == format && q8.count == inputs && q8.rows == rows) {
            try q8.quantize(x, rows: rows, count: inputs, format: format, runner: state.runner)
            state.quantizedFormat = format
        }
        state.roundedFor = nil
        return q8
    }

    /// Rows of X through the integer kernels: each row quantized once, then multiplied with W's
    /// rows split across the pool (``ParallelProducts``). This is llama.cpp's own arithmetic
    /// (ggml's CPU `mul_mat` runs the same `vec_dot` per row and token), for prompts and decoding
    /// alike.
    private func multiplyQuantized(
        _ x: UnsafeMutablePointer<Float>, rows: Int, format: Q8Activation.Format, into y: UnsafeMutablePointer<Float>,
        state: RunState, sameInput: Bool
    ) throws(KernelError) {
        let q8 = try quantizedInput(x, rows: rows, format: format, state: state, sameInput: sameInput)
        guard let w = weight.bytes.baseAddress, outputs > 0 else {
            for i in 0..<rows * outputs { y[i] = 0 }
            return
        }
        ParallelProducts.unsafeQuantized(type: weight.type, matrix: w, rowBytes: weight.rowBytes, rowLength: inputs,
                                         outputs: outputs, x: q8, tokens: rows, into: y, runner: state.runner)
    }

    /// Rows of X times float weights by the Float kernel, which adds each result in one order
    /// whatever the number of rows of X (``FloatMatMul``). Decoding and prompts take the same path.
    private func multiplyFloatWeights(
        _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, state: RunState
    ) {
        guard let w = weight.bytes.baseAddress, outputs > 0, inputs > 0 else {
            for i in 0..<rows * outputs { y[i] = 0 }
            return
        }
        ParallelProducts.unsafeFloat(type: weight.type, matrix: w, rowBytes: weight.rowBytes, rowLength: inputs,
                                     outputs: outputs, x: x, tokens: rows, into: y, runner: state.runner)
    }

    /// One row through dequantize-and-dot in Float, each thread with its own scratch.
    private func multiplyFloat(
        _ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, state: RunState
    ) throws(KernelError) {
        try ParallelProducts.dequantizedVector(weight, x: x, into: y, scratch: state.weightScratch.pointer,
                                               perThread: state.scratchPerThread, runner: state.runner)
    }

    /// A batch: each thread decodes its share of W's rows a tile at a time into its own scratch
    /// and multiplies the tile with a single-threaded sgemm (OpenBLAS runs on 1 thread,
    /// ``TransformerModel``). Every thread decodes and multiplies at once, with one fork and join
    /// per product.
    ///
    /// Measured against OpenBLAS's own threads on tiles decoded between sgemms: those tiles left a
    /// core idle while one thread decoded, and OpenBLAS's threads
    /// slept and woke for every tile (a tenth of the prefill's CPU time in the scheduler). The
    /// Float results differ in the last bits between the two (OpenBLAS blocks k differently with
    /// one thread); `scripts/check-smollm2-greedy.sh` judges both against llama.cpp's own spread.
    private func multiplyBatch(
        _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, state: RunState
    ) throws(KernelError) {
        try ParallelProducts.dequantizedBatch(weight, x: x, tokens: rows, into: y, scratch: state.weightScratch.pointer,
                                              perThread: state.scratchPerThread, runner: state.runner)
    }
}

/// What the rounded copy of an input holds: the weight type it was rounded for and its rows.
struct RoundingKey: Equatable {
    let type: ElementType
    let rows: Int
}
