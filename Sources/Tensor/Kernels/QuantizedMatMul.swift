import CKernels
import ModelFormats

/// Quantized weights × 8-bit activations (``Q8Activation``): ggml's `vec_dot_*_q8_*` arithmetic
/// for any number of activation columns at once, in the C kernels (`Sources/CKernels`).
///
/// Each block's product is an exact integer dot product of the weight quants and the activation
/// quants, scaled by the product of the two block scales in Float, so a result equals a Float dot
/// product of the dequantized weights with the dequantized activation up to the order of the Float
/// additions. That order is fixed per (weight row, column):
///
/// - Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: one Float; each block adds its exact Int32 dot product,
///   converted to Float, times d_w·d_x with one fused multiply-add, blocks in order; then Q4_1 and
///   Q5_1 add Σ m_w·s_x, summed block by block. The kernels keep eight rows in the eight lanes of a
///   vector, so the Float steps serve eight rows at once.
/// - Q4_K, Q5_K: one Float; each super-block adds d_w·d_x times its exact Int32 Σ_s scale_s·(q·x)_s
///   with one fused multiply-add, then −dmin·d_x times its exact Int32 Σ_s min_s·(Σx)_s with
///   another, super-blocks in order (eight rows per vector, as above).
/// - Q6_K: the order of ggml's AVX2 `vec_dot`. Eight Float lanes; a super-block's lane l holds Σ
///   over its eight groups of 32 of (scale) × (products 4l..4l+3 of the group), added with one fused
///   multiply-add by d_w·d_x, super-blocks in order; then ggml's `hsum_float_8`.
///
/// Nothing in that order depends on how many rows or columns are computed together, on the tile a
/// result falls in, or on the instruction set: a token's output is the same bits in a prefill of
/// any length, alone, or beside other sequences' tokens (batch invariance), on every CPU.
package enum QuantizedMatMul {
    /// Whether weights of `type` have an integer kernel here (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,
    /// Q5_K, Q6_K); others take ``MatVec`` / ``MatMul``'s dequantize-and-multiply path.
    package static func supports(_ type: ElementType) -> Bool {
        sparrow_quantized_gemm_supports(Int32(type.rawValue)) != 0
    }

    /// y[c·ldy + r] = W[r]·x[c] for r in `rows` and c in `columns`: x's rows are the columns of the
    /// product, quantized in the format ``Q8Activation/Format/init(weightType:)`` gives for W's type.
    ///
    /// - Parameters:
    ///   - y: `yCount` Floats; column c of the result starts at c·ldy.
    ///   - ldy: distance between columns of y, at least W's row count (the default).
    ///   - isa: the instruction set to run (every one gives the same bits).
    /// - Throws: ``KernelError`` when the type has no kernel here or a size doesn't match.
    package static func multiply(
        _ weights: Tensor, _ x: Q8Activation, columns: Range<Int>? = nil, into y: UnsafeMutablePointer<Float>,
        yCount: Int, ldy: Int? = nil, rows: Range<Int>? = nil, isa: InstructionSet = .best
    ) throws(KernelError) {
        let rows = rows ?? 0..<weights.rowCount
        let columns = columns ?? 0..<x.rows
        let ldy = ldy ?? weights.rowCount
        guard supports(weights.type), Q8Activation.Format(weightType: weights.type) == x.format else {
            throw .unsupportedType(weights.type)
        }
        guard x.count == weights.rowLength else {
            throw .lengthMismatch(operand: "x", expected: weights.rowLength, actual: x.count)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= weights.rowCount else {
            throw .rowRangeOutOfBounds(rows, rowCount: weights.rowCount)
        }
        guard columns.lowerBound >= 0, columns.upperBound <= x.rows else {
            throw .rowRangeOutOfBounds(columns, rowCount: x.rows)
        }
        guard ldy >= weights.rowCount else { throw .invalidDimension(name: "ldy", value: ldy) }
        try ColumnProductChecks.checkColumns("y", count: yCount, columns: columns, stride: ldy, width: weights.rowCount)
        guard let w = try ColumnProductChecks.matrix(weights, isa: isa, y: y, ldy: ldy, columns: columns, rows: rows) else {
            return
        }
        unsafeMultiply(type: weights.type, matrix: w, rowBytes: weights.rowBytes, rowLength: weights.rowLength,
                       x: x, columns: columns, y: y, ldy: ldy, rows: rows, isa: isa)
    }

    /// The unchecked core. The caller guarantees `type` is supported, `x` is in its format with
    /// `rowLength` values per row, the matrix holds `rows.upperBound` rows of `rowBytes`, and y has
    /// room for every result.
    @inline(__always)
    package static func unsafeMultiply(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int, x: Q8Activation,
        columns: Range<Int>, y: UnsafeMutablePointer<Float>, ldy: Int, rows: Range<Int>, isa: InstructionSet = .best
    ) {
        var q8 = x.matrix
        _ = sparrow_quantized_gemm(isa.rawValue, Int32(type.rawValue), matrix, Int64(rowBytes), Int64(rowLength),
                                   Int64(rows.lowerBound), Int64(rows.upperBound), &q8, Int64(columns.lowerBound),
                                   Int64(columns.upperBound), y, Int64(ldy))
    }
}
