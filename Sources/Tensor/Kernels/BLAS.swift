import COpenBLAS

/// Single-precision matrix products through OpenBLAS's CBLAS interface, row-major throughout.
///
/// OpenBLAS runs its own threads. When Sparrow's own pool is busy at the same time, call
/// ``setThreadCount(_:)`` with 1: two pools on two cores only fight.
package enum BLAS {
    /// Whether a stored operand is used as is or transposed.
    package enum Transpose: Sendable, Hashable {
        /// The operand is used as stored.
        case none
        /// The operand's transpose is used (its stored rows are the product's columns).
        case transposed

        var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// C = alpha·op(A)·op(B) + beta·C, all row-major.
    ///
    /// op(A) is m×k and op(B) is k×n; C is m×n. A is stored as m×k (or k×m when transposed) with
    /// rows `lda` apart, B as k×n (or n×k) with rows `ldb` apart, C with rows `ldc` apart.
    /// When beta is 0, C's previous contents are ignored (NaNs included).
    /// - Throws: ``KernelError`` when a size is negative or too large for BLAS, a leading
    ///   dimension is shorter than its row, or a buffer is too small.
    package static func sgemm(
        transposeA: Transpose = .none, transposeB: Transpose = .none,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafeBufferPointer<Float>, lda: Int,
        b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutableBufferPointer<Float>, ldc: Int
    ) throws(KernelError) {
        try checkDimension("m", m)
        try checkDimension("n", n)
        try checkDimension("k", k)
        let (aRows, aCols) = transposeA == .none ? (m, k) : (k, m)
        let (bRows, bCols) = transposeB == .none ? (k, n) : (n, k)
        try checkOperand("a", rows: aRows, cols: aCols, ld: lda, ldName: "lda", available: a.count)
        try checkOperand("b", rows: bRows, cols: bCols, ld: ldb, ldName: "ldb", available: b.count)
        try checkOperand("c", rows: m, cols: n, ld: ldc, ldName: "ldc", available: c.count)
        guard m > 0, n > 0, let cBase = c.baseAddress else { return }
        guard k > 0, let aBase = a.baseAddress, let bBase = b.baseAddress else {
            // An empty inner dimension leaves C = beta·C; handled here so BLAS never sees the
            // missing A and B pointers.
            scale(cBase, rows: m, cols: n, ld: ldc, by: beta)
            return
        }
        unsafeSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: aBase, lda: lda, b: bBase, ldb: ldb, beta: beta, c: cBase, ldc: ldc)
    }

    /// C = A·Bᵀ for A m×k, B n×k, C m×n, all dense row-major: activations [tokens, in] times
    /// weights stored [out, in] gives [tokens, out].
    package static func sgemmABt(
        a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
        c: UnsafeMutableBufferPointer<Float>, m: Int, n: Int, k: Int
    ) throws(KernelError) {
        try sgemm(transposeB: .transposed, m: m, n: n, k: k, a: a, lda: max(k, 1), b: b, ldb: max(k, 1),
                  c: c, ldc: max(n, 1))
    }

    /// The unchecked call into `cblas_sgemm`. Every size must be positive and fit `blasint`,
    /// leading dimensions must cover their rows, and the buffers must hold what they describe.
    @inline(__always)
    package static func unsafeSgemm(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transposeA.cblas, transposeB.cblas,
                    blasint(truncatingIfNeeded: m), blasint(truncatingIfNeeded: n),
                    blasint(truncatingIfNeeded: k), alpha,
                    a, blasint(truncatingIfNeeded: lda), b, blasint(truncatingIfNeeded: ldb),
                    beta, c, blasint(truncatingIfNeeded: ldc))
    }

    /// Sets how many threads OpenBLAS uses for later calls (at least 1).
    package static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(clamping: max(count, 1)))
    }

    /// The number of threads OpenBLAS currently uses.
    package static var threadCount: Int { Int(openblas_get_num_threads()) }

    static func checkDimension(_ name: String, _ value: Int) throws(KernelError) {
        guard value >= 0, blasint(exactly: value) != nil else { throw .invalidDimension(name: name, value: value) }
    }

    /// Checks a stored row-major operand of `rows`×`cols` with rows `ld` apart fits in
    /// `available` values.
    static func checkOperand(_ name: String, rows: Int, cols: Int, ld: Int, ldName: String,
                             available: Int) throws(KernelError) {
        // BLAS requires ld ≥ 1 even for an empty operand.
        let minimum = max(cols, 1)
        guard ld >= minimum else { throw .leadingDimensionTooSmall(name: ldName, value: ld, minimum: minimum) }
        guard blasint(exactly: ld) != nil else { throw .invalidDimension(name: ldName, value: ld) }
        guard rows > 0, cols > 0 else { return }
        let (span, o1) = (rows - 1).multipliedReportingOverflow(by: ld)
        let (needed, o2) = span.addingReportingOverflow(cols)
        guard !o1, !o2 else { throw .invalidDimension(name: ldName, value: ld) }
        guard available >= needed else { throw .bufferTooSmall(operand: name, needed: needed, available: available) }
    }

    private static func scale(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, by beta: Float) {
        for r in 0..<rows {
            let row = c + r * ld
            for j in 0..<cols { row[j] = beta == 0 ? 0 : beta * row[j] }
        }
    }
}
