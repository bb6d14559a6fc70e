import Foundation
import Testing
@testable import Transformer

/// Reading `config.json` (transformers 4 and 5 spellings), validation, and the rope scalings.
@Suite("Transformer model configuration")
struct ModelConfigTests {
    func parse(_ json: String) throws(TransformerError) -> ModelConfig {
        try ModelConfig(huggingFaceConfig: Data(json.utf8))
    }

    @Test("transformers 5: rope_parameters carries θ; Phi-3 with partial_rotary_factor")
    func transformers5Phi3() throws {
        let c = try parse("""
            {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 64,
             "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 128,
             "rms_norm_eps": 1e-05, "tie_word_embeddings": true, "sliding_window": null,
             "partial_rotary_factor": 0.5,
             "rope_parameters": {"rope_type": "default", "rope_theta": 250000.0, "partial_rotary_factor": 0.5}}
            """)
        #expect(c.architecture == .phi3)
        #expect(c.headDimension == 16)
        #expect(c.ropeDimensions == 8)
        #expect(c.ropeTheta == 250000)
        #expect(c.ropeScaling == nil)
        #expect(c.slidingWindow == nil)
        #expect(c.tieWordEmbeddings)
        #expect(c.ropeConvention == .halfSplit)
    }

    @Test("transformers 4: Llama 3.1 with llama3 rope scaling and an explicit head_dim")
    func llama31() throws {
        let c = try parse("""
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
             "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
             "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
             "rope_theta": 500000.0, "hidden_act": "silu",
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """)
        #expect(c.kvHeadCount == 8)
        #expect(c.kvWidth == 1024)
        #expect(c.tieWordEmbeddings == false)
        #expect(c.ropeScaling == .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4,
                                         originalContextLength: 8192))
        // Short wavelengths keep their frequency, long ones are divided by the factor.
        let base = (0..<64).map { 1 / powf(500000, Float(2 * $0) / 128) }
        let scaled = Rotary.scaled(base, by: c.ropeScaling)
        #expect(scaled[0] == base[0])
        #expect(scaled[63] == base[63] / 8)
        #expect(zip(base, scaled).allSatisfy { $1 <= $0 && $1 >= $0 / 8 })
    }

    @Test("Mistral's sliding_window is kept; the ModelConfig round-trips through JSON")
    func mistral() throws {
        let c = try parse("""
            {"architectures": ["MistralForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
             "vocab_size": 320, "max_position_embeddings": 128, "rms_norm_eps": 1e-05, "sliding_window": 8,
             "rope_theta": 10000.0}
            """)
        #expect(c.architecture == .mistral)
        #expect(c.slidingWindow == 8)
        let again = try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(c))
        #expect(again == c)
    }

    @Test("Missing, inconsistent and unsupported settings give typed errors")
    func errors() {
        let base = """
            "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "vocab_size": 100,
            "max_position_embeddings": 128
            """
        #expect(throws: TransformerError.missingConfigValue(key: "num_attention_heads")) {
            try parse(#"{"architectures": ["LlamaForCausalLM"], \#(base)}"#)
        }
        #expect(throws: TransformerError.invalidConfig(key: "kvHeadCount", value: "3", reason: "must divide headCount (4)")) {
            try parse(#"{"architectures": ["LlamaForCausalLM"], "num_attention_heads": 4, "num_key_value_heads": 3, \#(base)}"#)
        }
        #expect(throws: TransformerError.unsupportedFeature("rope scaling type \"yarn\"")) {
            try parse(#"{"architectures": ["LlamaForCausalLM"], "num_attention_heads": 4, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}, \#(base)}"#)
        }
        #expect(throws: TransformerError.unsupportedArchitecture("GPT2LMHeadModel")) {
            try parse(#"{"architectures": ["GPT2LMHeadModel"], \#(base)}"#)
        }
        #expect(throws: TransformerError.self) {
            try parse(#"{"architectures": ["LlamaForCausalLM"], "num_attention_heads": "four", \#(base)}"#)
        }
        #expect(throws: TransformerError.self) { try parse("{not json") }
        #expect(throws: TransformerError.invalidConfig(key: "hiddenSize", value: "0", reason: "must be positive")) {
            try TinyModel.config(hidden: 0).validate()
        }
    }
}
