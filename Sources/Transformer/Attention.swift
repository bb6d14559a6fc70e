import Tensor

/// Causal grouped-query attention over the KV cache: the part of attention every architecture
/// shares, once the projections have written the queries and this batch's keys and values.
///
/// For query head h, which reads kv head g = h / (heads / kvHeads) (transformers' `repeat_kv`
/// and llama.cpp agree on this grouping), and token i at position p:
///
///     o[i, h] = Σ_j softmax_j(q[i, h]·k[j, g] / √d) · v[j, g]
///
/// over the cached positions j ≤ p, and with a sliding window W only over p − W < j ≤ p.
///
/// Per head, both products are sgemm calls straight on the cache: the scores S = Q_h·K_gᵀ as
/// [rows, positions], then O_h = S·V_g, with the heads picked out by leading dimensions, so nothing
/// is copied. The heads are split across the pool's threads, each with its own scores. Decoding is
/// the same code with one row.
struct AttentionShape: Sendable {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// Positions a token attends to, itself included; `nil` for the whole prefix.
    let window: Int?
    /// Round keys, values, queries and probabilities to Float16, as llama.cpp's F16 KV cache does.
    let halfPrecision: Bool
    /// Scale the queries by 1/√d before they are rounded, instead of the scores after (llama.cpp's
    /// Phi-3 graph does; it only matters with ``halfPrecision``).
    let scaleQueriesFirst: Bool

    var queryWidth: Int { heads * headDim }
    var kvWidth: Int { kvHeads * headDim }

    /// The first position any of the rows start..<start+rows attends to.
    func firstAttended(start: Int) -> Int {
        guard let window else { return 0 }
        return max(0, start - window + 1)
    }
}

enum Attention {
    /// Writes o = softmax(q·kᵀ/√d + causal mask)·v for `rows` tokens at positions
    /// start..<start+rows, whose keys and values are already in the cache.
    ///
    /// - Parameters:
    ///   - queries: [rows, heads × headDim], already rotated.
    ///   - keys, values: the layer's cache from position 0, rows of kvHeads × headDim.
    ///   - scores: room for `runner.threadCount` × rows × (start + rows − firstAttended) Floats.
    ///   - out: [rows, heads × headDim].
    ///   - runner: the threads the heads are split across.
    static func attend(
        queries: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>,
        shape: AttentionShape, scores allScores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>,
        runner: any ParallelRunner
    ) {
        let d = shape.headDim, qWidth = shape.queryWidth, kvWidth = shape.kvWidth
        let group = shape.heads / shape.kvHeads
        let first = shape.firstAttended(start: start)
        let end = start + rows
        let columns = end - first
        // transformers multiplies q·kᵀ by head_dim ** -0.5, computed in double.
        var scale = Float(1 / Double(d).squareRoot())
        let firstKey = keys + first * kvWidth, firstValue = values + first * kvWidth
        if shape.halfPrecision {
            // llama.cpp stores this batch's keys and values as halves, and converts the queries
            // to halves for the product with them.
            ActivationRounding.roundToHalf(keys + start * kvWidth, count: rows * kvWidth)
            ActivationRounding.roundToHalf(values + start * kvWidth, count: rows * kvWidth)
            if shape.scaleQueriesFirst {
                for i in 0..<rows * qWidth { queries[i] *= scale }
                scale = 1
            }
            ActivationRounding.roundToHalf(queries, count: rows * qWidth)
        }

        let heads = shape.heads, alpha = scale
        let tasks = min(runner.threadCount, heads)
        runner.run(tasks: tasks) { t in
            let scores = allScores + t * rows * columns
            for h in (t * heads / tasks)..<((t + 1) * heads / tasks) {
                let g = h / group
                // S[i, j] = q[i, h]·k[first + j, g] / √d
                BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: rows, n: columns, k: d, alpha: alpha,
                                 a: queries + h * d, lda: qWidth, b: firstKey + g * d, ldb: kvWidth,
                                 beta: 0, c: scores, ldc: columns)
                // Causal (and windowed) softmax, row by row: masked positions get weight 0.
                for i in 0..<rows {
                    let row = scores + i * columns
                    let position = start + i
                    let lo = shape.firstAttended(start: position) - first
                    let hi = position - first  // inclusive
                    if lo > 0 { row.update(repeating: 0, count: lo) }
                    Normalization.unsafeSoftmax(row + lo, count: hi - lo + 1)
                    if hi + 1 < columns { (row + hi + 1).update(repeating: 0, count: columns - hi - 1) }
                    // llama.cpp converts the probabilities to halves for the product with V.
                    if shape.halfPrecision { ActivationRounding.roundToHalf(row + lo, count: hi - lo + 1) }
                }
                // O_h = S·V_g
                BLAS.unsafeSgemm(transposeA: .none, transposeB: .none, m: rows, n: d, k: columns, alpha: 1,
                                 a: scores, lda: columns, b: firstValue + g * d, ldb: kvWidth,
                                 beta: 0, c: out + h * d, ldc: qWidth)
            }
        }
    }
}
