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
/// Per head, both products are sgemm calls: the scores S = Q_h·K_gᵀ as [rows, positions], then
/// O_h = S·V_g. A Float cache is read where it lies, the heads picked out by leading dimensions; a
/// Float16 cache is widened one kv head at a time. The heads are split across the pool's threads,
/// each with its own scores. Decoding is the same code with one row.
struct AttentionShape: Sendable {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// Positions a token attends to, itself included; `nil` for the whole prefix.
    let window: Int?
    /// Keys and values are stored as Float16 (``KVCache/halfPrecision``), and queries and
    /// probabilities rounded to Float16 for the products with them, as llama.cpp's F16 KV cache does.
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
    /// Stores this batch's keys and values in the cache at positions start..<start+rows, then
    /// writes o = softmax(q·kᵀ/√d + causal mask)·v for those `rows` tokens.
    ///
    /// - Parameters:
    ///   - queries: [rows, heads × headDim], already rotated.
    ///   - newKeys, newValues: this batch's [rows, kvWidth], keys already rotated.
    ///   - kv: the layer's cache; a Float cache is read where it lies, a Float16 one is widened one
    ///     kv head at a time into `kvScratch`.
    ///   - scores: room for `runner.threadCount` × rows × (start + rows − firstAttended) Floats.
    ///   - kvScratch: with a Float16 cache, room for `runner.threadCount` × 2 × (start + rows −
    ///     firstAttended) × headDim Floats.
    ///   - out: [rows, heads × headDim].
    ///   - runner: the threads the heads are split across.
    static func attend(
        queries: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        newKeys: UnsafePointer<Float>, newValues: UnsafePointer<Float>, kv: KVLayer,
        shape: AttentionShape, scores allScores: UnsafeMutablePointer<Float>, kvScratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, runner: any ParallelRunner
    ) {
        let d = shape.headDim, qWidth = shape.queryWidth
        let first = shape.firstAttended(start: start)
        let columns = start + rows - first
        // transformers multiplies q·kᵀ by head_dim ** -0.5, computed in double.
        var scale = Float(1 / Double(d).squareRoot())
        // llama.cpp stores this batch's keys and values as halves (a Float16 cache rounds them here).
        kv.store(keys: newKeys, values: newValues, at: start, rows: rows)
        if shape.halfPrecision {
            // ... and converts the queries to halves for the product with them.
            if shape.scaleQueriesFirst {
                for i in 0..<rows * qWidth { queries[i] *= scale }
                scale = 1
            }
            ActivationRounding.roundToHalf(queries, count: rows * qWidth)
        }

        let tasks = min(runner.threadCount, shape.heads)
        runner.run(tasks: tasks, AttentionHeads(
            queries: queries, rows: rows, start: start, first: first, columns: columns, kv: kv, shape: shape,
            alpha: scale, tasks: tasks, scores: allScores, kvScratch: kvScratch, out: out))
    }
}

/// Attention for a share of the heads (task t of `tasks`), with its own scores and K/V scratch:
/// ``Attention/attend(queries:rows:start:newKeys:newValues:kv:shape:scores:kvScratch:into:runner:)``'s
/// work on one thread.
private struct AttentionHeads: ParallelTask {
    let queries: UnsafeMutablePointer<Float>, rows: Int, start: Int, first: Int, columns: Int
    let kv: KVLayer, shape: AttentionShape, alpha: Float, tasks: Int
    let scores: UnsafeMutablePointer<Float>, kvScratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>

    func run(task t: Int) {
        let d = shape.headDim, qWidth = shape.queryWidth, kvWidth = shape.kvWidth
        let heads = shape.heads, group = shape.heads / shape.kvHeads
        let end = start + rows
        let scores = self.scores + t * rows * columns
        let keysOfGroup = kvScratch + t * 2 * columns * d, valuesOfGroup = keysOfGroup + columns * d
        var widened = -1
        for h in (t * heads / tasks)..<((t + 1) * heads / tasks) {
            let g = h / group
            // K_g and V_g over the attended positions: in place in a Float cache (rows kvWidth
            // apart), widened into this thread's scratch from a Float16 one (rows d apart).
            let k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int
            if kv.halfPrecision {
                if widened != g {
                    kv.read(kv.keys, rows: first..<end, column: g * d, count: d, into: keysOfGroup)
                    kv.read(kv.values, rows: first..<end, column: g * d, count: d, into: valuesOfGroup)
                    widened = g
                }
                (k, v, ld) = (UnsafePointer(keysOfGroup), UnsafePointer(valuesOfGroup), d)
            } else {
                let keys = kv.keys.assumingMemoryBound(to: Float.self), values = kv.values.assumingMemoryBound(to: Float.self)
                (k, v, ld) = (UnsafePointer(keys + first * kvWidth + g * d), UnsafePointer(values + first * kvWidth + g * d), kvWidth)
            }
            // S[i, j] = q[i, h]·k[first + j, g] / √d
            BLAS.unsafeSgemm(transposeA: .none, transposeB: .transposed, m: rows, n: columns, k: d, alpha: alpha,
                             a: queries + h * d, lda: qWidth, b: k, ldb: ld,
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
                             a: scores, lda: columns, b: v, ldb: ld,
                             beta: 0, c: out + h * d, ldc: qWidth)
        }
    }
}
