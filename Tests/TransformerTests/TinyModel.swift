import Foundation
import ModelFormats
import Tensor
@testable import Transformer

/// A deterministic random source (SplitMix64), so tiny models are the same on every run.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [−scale, scale).
    mutating func float(_ scale: Float) -> Float {
        Float(next() >> 40) / Float(1 << 24) * 2 * scale - scale
    }
}

/// A tiny random-weight Llama-shaped model in Hugging Face layout: each weight as Floats under
/// its transformers name, plus helpers that turn it into the other layouts Sparrow reads.
struct TinyModel {
    var config: ModelConfig
    /// Row-major Floats by Hugging Face name.
    var weights: [String: (shape: [Int], values: [Float])] = [:]

    static func config(
        architecture: ModelConfig.Architecture = .llama, layers: Int = 2, hidden: Int = 32, ffn: Int = 48,
        heads: Int = 4, kvHeads: Int = 2, vocab: Int = 40, context: Int = 64, window: Int? = nil,
        tied: Bool = false, theta: Float = 10000
    ) -> ModelConfig {
        ModelConfig(architecture: architecture, hiddenSize: hidden, intermediateSize: ffn, layerCount: layers,
                    headCount: heads, kvHeadCount: kvHeads, vocabularySize: vocab, contextLength: context,
                    rmsNormEpsilon: 1e-5, ropeTheta: theta, ropeConvention: .halfSplit, slidingWindow: window,
                    tieWordEmbeddings: tied)
    }

    /// Random weights for `config` (a Llama or Mistral configuration), seeded.
    init(_ config: ModelConfig, seed: UInt64 = 1) {
        self.config = config
        var rng = SplitMix64(state: seed)
        let c = config, d = c.hiddenSize
        func matrix(_ name: String, _ rows: Int, _ cols: Int, scale: Float = 0.2) {
            weights[name] = ([rows, cols], (0..<rows * cols).map { _ in rng.float(scale) })
        }
        func norm(_ name: String) {
            weights[name] = ([d], (0..<d).map { _ in 1 + rng.float(0.2) })
        }
        matrix("model.embed_tokens.weight", c.vocabularySize, d, scale: 1)
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            norm(p + "input_layernorm.weight")
            matrix(p + "self_attn.q_proj.weight", c.queryWidth, d)
            matrix(p + "self_attn.k_proj.weight", c.kvWidth, d)
            matrix(p + "self_attn.v_proj.weight", c.kvWidth, d)
            matrix(p + "self_attn.o_proj.weight", d, c.queryWidth)
            norm(p + "post_attention_layernorm.weight")
            matrix(p + "mlp.gate_proj.weight", c.intermediateSize, d)
            matrix(p + "mlp.up_proj.weight", c.intermediateSize, d)
            matrix(p + "mlp.down_proj.weight", d, c.intermediateSize)
        }
        norm("model.norm.weight")
        if !c.tieWordEmbeddings { matrix("lm_head.weight", c.vocabularySize, d) }
    }

    func values(_ name: String) -> [Float] { weights[name]?.values ?? [] }

    /// The weights as F32 tensors under their Hugging Face names.
    func huggingFaceTensors() throws -> [String: Tensor] {
        try weights.mapValues { try Tensor(floats: $0.values, shape: Shape($0.shape)) }
    }

    /// The same model as a Phi-3 checkpoint: q|k|v and gate|up concatenated by rows.
    func phi3Tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, w) in weights {
            let fusedAway = ["q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"].contains { name.contains($0) }
            if !fusedAway { out[name] = try Tensor(floats: w.values, shape: Shape(w.shape)) }
        }
        let c = config
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            let qkv = values(p + "self_attn.q_proj.weight") + values(p + "self_attn.k_proj.weight")
                + values(p + "self_attn.v_proj.weight")
            out[p + "self_attn.qkv_proj.weight"] = try Tensor(
                floats: qkv, shape: Shape([c.queryWidth + 2 * c.kvWidth, c.hiddenSize]))
            let gateUp = values(p + "mlp.gate_proj.weight") + values(p + "mlp.up_proj.weight")
            out[p + "mlp.gate_up_proj.weight"] = try Tensor(
                floats: gateUp, shape: Shape([2 * c.intermediateSize, c.hiddenSize]))
        }
        return out
    }

    /// The weights under llama.cpp's names, with Q and K's rows permuted as its converter does
    /// (so they rotate adjacent pairs), as (name, shape, values).
    func ggufWeights() -> [(name: String, shape: [Int], values: [Float])] {
        let c = config
        var out: [(String, [Int], [Float])] = []
        func add(_ gguf: String, _ hf: String, permuteHeads: Int? = nil) {
            guard let w = weights[hf] else { return }
            var v = w.values
            if let heads = permuteHeads { v = Self.permuteForGGUF(v, heads: heads, cols: w.shape[1]) }
            out.append((gguf, w.shape, v))
        }
        add("token_embd.weight", "model.embed_tokens.weight")
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l).", b = "blk.\(l)."
            add(b + "attn_norm.weight", p + "input_layernorm.weight")
            add(b + "attn_q.weight", p + "self_attn.q_proj.weight", permuteHeads: c.headCount)
            add(b + "attn_k.weight", p + "self_attn.k_proj.weight", permuteHeads: c.kvHeadCount)
            add(b + "attn_v.weight", p + "self_attn.v_proj.weight")
            add(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            add(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            add(b + "ffn_gate.weight", p + "mlp.gate_proj.weight")
            add(b + "ffn_up.weight", p + "mlp.up_proj.weight")
            add(b + "ffn_down.weight", p + "mlp.down_proj.weight")
        }
        add("output_norm.weight", "model.norm.weight")
        add("output.weight", "lm_head.weight")
        return out
    }

    /// llama.cpp's `permute`: within each head, row s·(d/2) + i moves to 2i + s.
    static func permuteForGGUF(_ w: [Float], heads: Int, cols: Int) -> [Float] {
        let rows = w.count / cols, d = rows / heads, half = d / 2
        var out = w
        for h in 0..<heads {
            for s in 0..<2 {
                for i in 0..<half {
                    let from = (h * d + s * half + i) * cols, to = (h * d + 2 * i + s) * cols
                    for j in 0..<cols { out[to + j] = w[from + j] }
                }
            }
        }
        return out
    }

    func ggufTensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for w in ggufWeights() { out[w.name] = try Tensor(floats: w.values, shape: Shape(w.shape)) }
        return out
    }

    /// A loaded model from the Hugging Face layout.
    func model(options: ModelOptions = .init()) throws -> TransformerModel {
        try TransformerModel(config: config, source: huggingFaceTensors(), naming: .huggingFace, options: options)
    }
}

/// The largest |a[i] − b[i]| over two equally long vectors (infinity when the lengths differ).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, maxAbsDifference($1.0, $1.1)) }
}

func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] } ?? -1 }
