import Tensor

// Llama (1, 2, 3, 3.1), TinyLlama, SmolLM2 — and Mistral, which is the same network with an
// optional sliding attention window (handled by the shared attention, from the configuration).
//
// One block, in the notation of the Llama paper and transformers' modeling_llama.py:
//
//     h   = x + W_o · Attention(RoPE(W_q·n), RoPE(W_k·n), W_v·n),   n = RMSNorm(x)
//     out = h + W_down · (silu(W_gate·m) ⊙ W_up·m),                  m = RMSNorm(h)

/// Llama as its checkpoints name it.
enum Llama: ArchitectureDefinition {
    static let name = "llama"
    /// Mistral GGUF files say `llama` too.
    static let ggufNames = ["llama"]
    /// llama.cpp's converter permutes Q and K's rows for `llama`, so its files rotate adjacent pairs.
    static let ggufRopeConvention = ModelConfig.RopeConvention.adjacentPairs
    static let huggingFaceNames = ["LlamaForCausalLM", "llama"]
    static let fusesProjections = false
    static let llamaCppScalesQueriesFirst = false
    static let endOfTurnTexts: [String] = []

    static func loadBlock(_ w: WeightLoader, layer: Int, config: ModelConfig) throws(TransformerError) -> any DecoderBlock {
        try LlamaBlock.load(w, layer: layer, config: config)
    }
}

/// Hugging Face's `MistralForCausalLM`: Llama's block, with the sliding window its configuration
/// may set. (Its GGUF files are `llama` ones.)
enum Mistral: ArchitectureDefinition {
    static let name = "mistral"
    static let ggufNames: [String] = []
    static let ggufRopeConvention = ModelConfig.RopeConvention.adjacentPairs
    static let huggingFaceNames = ["MistralForCausalLM", "mistral"]
    static let fusesProjections = false
    static let llamaCppScalesQueriesFirst = false
    static let endOfTurnTexts: [String] = []

    static func loadBlock(_ w: WeightLoader, layer: Int, config: ModelConfig) throws(TransformerError) -> any DecoderBlock {
        try LlamaBlock.load(w, layer: layer, config: config)
    }
}

extension ModelConfig.Architecture {
    /// Llama 1–3, TinyLlama, SmolLM2, and Mistral as GGUF stores it.
    public static let llama = Self(Llama.self)
    /// Hugging Face `MistralForCausalLM`: Llama with an optional sliding attention window.
    public static let mistral = Self(Mistral.self)
}

/// Self-attention with separate q, k and v projections.
struct LlamaAttention: BlockSublayer {
    let wq: Linear, wk: Linear, wv: Linear, wo: Linear

    var matrices: [Linear] { [wq, wk, wv, wo] }

    /// Reads the normalised input from `p.xb` and leaves W_o·attention there.
    func callAsFunction(_ p: LayerPass) throws(TransformerError) {
        // q = W_q·n; this batch's k = W_k·n and v = W_v·n go straight into the KV cache.
        try p.linear(p.xb, wq, into: p.q, wk, into: p.newKeys, wv, into: p.newValues)
        // Rotate q and k by each token's position.
        try p.rotate(queries: p.q, keys: p.newKeys)
        // o = softmax(q·kᵀ/√d + causal mask)·v, each query head reading its kv head.
        p.attend(queries: p.q, into: p.attention)
        // Back to the residual width.
        try p.linear(wo, p.attention, into: p.xb)
    }
}

/// The SwiGLU feed-forward block with separate gate and up projections.
struct LlamaMLP: BlockSublayer {
    let gate: Linear, up: Linear, down: Linear

    var matrices: [Linear] { [gate, up, down] }

    /// Reads the normalised input from `p.xb` and leaves the block's output there.
    func callAsFunction(_ p: LayerPass) throws(TransformerError) {
        try p.linear(p.xb, gate, into: p.hidden, up, into: p.hidden2)
        // silu(gate) ⊙ up, in place in the gate buffer.
        SwiGLU.apply(gate: p.hidden, up: p.hidden2, into: p.hidden, count: p.rows * p.feedForwardSize,
                     runner: p.state.runner)
        try p.linear(down, p.hidden, into: p.xb)
    }
}

/// One Llama block: the shared pre-norm residual block over this file's attention and MLP.
typealias LlamaBlock = PreNormBlock<LlamaAttention, LlamaMLP>

extension PreNormBlock where Attention == LlamaAttention, MLP == LlamaMLP {
    /// Layer `layer`'s weights, each checked against the configuration's shapes.
    static func load(_ w: WeightLoader, layer l: Int, config c: ModelConfig) throws(TransformerError) -> LlamaBlock {
        let d = c.hiddenSize, ffn = c.intermediateSize, eps = c.rmsNormEpsilon
        return LlamaBlock(
            attentionNorm: try w.norm(.attentionNorm, layer: l, width: d, epsilon: eps),
            attention: LlamaAttention(
                wq: try w.linear(.query, layer: l, outputs: c.queryWidth, inputs: d),
                wk: try w.linear(.key, layer: l, outputs: c.kvWidth, inputs: d),
                wv: try w.linear(.value, layer: l, outputs: c.kvWidth, inputs: d),
                wo: try w.linear(.attentionOutput, layer: l, outputs: d, inputs: c.queryWidth)),
            mlpNorm: try w.norm(.feedForwardNorm, layer: l, width: d, epsilon: eps),
            mlp: LlamaMLP(
                gate: try w.linear(.gate, layer: l, outputs: ffn, inputs: d),
                up: try w.linear(.up, layer: l, outputs: ffn, inputs: d),
                down: try w.linear(.down, layer: l, outputs: d, inputs: ffn)))
    }
}
