import Tensor

/// One transformer block of an architecture: it reads the residual stream `pass.x` and adds its
/// attention and feed-forward outputs back into it.
protocol DecoderBlock: Sendable {
    func forward(_ pass: LayerPass) throws(TransformerError)
}

/// A block's attention or feed-forward half: reads the normalised input from `p.xb` and leaves its
/// output there.
protocol BlockSublayer: Sendable {
    func callAsFunction(_ p: LayerPass) throws(TransformerError)
}

/// The pre-norm residual block all supported architectures share; they differ only in how their
/// attention and MLP halves are projected (separate or fused weights).
struct PreNormBlock<Attention: BlockSublayer, MLP: BlockSublayer>: DecoderBlock {
    let attentionNorm: RMSNorm
    let attention: Attention
    let mlpNorm: RMSNorm
    let mlp: MLP

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

/// What one block works on: `rows` tokens at positions `start ..< start + rows`, the shared
/// activation buffers, and this layer's slice of the KV cache. The helpers keep the
/// architectures' forward passes down to one line per step of the math.
struct LayerPass {
    let rows: Int
    let start: Int
    let state: RunState
    /// This layer's cached keys and values.
    let kv: KVLayer
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

    /// output = input·Wᵀ for every row. `sameInput`: the input is the previous product's, unchanged
    /// (q, k and v; gate and up), so its 8-bit or rounded form is reused.
    func linear(
        _ w: Linear, _ input: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>,
        sameInput: Bool = false
    ) throws(TransformerError) {
        try w.apply(input, rows: rows, into: output, state: state, rounds: roundsActivations, sameInput: sameInput)
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

    /// Stores this batch's keys and values in the cache, then out = softmax(q·kᵀ/√d + mask)·v over
    /// the cache, per head.
    func attend(queries: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        Attention.attend(queries: queries, rows: rows, start: start, newKeys: newKeys, newValues: newValues, kv: kv,
                         shape: shape, scores: state.scores.pointer, into: out, runner: state.runner)
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
