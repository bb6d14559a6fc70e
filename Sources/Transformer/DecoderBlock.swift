import Tensor

/// One transformer block of an architecture: it reads the residual stream `pass.x` and adds its
/// attention and feed-forward outputs back into it.
protocol DecoderBlock: Sendable {
    func forward(_ pass: LayerPass) throws(TransformerError)
    /// Every weight matrix of the block (to size the scratch the largest one needs).
    var matrices: [Linear] { get }
}

/// A block's attention or feed-forward half: reads the normalised input from `p.xb` and leaves its
/// output there.
protocol BlockSublayer: Sendable {
    func callAsFunction(_ p: LayerPass) throws(TransformerError)
    var matrices: [Linear] { get }
}

/// The pre-norm residual block all supported architectures share; they differ only in how their
/// attention and MLP halves are projected (separate or fused weights).
struct PreNormBlock<Attention: BlockSublayer, MLP: BlockSublayer>: DecoderBlock {
    let attentionNorm: RMSNorm
    let attention: Attention
    let mlpNorm: RMSNorm
    let mlp: MLP

    var matrices: [Linear] { attention.matrices + mlp.matrices }

    func forward(_ p: LayerPass) throws(TransformerError) {
        // h = x + Attention(RMSNorm(x))
        attentionNorm.apply(p.x, rows: p.rows, into: p.xb)
        try attention(p)
        p.addToResidual(p.xb)
        // out = h + MLP(RMSNorm(h))
        mlpNorm.apply(p.x, rows: p.rows, into: p.xb)
        try mlp(p)
        p.addToResidual(p.xb)
    }
}

/// What one block works on: `rows` tokens, one or more sequences' runs of them (`segments`, each
/// at its own positions with its own KV cache), the shared activation buffers, and the layer. The
/// helpers keep the architectures' forward passes down to one line per step of the math.
struct LayerPass {
    let rows: Int
    /// The sequences whose tokens fill the rows, in row order.
    let segments: [BatchSegment]
    /// This layer's index, for each segment's cache.
    let layer: Int
    let state: RunState
    let rotary: Rotary
    let shape: AttentionShape
    let hiddenSize: Int
    let feedForwardSize: Int
    /// Round activations before each product as llama.cpp does (``Numerics/llamaCpp``).
    let roundsActivations: Bool

    var x: UnsafeMutablePointer<Float> { state.x.pointer }
    var xb: UnsafeMutablePointer<Float> { state.xb.pointer }
    var q: UnsafeMutablePointer<Float> { state.q.pointer }
    var attention: UnsafeMutablePointer<Float> { state.attention.pointer }
    var qkv: UnsafeMutablePointer<Float> { state.qkv.pointer }
    var hidden: UnsafeMutablePointer<Float> { state.hidden.pointer }
    var hidden2: UnsafeMutablePointer<Float> { state.hidden2.pointer }
    /// This batch's keys and values, [rows, kvWidth]: the projections write them here, RoPE
    /// rotates the keys, and ``attend(queries:into:)`` stores both in the cache.
    var newKeys: UnsafeMutablePointer<Float> { state.newKeys.pointer }
    var newValues: UnsafeMutablePointer<Float> { state.newValues.pointer }

    /// output = input·Wᵀ for every row.
    func linear(
        _ w: Linear, _ input: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) throws(TransformerError) {
        try w.apply(input, rows: rows, into: output, state: state, rounds: roundsActivations)
    }

    /// output_i = input·W_iᵀ for two or three weights of the same input, in one operation of the
    /// thread pool where their kernels allow it (``Linear/apply(_:rows:_:into:_:into:_:into:state:rounds:)``).
    func linear(
        _ input: UnsafeMutablePointer<Float>, _ a: Linear, into ya: UnsafeMutablePointer<Float>,
        _ b: Linear, into yb: UnsafeMutablePointer<Float>,
        _ c: Linear? = nil, into yc: UnsafeMutablePointer<Float>? = nil
    ) throws(TransformerError) {
        try Linear.apply(input, rows: rows, a, into: ya, b, into: yb, c, into: yc, state: state,
                         rounds: roundsActivations)
    }

    /// Rotates the queries (rows of `queryStride`) and keys (rows of `keyStride`) by each
    /// row's position.
    func rotate(
        queries: UnsafeMutablePointer<Float>, queryStride: Int? = nil,
        keys: UnsafeMutablePointer<Float>, keyStride: Int? = nil
    ) throws(TransformerError) {
        let cos = state.cos.pointer, sin = state.sin.pointer
        try rotary.rotate(queries, rows: rows, heads: shape.heads, stride: queryStride ?? shape.queryWidth,
                          cos: cos, sin: sin)
        try rotary.rotate(keys, rows: rows, heads: shape.kvHeads, stride: keyStride ?? shape.kvWidth,
                          cos: cos, sin: sin)
    }

    /// Stores this batch's keys and values in each sequence's cache, then out = softmax(q·kᵀ/√d +
    /// mask)·v over that cache, per head: every sequence attends only to its own positions.
    func attend(queries: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let q = shape.queryWidth, kv = shape.kvWidth
        for s in segments {
            Attention.attend(queries: queries + s.firstRow * q, rows: s.rows, start: s.start,
                             newKeys: newKeys + s.firstRow * kv, newValues: newValues + s.firstRow * kv,
                             kv: s.cache.layer(layer), shape: shape, scores: state.scores.pointer,
                             into: out + s.firstRow * q, runner: state.runner)
        }
    }

    /// x += y over every row.
    func addToResidual(_ y: UnsafeMutablePointer<Float>) {
        let x = self.x
        for i in 0..<rows * hiddenSize { x[i] += y[i] }
    }

    /// Copies `width` columns starting at `column` of each row of `source` (rows `sourceStride`
    /// apart) into consecutive rows of `destination` (rows `width` apart): the split of a fused
    /// projection.
    func copyColumns(
        _ source: UnsafeMutablePointer<Float>, sourceStride: Int, column: Int, width: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            (destination + r * width).update(from: source + r * sourceStride + column, count: width)
        }
    }
}

/// One sequence's run of rows in a forward pass: rows `firstRow ..< firstRow + rows` are its tokens
/// at positions `start ..< start + rows`, and their keys and values go to `cache`.
struct BatchSegment {
    let firstRow: Int
    let rows: Int
    let start: Int
    let cache: KVCache
}
