import ModelFormats

/// Matrix × vector, y = W·x, for a weight matrix of any element type: the decode path, where each
/// weight byte is read once per token.
///
/// W is a `Tensor` read as `[rowCount, rowLength]` (all leading dimensions fold into rows), x has
/// `rowLength` values and y has `rowCount`. Work is expressed as a range of rows written into the
/// full-length y, so a thread pool can hand disjoint row ranges of one product to its threads,
/// each with its own scratch.
///
/// F32 rows are dotted where they lie. Other types are decoded into the caller's scratch in
/// chunks of ``chunkElements`` values and dotted from there, so the scratch stays small enough
/// for L1 whatever the row length. Quantized types that have an 8-bit integer kernel take
/// ``QuantizedMatMul`` instead when the caller quantizes the activation as ggml does.
package enum MatVec {
    /// Values decoded at a time per row. A multiple of every block size (256); 8 KiB of Floats.
    package static let chunkElements = 2048

    /// The number of scratch Floats ``multiply(_:_:into:rows:scratch:)`` needs for `weights`.
    package static func scratchCount(for weights: Tensor) -> Int {
        scratchCount(type: weights.type, rowLength: weights.rowLength)
    }

    /// The number of scratch Floats needed for rows of `rowLength` values of `type`.
    package static func scratchCount(type: ElementType, rowLength: Int) -> Int {
        type == .f32 ? 0 : min(max(rowLength, 0), chunkElements)
    }

    /// Computes y[r] = W[r]·x for each r in `rows`; other entries of y are left untouched.
    ///
    /// - Parameters:
    ///   - weights: W, read as `[rowCount, rowLength]`.
    ///   - x: `rowLength` values.
    ///   - y: `rowCount` values.
    ///   - rows: the rows to compute; all of them when `nil`.
    ///   - scratch: at least ``scratchCount(for:)`` Floats, not overlapping x or y.
    /// - Throws: ``KernelError`` when a size doesn't match; nothing is written then.
    package static func multiply(
        _ weights: Tensor,
        _ x: UnsafeBufferPointer<Float>,
        into y: UnsafeMutableBufferPointer<Float>,
        rows: Range<Int>? = nil,
        scratch: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        let rows = rows ?? 0..<weights.rowCount
        guard x.count == weights.rowLength else {
            throw .lengthMismatch(operand: "x", expected: weights.rowLength, actual: x.count)
        }
        guard y.count == weights.rowCount else {
            throw .lengthMismatch(operand: "y", expected: weights.rowCount, actual: y.count)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= weights.rowCount else {
            throw .rowRangeOutOfBounds(rows, rowCount: weights.rowCount)
        }
        let needed = scratchCount(for: weights)
        guard scratch.count >= needed else {
            throw .bufferTooSmall(operand: "scratch", needed: needed, available: scratch.count)
        }
        guard !rows.isEmpty, let yBase = y.baseAddress else { return }
        guard let xBase = x.baseAddress, let wBase = weights.bytes.baseAddress else {
            // Zero-length rows: every dot product is empty.
            for r in rows { yBase[r] = 0 }
            return
        }
        // A zero-capacity scratch may have no address; F32 (the only type needing none) ignores it.
        let scratchBase = scratch.baseAddress ?? UnsafeMutablePointer(mutating: xBase)
        unsafeMultiply(type: weights.type, matrix: wBase, rowBytes: weights.rowBytes,
                       rowLength: weights.rowLength, x: xBase, y: yBase, rows: rows, scratch: scratchBase)
    }

    /// Returns W·x in a new array. Allocates; for tests and one-off use.
    package static func multiply(_ weights: Tensor, _ x: [Float]) throws(KernelError) -> [Float] {
        var y = [Float](repeating: 0, count: weights.rowCount)
        var scratch = [Float](repeating: 0, count: scratchCount(for: weights))
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try scratch.withUnsafeMutableBufferPointer { (sb) throws(KernelError) in
                    try multiply(weights, xb, into: yb, scratch: sb)
                }
            }
        }
        return y
    }

    /// The unchecked core: y[r] = row r · x for r in `rows`.
    ///
    /// The caller guarantees: `matrix` holds at least `rows.upperBound` rows of `rowBytes` bytes,
    /// each `rowLength` elements of `type` (a whole number of blocks); x has `rowLength` Floats;
    /// y has at least `rows.upperBound`; `scratch` has `scratchCount(type:rowLength:)` Floats and
    /// overlaps neither x nor y. Disjoint row ranges may run concurrently with separate scratch.
    package static func unsafeMultiply(
        type: ElementType,
        matrix: UnsafeRawPointer,
        rowBytes: Int,
        rowLength: Int,
        x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>,
        rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        // One switch per call, not per row: each case is the slot for that type's own kernel.
        switch type {
        case .f32:
            for r in rows {
                y[r] = VectorOps.unsafeDot(matrix + r &* rowBytes, x, count: rowLength)
            }
        default:
            decodeAndDot(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength,
                         x: x, y: y, rows: rows, scratch: scratch)
        }
    }

    /// Decodes each row chunk by chunk into `scratch` and dots it with the matching part of x.
    @inline(__always)
    static func decodeAndDot(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int,
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        // chunkElements is a multiple of every block size, so chunks start on block boundaries.
        let chunkBytes = chunkElements / type.blockSize &* type.blockBytes
        let scratchRaw = UnsafeRawPointer(scratch)
        for r in rows {
            let row = matrix + r &* rowBytes
            var sum: Float = 0
            var start = 0
            var offset = 0
            while start < rowLength {
                let n = min(chunkElements, rowLength &- start)
                RowDecoding.decode(type, row + offset, count: n, into: scratch)
                sum += VectorOps.unsafeDot(scratchRaw, x + start, count: n)
                start &+= n
                offset &+= chunkBytes
            }
            y[r] = sum
        }
    }
}
