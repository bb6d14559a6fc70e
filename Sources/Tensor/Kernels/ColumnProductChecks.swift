/// The checks and the empty cases that ``FloatMatMul`` and ``QuantizedMatMul`` share: both
/// write y[c·ldy + r] for a range of activation columns c and weight rows r.
enum ColumnProductChecks {
    /// Checks that a buffer of `count` Floats holds columns `columns` of `width` Floats each,
    /// column c starting at c·`stride`; nothing is needed when `columns` is empty.
    static func checkColumns(
        _ operand: String, count: Int, columns: Range<Int>, stride: Int, width: Int
    ) throws(KernelError) {
        guard let last = columns.last else { return }
        let (start, overflow) = last.multipliedReportingOverflow(by: stride)
        guard !overflow, start + width <= count else {
            throw .lengthMismatch(operand: operand, expected: overflow ? Int.max : start + width, actual: count)
        }
    }

    /// Checks that `isa` runs here, then gives the weights' bytes to multiply, or nil when nothing
    /// is left to compute: no rows or columns, or rows of no values (whose zeros it writes to
    /// y[c·ldy + r] for every c in `columns` and r in `rows`).
    static func matrix(
        _ weights: Tensor, isa: InstructionSet, y: UnsafeMutablePointer<Float>, ldy: Int, columns: Range<Int>,
        rows: Range<Int>
    ) throws(KernelError) -> UnsafeRawPointer? {
        guard isa.isSupported else { throw .unsupportedInstructionSet(isa.description) }
        guard !rows.isEmpty, !columns.isEmpty else { return nil }
        guard let w = weights.bytes.baseAddress, weights.rowLength > 0 else {
            for c in columns { for r in rows { y[c * ldy + r] = 0 } }
            return nil
        }
        return w
    }
}
