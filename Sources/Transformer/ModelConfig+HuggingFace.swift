import Foundation

extension ModelConfig {
    /// The hyper-parameters of a Hugging Face checkpoint, from the bytes of its `config.json`.
    ///
    /// Reads `LlamaForCausalLM`, `MistralForCausalLM` and `Phi3ForCausalLM` configurations (by
    /// `architectures[0]`, else `model_type`), with transformers' defaults for absent keys. Rope
    /// settings are read from `rope_theta` + `rope_scaling` (transformers 4) or `rope_parameters`
    /// (transformers 5). Hugging Face checkpoints rotate half-split pairs.
    /// - Parameter path: used only in error messages.
    /// - Throws: ``TransformerError`` naming the missing or bad key.
    public init(huggingFaceConfig data: Data, path: String = "config.json") throws(TransformerError) {
        let raw: HuggingFaceConfig
        do {
            raw = try JSONDecoder().decode(HuggingFaceConfig.self, from: data)
        } catch let error as DecodingError {
            throw .invalidConfigFile(path: path, reason: Self.describe(error))
        } catch {
            throw .invalidConfigFile(path: path, reason: "\(error)")
        }
        try self.init(raw)
        try validate()
    }

    /// Reads `config.json` in `directory`.
    public init(huggingFaceDirectory directory: String) throws(TransformerError) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .invalidConfigFile(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(huggingFaceConfig: data, path: path)
    }

    private init(_ c: HuggingFaceConfig) throws(TransformerError) {
        let name = c.architectures?.first ?? c.model_type ?? ""
        guard let definition = Architecture.huggingFace(name) else {
            throw .unsupportedArchitecture(name.isEmpty ? "(no architectures or model_type)" : name)
        }
        let architecture = Architecture(definition)
        func require<T>(_ value: T?, _ key: String) throws(TransformerError) -> T {
            guard let value else { throw .missingConfigValue(key: key) }
            return value
        }
        if let act = c.hidden_act, act != "silu" {
            throw .unsupportedFeature("hidden_act \"\(act)\" (only silu)")
        }
        if c.attention_bias == true { throw .unsupportedFeature("attention_bias") }
        if c.mlp_bias == true { throw .unsupportedFeature("mlp_bias") }

        let hidden = try require(c.hidden_size, "hidden_size")
        let heads = try require(c.num_attention_heads, "num_attention_heads")
        let headDim = c.head_dim ?? (heads > 0 ? hidden / heads : 0)
        var ropeDims = headDim
        if let partial = c.partial_rotary_factor ?? c.rope_parameters?.partial_rotary_factor {
            ropeDims = Int(Double(headDim) * partial)
        }
        // transformers 5 moved rope_theta and the scaling into rope_parameters.
        let rope = c.rope_parameters ?? c.rope_scaling
        let theta = c.rope_theta ?? c.rope_parameters?.rope_theta ?? 10000
        // Mistral's own config may carry "use_sliding_window": false (as Qwen2's does).
        let window = c.use_sliding_window == false ? nil : c.sliding_window

        self.init(
            architecture: architecture,
            hiddenSize: hidden,
            intermediateSize: try require(c.intermediate_size, "intermediate_size"),
            layerCount: try require(c.num_hidden_layers, "num_hidden_layers"),
            headCount: heads,
            kvHeadCount: c.num_key_value_heads ?? heads,
            headDimension: headDim,
            vocabularySize: try require(c.vocab_size, "vocab_size"),
            contextLength: try require(c.max_position_embeddings, "max_position_embeddings"),
            rmsNormEpsilon: Float(c.rms_norm_eps ?? 1e-6),
            ropeTheta: Float(theta),
            ropeDimensions: ropeDims,
            ropeScaling: try rope?.scaling(),
            ropeConvention: .halfSplit,
            slidingWindow: window,
            tieWordEmbeddings: c.tie_word_embeddings ?? false
        )
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c):
            return "\"\(path(c))\" has the wrong JSON type: \(c.debugDescription)"
        case let .keyNotFound(key, c):
            return "\"\(path(c)).\(key.stringValue)\" is missing"
        case let .dataCorrupted(c):
            return "not valid JSON\(c.codingPath.isEmpty ? "" : " at \"\(path(c))\""): \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The keys of a Hugging Face `config.json` that Sparrow reads, spelt as in the file. Every key
/// is optional here; ``ModelConfig`` decides which are required.
private struct HuggingFaceConfig: Decodable {
    var architectures: [String]?
    var model_type: String?
    var hidden_size: Int?
    var intermediate_size: Int?
    var num_hidden_layers: Int?
    var num_attention_heads: Int?
    var num_key_value_heads: Int?
    var head_dim: Int?
    var vocab_size: Int?
    var max_position_embeddings: Int?
    var rms_norm_eps: Double?
    var rope_theta: Double?
    var rope_scaling: RopeSettings?
    var rope_parameters: RopeSettings?
    var partial_rotary_factor: Double?
    var sliding_window: Int?
    var use_sliding_window: Bool?
    var tie_word_embeddings: Bool?
    var attention_bias: Bool?
    var mlp_bias: Bool?
    var hidden_act: String?

    /// `rope_scaling` (transformers 4) or `rope_parameters` (transformers 5).
    struct RopeSettings: Decodable {
        var rope_type: String?
        var type: String?
        var rope_theta: Double?
        var partial_rotary_factor: Double?
        var factor: Double?
        var low_freq_factor: Double?
        var high_freq_factor: Double?
        var original_max_position_embeddings: Int?

        func scaling() throws(TransformerError) -> ModelConfig.RopeScaling? {
            let kind = rope_type ?? type ?? "default"
            func need(_ v: Double?, _ key: String) throws(TransformerError) -> Float {
                guard let v else { throw .missingConfigValue(key: "rope_scaling.\(key)") }
                return Float(v)
            }
            switch kind {
            case "default":
                return nil
            case "linear":
                return .linear(factor: try need(factor, "factor"))
            case "llama3":
                guard let original = original_max_position_embeddings else {
                    throw .missingConfigValue(key: "rope_scaling.original_max_position_embeddings")
                }
                return .llama3(factor: try need(factor, "factor"),
                               lowFrequencyFactor: try need(low_freq_factor, "low_freq_factor"),
                               highFrequencyFactor: try need(high_freq_factor, "high_freq_factor"),
                               originalContextLength: original)
            default:
                throw .unsupportedFeature("rope scaling type \"\(kind)\"")
            }
        }
    }
}
