import ModelFormats
import Tensor

/// Where a model's tensors come from, by the name the checkpoint gives them.
///
/// Sparrow's loaders read GGUF files (``GGUFTensors``) and safetensors checkpoints
/// (``SafetensorsTensors``); a `[String: Tensor]` dictionary is a source too, which is how tests
/// build tiny models in memory.
package protocol TensorSource {
    /// The tensor `name`, or `nil` when the source has no tensor of that name.
    /// - Throws: when the tensor exists but cannot be read as a ``Tensor``.
    func weight(named name: String) throws(TransformerError) -> Tensor?
}

/// The tensors of a GGUF file, as zero-copy views of its mapping.
package struct GGUFTensors: TensorSource {
    /// The mapped file.
    package let file: GGUFFile
    /// The tensors of `file`.
    package init(_ file: GGUFFile) { self.file = file }

    package func weight(named name: String) throws(TransformerError) -> Tensor? {
        guard let info = file.info(named: name) else { return nil }
        do { return try file.tensor(info) } catch { throw .gguf(error) }
    }
}

/// The tensors of a safetensors checkpoint (one file or shards), as zero-copy views.
package struct SafetensorsTensors: TensorSource {
    /// The opened checkpoint.
    package let checkpoint: SafetensorsCheckpoint
    /// The tensors of `checkpoint`.
    package init(_ checkpoint: SafetensorsCheckpoint) { self.checkpoint = checkpoint }

    package func weight(named name: String) throws(TransformerError) -> Tensor? {
        guard checkpoint.contains(name) else { return nil }
        do {
            return try checkpoint.tensor(name)
        } catch let .notAFloatTensor(_, tensor, dtype) {
            throw .unsupportedTensorType(tensor: tensor, type: "\(dtype)")
        } catch {
            throw .safetensors(error)
        }
    }
}

extension Dictionary: TensorSource where Key == String, Value == Tensor {
    package func weight(named name: String) throws(TransformerError) -> Tensor? { self[name] }
}

/// How a checkpoint names each weight.
package enum WeightNaming: Sendable {
    /// llama.cpp's names: `token_embd.weight`, `blk.N.attn_q.weight`, ...
    case gguf
    /// Hugging Face transformers' names: `model.embed_tokens.weight`,
    /// `model.layers.N.self_attn.q_proj.weight`, ...
    case huggingFace

    /// The role a tensor plays in the network.
    package enum Role: Sendable, CaseIterable {
        case tokenEmbedding, finalNorm, output
        case attentionNorm, query, key, value, attentionOutput, fusedQKV
        case feedForwardNorm, gate, up, down, fusedGateUp
    }

    /// The name of the tensor playing `role` (in layer `layer`, for per-layer roles).
    package func name(_ role: Role, layer: Int = 0) -> String {
        switch self {
        case .gguf:
            let blk = "blk.\(layer)."
            switch role {
            case .tokenEmbedding: return "token_embd.weight"
            case .finalNorm: return "output_norm.weight"
            case .output: return "output.weight"
            case .attentionNorm: return blk + "attn_norm.weight"
            case .query: return blk + "attn_q.weight"
            case .key: return blk + "attn_k.weight"
            case .value: return blk + "attn_v.weight"
            case .attentionOutput: return blk + "attn_output.weight"
            case .fusedQKV: return blk + "attn_qkv.weight"
            case .feedForwardNorm: return blk + "ffn_norm.weight"
            case .gate: return blk + "ffn_gate.weight"
            // llama.cpp keeps the name ffn_up for Phi-3's fused gate+up (gate rows first).
            case .up, .fusedGateUp: return blk + "ffn_up.weight"
            case .down: return blk + "ffn_down.weight"
            }
        case .huggingFace:
            let layerPrefix = "model.layers.\(layer)."
            switch role {
            case .tokenEmbedding: return "model.embed_tokens.weight"
            case .finalNorm: return "model.norm.weight"
            case .output: return "lm_head.weight"
            case .attentionNorm: return layerPrefix + "input_layernorm.weight"
            case .query: return layerPrefix + "self_attn.q_proj.weight"
            case .key: return layerPrefix + "self_attn.k_proj.weight"
            case .value: return layerPrefix + "self_attn.v_proj.weight"
            case .attentionOutput: return layerPrefix + "self_attn.o_proj.weight"
            case .fusedQKV: return layerPrefix + "self_attn.qkv_proj.weight"
            case .feedForwardNorm: return layerPrefix + "post_attention_layernorm.weight"
            case .gate: return layerPrefix + "mlp.gate_proj.weight"
            case .up: return layerPrefix + "mlp.up_proj.weight"
            case .fusedGateUp: return layerPrefix + "mlp.gate_up_proj.weight"
            case .down: return layerPrefix + "mlp.down_proj.weight"
            }
        }
    }
}

/// Fetches tensors by role and checks each against the shape the configuration implies, so a
/// checkpoint that does not fit its architecture is refused at load, naming the tensor.
struct WeightLoader {
    let source: any TensorSource
    let naming: WeightNaming

    /// The tensor for `role`, which must have exactly `shape` (row-major, [out, in] for matrices).
    func tensor(_ role: WeightNaming.Role, layer: Int = 0, shape: [Int]) throws(TransformerError) -> Tensor {
        let name = naming.name(role, layer: layer)
        guard let t = try source.weight(named: name) else { throw .missingTensor(name) }
        guard t.shape.dims == shape else { throw .wrongShape(tensor: name, expected: shape, actual: t.shape.dims) }
        return t
    }

    /// A weight matrix W [outputs, inputs], applied as y = W·x.
    func linear(_ role: WeightNaming.Role, layer: Int, outputs: Int, inputs: Int) throws(TransformerError) -> Linear {
        Linear(weight: try tensor(role, layer: layer, shape: [outputs, inputs]),
               name: naming.name(role, layer: layer))
    }

    /// An RMSNorm over `width` values; its weight is widened to Float once, here.
    func norm(_ role: WeightNaming.Role, layer: Int = 0, width: Int, epsilon: Float) throws(TransformerError) -> RMSNorm {
        RMSNorm(weight: try tensor(role, layer: layer, shape: [width]).toFloats(), epsilon: epsilon)
    }

    /// Refuses checkpoints carrying bias tensors: none of the supported architectures uses them,
    /// and silently dropping one would give wrong logits.
    func refuseBiases() throws(TransformerError) {
        for role in [WeightNaming.Role.query, .key, .value, .attentionOutput, .fusedQKV] {
            let name = naming.name(role, layer: 0)
            let bias = name.hasSuffix(".weight") ? String(name.dropLast(7)) + ".bias" : name + ".bias"
            if try source.weight(named: bias) != nil {
                throw .unsupportedFeature("bias tensor \"\(bias)\"")
            }
        }
    }
}
