/// Activations × weightsᵀ for a batch of tokens: the prefill path, Y[tokens, out] = X[tokens, in]·Wᵀ
/// with W stored [out, in] in any element type.
///
/// F32 weights go to one sgemm. Other types are decoded a tile of rows at a time into the caller's
/// scratch and each tile is one sgemm writing its columns of Y, so the matrix is never dequantized
/// whole: the scratch size bounds the memory, and each decoded tile serves every token.
package enum MatMul {
    /// Weight values per tile that ``recommendedScratchCount(for:)`` aims at: 2 MiB of Floats per
    /// thread. OpenBLAS packs each tile into its own blocks anyway, so the tile need not fit in L2;
    /// what a bigger tile saves is re-packing the activations once per tile (TinyLlama-shape
    /// Q4_K_M prefill: 1 MiB tiles 39 tokens/s, 2 MiB 46, 4 MiB 46).
    package static let targetTileElements = 1 << 19

    /// A scratch size giving tiles of about ``targetTileElements`` values (at least one row), or 0
    /// for F32 weights, which need none.
    package static func recommendedScratchCount(for weights: Tensor) -> Int {
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
    package static func matMul(
        weights: Tensor,
        input: UnsafeBufferPointer<Float>,
        tokens: Int,
        output: UnsafeMutableBufferPointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>
    ) throws(KernelError) {
        try checkCounts(weights: weights, inputCount: input.count, tokens: tokens, outputCount: output.count)
        let cols = weights.rowLength, outRows = weights.rowCount
        guard tokens > 0, outRows > 0, let out = output.baseAddress else { return }
        guard cols > 0, let x = input.baseAddress, let w = weights.bytes.baseAddress else {
            out.update(repeating: 0, count: output.count)
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
        guard scratch.count >= cols, let tile = scratch.baseAddress else {
            throw .bufferTooSmall(operand: "scratch", needed: cols, available: scratch.count)
        }
        unsafeTiles(weights: weights, rows: 0..<outRows, input: x, tokens: tokens, output: out,
                     tile: tile, tileCapacity: scratch.count)
    }

    /// Checks what ``unsafeMatMul(weights:rows:input:tokens:output:scratch:)`` needs, so callers
    /// that split one product across threads check once.
    package static func checkSizes(
        weights: Tensor, inputCount: Int, tokens: Int, outputCount: Int, scratchCount: Int
    ) throws(KernelError) {
        try checkCounts(weights: weights, inputCount: inputCount, tokens: tokens, outputCount: outputCount)
        let cols = weights.rowLength
        guard scratchCount >= cols else { throw .bufferTooSmall(operand: "scratch", needed: cols, available: scratchCount) }
    }

    /// Checks the dimensions of a product of `tokens` rows by `weights` and that the input holds
    /// [tokens, W.rowLength] and the output [tokens, W.rowCount] floats, so that `tokens` times
    /// either width cannot overflow once this returns.
    private static func checkCounts(
        weights: Tensor, inputCount: Int, tokens: Int, outputCount: Int
    ) throws(KernelError) {
        let cols = weights.rowLength, outRows = weights.rowCount
        try BLAS.checkDimension("tokens", tokens)
        try BLAS.checkDimension("rows", outRows)
        try BLAS.checkDimension("columns", cols)
        let (inCount, o1) = tokens.multipliedReportingOverflow(by: cols)
        let (outCount, o2) = tokens.multipliedReportingOverflow(by: outRows)
        guard !o1, !o2 else { throw .invalidDimension(name: "tokens", value: tokens) }
        guard inputCount == inCount else { throw .lengthMismatch(operand: "input", expected: inCount, actual: inputCount) }
        guard outputCount == outCount else {
            throw .lengthMismatch(operand: "output", expected: outCount, actual: outputCount)
        }
    }

    /// Columns `rows` of `output` = `input`·W[rows]ᵀ, where output is [tokens, W.rowCount]: one
    /// thread's share of a product split by weight rows. Sizes as checked by
    /// ``checkSizes(weights:inputCount:tokens:outputCount:scratchCount:)`` (aligned F32 weights need
    /// no scratch: their share goes to sgemm where it lies); `rows` within W.
    package static func unsafeMatMul(
        weights: Tensor, rows: Range<Int>, input: UnsafePointer<Float>, tokens: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableBufferPointer<Float>
    ) {
        guard !rows.isEmpty, tokens > 0 else { return }
        let cols = weights.rowLength
        if weights.type == .f32, cols > 0, let w = weights.bytes.baseAddress,
           Int(bitPattern: w) % MemoryLayout<Float>.alignment == 0 {
            BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: tokens, n: rows.count, k: cols,
                             alpha: 1, a: input, lda: cols,
                             b: (w + rows.lowerBound &* weights.rowBytes).assumingMemoryBound(to: Float.self), ldb: cols,
                             beta: 0, c: output + rows.lowerBound, ldc: weights.rowCount)
            return
        }
        guard cols > 0, weights.bytes.baseAddress != nil, let tile = scratch.baseAddress else {
            for t in 0..<tokens { (output + t * weights.rowCount + rows.lowerBound).update(repeating: 0, count: rows.count) }
            return
        }
        unsafeTiles(weights: weights, rows: rows, input: input, tokens: tokens, output: output, tile: tile,
                    tileCapacity: scratch.count)
    }

    /// Decodes rows of W a tile at a time into `tile` and multiplies each tile with one sgemm,
    /// writing its columns of `output`.
    static func unsafeTiles(
        weights: Tensor, rows: Range<Int>, input: UnsafePointer<Float>, tokens: Int,
        output: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>, tileCapacity: Int
    ) {
        let cols = weights.rowLength, outRows = weights.rowCount
        guard let w = weights.bytes.baseAddress else { return }
        let tileRows = max(1, min(rows.count, tileCapacity / cols))
        var first = rows.lowerBound
        while first < rows.upperBound {
            let n = min(tileRows, rows.upperBound - first)
            RowDecoding.decode(weights.type, w + first * weights.rowBytes, count: n * cols, into: tile)
            // This tile is columns first..<first+n of every output row.
            BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: tokens, n: n, k: cols,
                             alpha: 1, a: input, lda: cols, b: tile, ldb: cols,
                             beta: 0, c: output + first, ldc: outRows)
            first += n
        }
    }
}
