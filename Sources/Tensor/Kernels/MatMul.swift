/// Activations × weightsᵀ for a batch of tokens: the prefill path, Y[tokens, out] = X[tokens, in]·Wᵀ
/// with W stored [out, in] in any element type.
///
/// F32 weights go to one sgemm. Other types are decoded a tile of rows at a time into the caller's
/// scratch and each tile is one sgemm writing its columns of Y, so the matrix is never dequantized
/// whole: the scratch size bounds the memory, and a tile that fits in L2 is reused across all the
/// tokens while it is hot.
public enum MatMul {
    /// Weight values per tile that ``recommendedScratchCount(for:)`` aims at: 1 MiB of Floats,
    /// half the L2 of the machines Sparrow targets.
    public static let targetTileElements = 1 << 18

    /// A scratch size giving tiles of about ``targetTileElements`` values (at least one row), or 0
    /// for F32 weights, which need none.
    public static func recommendedScratchCount(for weights: Tensor) -> Int {
        guard weights.type != .f32, weights.rowLength > 0 else { return 0 }
        let rows = max(1, min(weights.rowCount, targetTileElements / weights.rowLength))
        return rows * weights.rowLength
    }

    /// Computes `output` = `input`·Wᵀ, where `input` is [tokens, W.rowLength] and `output` is
    /// [tokens, W.rowCount], both dense row-major.
    ///
    /// - Parameter scratch: for non-F32 weights, room for at least one decoded row; tiles are as
    ///   many rows as fit. Ignored for F32 weights. Must not overlap input or output.
    /// - Throws: ``KernelError`` when a size doesn't match or the scratch can't hold a row.
    public static func matMul(
        weights: Tensor,
        input: UnsafeBufferPointer<Float>,
        tokens: Int,
        output: UnsafeMutableBufferPointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        let cols = weights.rowLength, outRows = weights.rowCount
        try BLAS.checkDimension("tokens", tokens)
        try BLAS.checkDimension("rows", outRows)
        try BLAS.checkDimension("columns", cols)
        let (inCount, o1) = tokens.multipliedReportingOverflow(by: cols)
        let (outCount, o2) = tokens.multipliedReportingOverflow(by: outRows)
        guard !o1, !o2 else { throw .invalidDimension(name: "tokens", value: tokens) }
        guard input.count == inCount else { throw .lengthMismatch(operand: "input", expected: inCount, actual: input.count) }
        guard output.count == outCount else {
            throw .lengthMismatch(operand: "output", expected: outCount, actual: output.count)
        }
        guard tokens > 0, outRows > 0, let out = output.baseAddress else { return }
        guard cols > 0, let x = input.baseAddress, let w = weights.bytes.baseAddress else {
            out.update(repeating: 0, count: outCount)
            return
        }
        // Unaligned F32 (possible in a mapped safetensors file) can't be handed to BLAS as Floats;
        // it takes the tiled path, which copies rows byte-wise.
        if weights.type == .f32, Int(bitPattern: w) % MemoryLayout<Float>.alignment == 0 {
            BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: tokens, n: outRows, k: cols,
                             alpha: 1, a: x, lda: cols, b: w.assumingMemoryBound(to: Float.self), ldb: cols,
                             beta: 0, c: out, ldc: outRows)
            return
        }
        let tileRows = min(outRows, scratch.count / cols)
        guard tileRows > 0, let tile = scratch.baseAddress else {
            throw .bufferTooSmall(operand: "scratch", needed: cols, available: scratch.count)
        }
        var first = 0
        while first < outRows {
            let n = min(tileRows, outRows - first)
            RowDecoding.decode(weights.type, w + first * weights.rowBytes, count: n * cols, into: tile)
            // This tile is columns first..<first+n of every output row.
            BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: tokens, n: n, k: cols,
                             alpha: 1, a: x, lda: cols, b: tile, ldb: cols,
                             beta: 0, c: out + first, ldc: outRows)
            first += n
        }
    }
}
