import Tensor

// Phi-3 (mini, small, medium): the Llama block with fused projections, as transformers'
// modeling_phi3.py and llama.cpp store them:
//
//     q | k | v = W_qkv · n                      (rows: q heads, then k heads, then v heads)
//     h   = x + W_o · Attention(RoPE(q), RoPE(k), v),        n = RMSNorm(x)
//     g | u = W_gate_up · m                      (rows: gate first, then up)
//     out = h + W_down · (silu(g) ⊙ u),                       m = RMSNorm(h)
//
// Its GGUF conversion keeps Hugging Face's row order, so both formats rotate half-split pairs.

/// Phi-3 as its checkpoints name it.
enum Phi3: ArchitectureDefinition {
    static let name = "phi3"
    static let ggufNames = ["phi3"]
    /// Its GGUF conversion keeps Hugging Face's row order.
    static let ggufRopeConvention = ModelConfig.RopeConvention.halfSplit
    static let huggingFaceNames = ["Phi3ForCausalLM", "phi3"]
    static let fusesProjections = true
    /// llama.cpp's Phi-3 graph scales q by 1/√d before the product with the keys.
    static let llamaCppScalesQueriesFirst = true
    /// `generation_config.json` also ends on `<|assistant|>`: a model that starts a new turn is done.
    static let endOfTurnTexts = ["<|assistant|>"]

    static func loadBlock(_ w: WeightLoader, layer: Int, config: ModelConfig) throws(TransformerError) -> any DecoderBlock {
        try Phi3Block.load(w, layer: layer, config: config)
    }
}

extension ModelConfig.Architecture {
    /// Phi-3: fused q/k/v and gate/up projections.
    public static let phi3 = Self(Phi3.self)
}

/// Self-attention with one fused q|k|v projection.
struct Phi3Attention: BlockSublayer {
    let wqkv: Linear, wo: Linear

    var matrices: [Linear] { [wqkv, wo] }

    /// Reads the normalised input from `p.xb` and leaves W_o·attention there.
    func callAsFunction(_ p: LayerPass) throws(TransformerError) {
        let qWidth = p.shape.queryWidth, kvWidth = p.shape.kvWidth, fused = wqkv.outputs
        // q | k | v = W_qkv·n, then split: q to its buffer, k and v into the KV cache.
        try p.linear(wqkv, p.xb, into: p.qkv)
        p.copyColumns(p.qkv, sourceStride: fused, column: 0, width: qWidth, into: p.q)
        p.copyColumns(p.qkv, sourceStride: fused, column: qWidth, width: kvWidth, into: p.newKeys)
        p.copyColumns(p.qkv, sourceStride: fused, column: qWidth + kvWidth, width: kvWidth, into: p.newValues)
        // Rotate q and k by each token's position.
        try p.rotate(queries: p.q, keys: p.newKeys)
        // o = softmax(q·kᵀ/√d + causal mask)·v, each query head reading its kv head.
        p.attend(queries: p.q, into: p.attention)
        // Back to the residual width.
        try p.linear(wo, p.attention, into: p.xb)
    }
}

/// The SwiGLU feed-forward block with one fused gate|up projection.
struct Phi3MLP: BlockSublayer {
    let gateUp: Linear, down: Linear

    var matrices: [Linear] { [gateUp, down] }

    /// Reads the normalised input from `p.xb` and leaves the block's output there.
    func callAsFunction(_ p: LayerPass) throws(TransformerError) {
        let ffn = p.feedForwardSize
        // g | u = W_gate_up·m, one row of 2·ffn per token.
        try p.linear(gateUp, p.xb, into: p.hidden)
        // silu(g) ⊙ u, row by row, into the second buffer.
        for r in 0..<p.rows {
            let row = p.hidden + r * 2 * ffn
            SwiGLU.apply(gate: row, up: row + ffn, into: p.hidden2 + r * ffn, count: ffn)
        }
        try p.linear(down, p.hidden2, into: p.xb)
    }
}

/// One Phi-3 block: the shared pre-norm residual block over this file's attention and MLP.
typealias Phi3Block = PreNormBlock<Phi3Attention, Phi3MLP>

extension PreNormBlock where Attention == Phi3Attention, MLP == Phi3MLP {
    /// Layer `layer`'s weights, each checked against the configuration's shapes.
    static func load(_ w: WeightLoader, layer l: Int, config c: ModelConfig) throws(TransformerError) -> Phi3Block {
        let d = c.hiddenSize, ffn = c.intermediateSize, eps = c.rmsNormEpsilon
        return Phi3Block(
            attentionNorm: try w.norm(.attentionNorm, layer: l, width: d, epsilon: eps),
            attention: Phi3Attention(
                wqkv: try w.linear(.fusedQKV, layer: l, outputs: c.queryWidth + 2 * c.kvWidth, inputs: d),
                wo: try w.linear(.attentionOutput, layer: l, outputs: d, inputs: c.queryWidth)),
            mlpNorm: try w.norm(.feedForwardNorm, layer: l, width: d, epsilon: eps),
            mlp: Phi3MLP(
                gateUp: try w.linear(.fusedGateUp, layer: l, outputs: 2 * ffn, inputs: d),
                down: try w.linear(.down, layer: l, outputs: d, inputs: ffn)))
    }
}
