import CKernels
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
/// The C kernel `sparrow_attention` (Sources/CKernels/attention_impl.h) computes each (row, head)
/// pair on its own, in one fixed order of Float operations, reading the cache where it lies (Float
/// or Float16): a token's output is the same bits whether it arrives in a prefill, in a chunk or
/// alone, on any instruction set and any split across threads. The pairs are split across the
/// pool's threads, each with its own scores.
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
    ///   - queries: [rows, heads × headDim], already rotated. With ``AttentionShape/halfPrecision``
    ///     they are rounded to Float16 here, in place.
    ///   - newKeys, newValues: this batch's [rows, kvWidth], keys already rotated.
    ///   - kv: the layer's cache, read where it lies by the kernel (through its block table), with
    ///     room made for positions start..<start+rows (``KVCache/prepareWrite(from:rows:)``).
    ///   - scores: room for ``scoresPerThread(attending:)`` × `runner.threadCount` Floats, for the
    ///     most positions a row attends to (start + rows − firstAttended).
    ///   - out: [rows, heads × headDim].
    ///   - runner: the threads the (row, head) pairs are split across.
    ///   - isa: the instruction set of the C kernels (`sparrow_isa_best()` unless a test picks one).
    static func attend(
        queries: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        newKeys: UnsafePointer<Float>, newValues: UnsafePointer<Float>, kv: KVLayer,
        shape: AttentionShape, scores: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, runner: any ParallelRunner, isa: Int32 = sparrow_isa_best()
    ) {
        let d = shape.headDim, count = rows * shape.queryWidth
        // transformers multiplies q·kᵀ by head_dim ** -0.5, computed in double.
        var scale = Float(1 / Double(d).squareRoot())
        // llama.cpp stores this batch's keys and values as halves (a Float16 cache rounds them here).
        kv.store(keys: newKeys, values: newValues, at: start, rows: rows, isa: isa)
        if shape.halfPrecision {
            // ... and converts the queries to halves for the product with them.
            if shape.scaleQueriesFirst {
                for i in 0..<count { queries[i] *= scale }
                scale = 1
            }
            sparrow_round_f16(isa, queries, queries, Int64(count))
        }
        let problem = sparrow_attention_problem(
            queries: queries, keys: kv.keys, values: kv.values, block_table: kv.table,
            block_size: Int64(KVBlockPool.blockSize), block_stride: Int64(kv.blockStride),
            out: out, rows: Int64(rows), start: Int64(start),
            heads: Int64(shape.heads), kv_heads: Int64(shape.kvHeads), head_dim: Int64(d),
            window: Int64(shape.window ?? 0), scale: scale, half_cache: kv.halfPrecision ? 1 : 0,
            half_probabilities: shape.halfPrecision ? 1 : 0)
        let pairs = rows * shape.heads
        let tasks = min(runner.threadCount, pairs)
        let attending = start + rows - shape.firstAttended(start: start)
        runner.run(tasks: tasks, AttentionPairs(
            problem: problem, isa: isa, pairs: pairs, tasks: tasks, scores: scores,
            scoresPerTask: scoresPerThread(attending: attending)))
    }

    /// The scores one thread needs for rows that attend to at most `attending` positions.
    static func scoresPerThread(attending: Int) -> Int { Int(sparrow_attention_scratch(Int64(attending))) }
}

/// Pairs t·pairs/tasks ..< (t+1)·pairs/tasks of one ``Attention/attend(queries:rows:start:newKeys:newValues:kv:shape:scores:into:runner:isa:)``
/// (pair i is head i / rows, row i % rows), with task t's own scores. Which task computes a pair
/// does not change its bits.
private struct AttentionPairs: ParallelTask {
    let problem: sparrow_attention_problem
    let isa: Int32, pairs: Int, tasks: Int
    let scores: UnsafeMutablePointer<Float>, scoresPerTask: Int

    func run(task t: Int) {
        let begin = Int64(t * pairs / tasks), end = Int64((t + 1) * pairs / tasks)
        let scratch = scores + t * scoresPerTask
        // −1 means no kernel for `isa` in this build, which `sparrow_isa_best()` never returns.
        _ = withUnsafePointer(to: problem) { sparrow_attention(isa, $0, begin, end, scratch) }
    }
}
