import Tensor

/// The activations of one forward pass over `rows` tokens, kept apart from the weights (as
/// llama2.c's `RunState`): each buffer is a row-major matrix [rows, width].
///
/// Buffers only grow. They start with room for one row, so decoding never allocates; a prefill
/// grows them once to its batch size. Logits are written straight into the caller's array.
final class RunState {
    /// The residual stream x.
    let x = ScratchBuffer()
    /// x normalised, then each sub-block's output before it is added back into x.
    let xb = ScratchBuffer()
    /// Queries, [rows, heads × headDim].
    let q = ScratchBuffer()
    /// Attention output before the output projection, [rows, heads × headDim].
    let attention = ScratchBuffer()
    /// Fused q|k|v projections (Phi-3), [rows, (heads + 2 × kvHeads) × headDim].
    let qkv = ScratchBuffer()
    /// Feed-forward: the gate (Llama) or gate|up (Phi-3), [rows, ffn] or [rows, 2 × ffn].
    let hidden = ScratchBuffer()
    /// Feed-forward: the up projection (Llama) or the SwiGLU output (Phi-3), [rows, ffn].
    let hidden2 = ScratchBuffer()
    /// cos and sin of each row's rotary angles, [rows, ropeDims / 2].
    let cos = ScratchBuffer()
    let sin = ScratchBuffer()
    /// Attention scores of one (row, head) pair per thread of the runner,
    /// ``Attention/scoresPerThread(attending:)`` Floats each.
    let scores = ScratchBuffer()
    /// This batch's keys and values before they are stored in the cache, [rows, kvWidth].
    let newKeys = ScratchBuffer()
    let newValues = ScratchBuffer()
    /// Activations rounded as llama.cpp rounds them before a product (``Numerics/llamaCpp``),
    /// [rows, widest input].
    let rounded = ScratchBuffer()
    /// Decoded weight rows for matrix × vector and weight tiles for matrix × matrix: one share of
    /// ``scratchPerThread`` Floats per thread of the runner.
    let weightScratch = ScratchBuffer()
    /// Scratch Floats each thread owns in ``weightScratch``.
    let scratchPerThread: Int
    /// The activation quantized to 8 bits for the integer kernels (decoding).
    let q8 = Q8Activation()
    /// The format ``q8`` currently holds the last input in, if it holds it.
    var quantizedFormat: Q8Activation.Format?
    /// What ``rounded`` currently holds the last input rounded for, if it holds it.
    var roundedFor: RoundingKey?
    /// The sequences of the current forward pass (capacity kept between passes, so a step allocates
    /// nothing once it has seen its batch size).
    var segments: [BatchSegment] = []
    /// The threads matrix products are split across.
    let runner: any ParallelRunner

    private let widths: Widths
    /// Rows every activation buffer can hold.
    private(set) var rows = 0

    struct Widths {
        var hidden: Int, query: Int, fusedQKV: Int, feedForward: Int, feedForwardFused: Int, rope: Int
        var kv: Int
        /// The widest input of any weight matrix, for the rounded copy; 0 when not rounding.
        var rounded: Int
    }

    init(config: ModelConfig, weightScratch scratchCount: Int, contextLength: Int, rounding: Bool,
         runner: any ParallelRunner)
        throws(TransformerError)
    {
        self.runner = runner
        scratchPerThread = scratchCount
        let ffn = config.intermediateSize
        let fused = config.architecture.definition.fusesProjections
        widths = Widths(hidden: config.hiddenSize, query: config.queryWidth,
                        fusedQKV: fused ? config.queryWidth + 2 * config.kvWidth : 0,
                        feedForward: ffn, feedForwardFused: fused ? 2 * ffn : ffn,
                        rope: config.ropeDimensions / 2, kv: config.kvWidth,
                        rounded: rounding ? max(config.hiddenSize, config.queryWidth, ffn) : 0)
        try reserve(rows: 1, attended: contextLength)
        let (total, overflow) = scratchCount.multipliedReportingOverflow(by: runner.threadCount)
        guard !overflow else { throw .cannotAllocate(what: "weight scratch", bytes: Int.max) }
        do { try weightScratch.reserve(total) } catch { throw .kernel(error) }
    }

    /// Makes room for `rows` rows, each attending to at most `attended` positions.
    func reserve(rows newRows: Int, attended: Int) throws(TransformerError) {
        // Scores are per (row, head) pair, so their size depends on the positions alone.
        let (scoresCount, overflow) = Attention.scoresPerThread(attending: attended)
            .multipliedReportingOverflow(by: runner.threadCount)
        guard !overflow, attended >= 0 else { throw .cannotAllocate(what: "attention scores", bytes: Int.max) }
        do {
            if newRows > rows {
                try x.reserve(newRows * widths.hidden)
                try xb.reserve(newRows * widths.hidden)
                try q.reserve(newRows * widths.query)
                try attention.reserve(newRows * widths.query)
                try qkv.reserve(newRows * widths.fusedQKV)
                try hidden.reserve(newRows * widths.feedForwardFused)
                try hidden2.reserve(newRows * widths.feedForward)
                try cos.reserve(newRows * widths.rope)
                try sin.reserve(newRows * widths.rope)
                try rounded.reserve(newRows * widths.rounded)
                try newKeys.reserve(newRows * widths.kv)
                try newValues.reserve(newRows * widths.kv)
                rows = newRows
            }
            try scores.reserve(scoresCount)
        } catch {
            throw .kernel(error)
        }
    }
}

extension ScratchBuffer {
    /// The first Float (the buffers are never empty once reserved).
    var pointer: UnsafeMutablePointer<Float> { buffer.baseAddress.unsafelyUnwrapped }
}
