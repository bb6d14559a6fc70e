/// The checks and the empty-weights case that ``FloatMatMul`` and ``QuantizedMatMul`` share: both
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

    /// Writes the zeros of a product whose weights hold no values (zero-length rows): y[c·ldy + r]
    /// for every c in `columns` and r in `rows`.
    static func fillZeros(_ y: UnsafeMutablePointer<Float>, ldy: Int, columns: Range<Int>, rows: Range<Int>) {
        for c in columns { for r in rows { y[c * ldy + r] = 0 } }
    }
}
