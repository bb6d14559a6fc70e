import CKernels
import ModelFormats

/// Weights stored as F32, F16 or BF16 × Float activations, for any number of activation columns at
/// once, in the C kernels (`Sources/CKernels/float_matmul_impl.h`): the batch-invariant product for
/// float weights, one token or a prompt alike.
///
/// Each weight is widened exactly to Float. Each result y[c][r] = W[r]·x[c] is added in one fixed
/// order, the same for every number of rows and columns computed together, every tile and thread
/// split, and every instruction set:
///
/// ```
/// var lanes = [Float](repeating: 0, count: 16)
/// for k in stride(from: 0, to: n, by: 16) {          // a partial last group padded with zeros
///     for l in 0..<16 {
///         let w = k + l < n ? W[r][k + l] : 0, v = k + l < n ? x[c][k + l] : 0
///         lanes[l] = lanes[l].addingProduct(w, v)    // one fused multiply-add
///     }
/// }
/// for width in [8, 4, 2, 1] { for l in 0..<width { lanes[l] = lanes[l] + lanes[l + width] } }
/// y[c][r] = lanes[0]
/// ```
///
/// So a token's output does not depend on the batch it is in (batch invariance), unlike an sgemm
/// (whose blocking follows the matrix sizes) beside a matrix × vector dot product.
package enum FloatMatMul {
    /// Whether weights of `type` have a kernel here (F32, F16, BF16).
    package static func supports(_ type: ElementType) -> Bool {
        sparrow_float_matmul_supports(Int32(type.rawValue)) != 0
    }

    /// y[c·ldy + r] = W[r]·x[c] for r in `rows` and c in `columns`, where column c of the
    /// activations is the `W.rowLength` Floats at x + c·ldx.
    ///
    /// - Parameters:
    ///   - x: `xCount` Floats; column c starts at c·ldx.
    ///   - ldx: distance between columns of x, at least W's row length (the default).
    ///   - y: `yCount` Floats; column c of the result starts at c·ldy.
    ///   - ldy: distance between columns of y, at least W's row count (the default).
    ///   - isa: the instruction set to run (every one gives the same bits).
    /// - Throws: ``KernelError`` when the type has no kernel here or a size doesn't match.
    package static func multiply(
        _ weights: Tensor, _ x: UnsafePointer<Float>, xCount: Int, ldx: Int? = nil, columns: Range<Int>,
        into y: UnsafeMutablePointer<Float>, yCount: Int, ldy: Int? = nil, rows: Range<Int>? = nil,
        isa: InstructionSet = .best
    ) throws(KernelError) {
        let rows = rows ?? 0..<weights.rowCount
        let ldx = ldx ?? weights.rowLength
        let ldy = ldy ?? weights.rowCount
        guard supports(weights.type) else { throw .unsupportedType(weights.type) }
        guard rows.lowerBound >= 0, rows.upperBound <= weights.rowCount else {
            throw .rowRangeOutOfBounds(rows, rowCount: weights.rowCount)
        }
        guard columns.lowerBound >= 0 else { throw .invalidDimension(name: "columns", value: columns.lowerBound) }
        guard ldx >= weights.rowLength else { throw .invalidDimension(name: "ldx", value: ldx) }
        guard ldy >= weights.rowCount else { throw .invalidDimension(name: "ldy", value: ldy) }
        try ColumnProductChecks.checkColumns("x", count: xCount, columns: columns, stride: ldx, width: weights.rowLength)
        try ColumnProductChecks.checkColumns("y", count: yCount, columns: columns, stride: ldy, width: weights.rowCount)
        guard let w = try ColumnProductChecks.matrix(weights, isa: isa, y: y, ldy: ldy, columns: columns, rows: rows) else {
            return
        }
        unsafeMultiply(type: weights.type, matrix: w, rowBytes: weights.rowBytes, rowLength: weights.rowLength,
                       x: x, ldx: ldx, columns: columns, y: y, ldy: ldy, rows: rows, isa: isa)
    }

    /// Returns W·x for each of x's `x.count / W.rowLength` rows (the columns of the product),
    /// row-major [columns, W.rowCount]. Allocates; for tests and one-off use.
    package static func multiply(_ weights: Tensor, _ x: [Float], isa: InstructionSet = .best) throws(KernelError)
        -> [Float]
    {
        let n = weights.rowLength
        guard n > 0 ? x.count % n == 0 : x.isEmpty else {
            throw .lengthMismatch(operand: "x", expected: n > 0 ? (x.count / n + 1) * n : 0, actual: x.count)
        }
        let columns = n > 0 ? x.count / n : 0
        var y = [Float](repeating: 0, count: columns * weights.rowCount)
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                guard let xBase = xb.baseAddress, let yBase = yb.baseAddress else { return }
                try multiply(weights, xBase, xCount: xb.count, columns: 0..<columns, into: yBase, yCount: yb.count,
                             isa: isa)
            }
        }
        return y
    }

    /// The unchecked core. The caller guarantees `type` is supported, the matrix holds
    /// `rows.upperBound` rows of `rowBytes` bytes of `rowLength` values, x holds every column asked
    /// for (`rowLength` Floats at c·ldx) and y has room for every result.
    @inline(__always)
    package static func unsafeMultiply(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int, x: UnsafePointer<Float>, ldx: Int,
        columns: Range<Int>, y: UnsafeMutablePointer<Float>, ldy: Int, rows: Range<Int>, isa: InstructionSet = .best
    ) {
        _ = sparrow_float_matmul(isa.rawValue, Int32(type.rawValue), matrix, Int64(rowBytes), Int64(rowLength),
                                 Int64(rows.lowerBound), Int64(rows.upperBound), x, Int64(ldx),
                                 Int64(columns.lowerBound), Int64(columns.upperBound), y, Int64(ldy))
    }
}
