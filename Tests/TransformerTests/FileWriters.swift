import Foundation
import ModelFormats

/// Writes small GGUF v3 files for loader tests: F32 tensors from Floats, and tensors of any type
/// from their stored bytes.
struct GGUFWriter {
    enum Value {
        case u32(UInt32), f32(Float), string(String), strings([String])
    }
    var metadata: [(String, Value)] = []
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    /// Tensors given as stored bytes with their ggml type id, written after `tensors`.
    var storedTensors: [(name: String, shape: [Int], type: UInt32, bytes: [UInt8])] = []

    func data() -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        d.append(contentsOf: Array("GGUF".utf8))
        u32(3)
        u64(UInt64(tensors.count + storedTensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case let .u32(v): u32(4); u32(v)
            case let .f32(v): u32(6); u32(v.bitPattern)
            case let .string(s): u32(8); string(s)
            case let .strings(a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(string)
            }
        }
        var offset = 0
        for t in tensors {
            string(t.name)
            u32(UInt32(t.shape.count))
            // GGUF lists dimensions fastest-varying first: the reverse of row-major.
            for dim in t.shape.reversed() { u64(UInt64(dim)) }
            u32(0)  // F32
            u64(UInt64(offset))
            offset += (t.values.count * 4 + 31) / 32 * 32
        }
        for t in storedTensors {
            string(t.name)
            u32(UInt32(t.shape.count))
            for dim in t.shape.reversed() { u64(UInt64(dim)) }
            u32(t.type)
            u64(UInt64(offset))
            offset += (t.bytes.count + 31) / 32 * 32
        }
        while d.count % 32 != 0 { d.append(0) }
        for t in tensors {
            for v in t.values { u32(v.bitPattern) }
            while d.count % 32 != 0 { d.append(0) }
        }
        for t in storedTensors {
            d.append(contentsOf: t.bytes)
            while d.count % 32 != 0 { d.append(0) }
        }
        return d
    }

    /// Writes the file to a fresh temporary path and returns it.
    func write() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-tf-\(UUID().uuidString).gguf")
        try data().write(to: url)
        return url.path
    }

    /// llama.cpp's metadata for a llama-architecture model of `tiny`'s shape.
    static func llama(_ tiny: TinyModel) -> GGUFWriter {
        let c = tiny.config
        var w = GGUFWriter()
        w.metadata = [
            ("general.architecture", .string("llama")),
            ("llama.context_length", .u32(UInt32(c.contextLength))),
            ("llama.embedding_length", .u32(UInt32(c.hiddenSize))),
            ("llama.feed_forward_length", .u32(UInt32(c.intermediateSize))),
            ("llama.block_count", .u32(UInt32(c.layerCount))),
            ("llama.attention.head_count", .u32(UInt32(c.headCount))),
            ("llama.attention.head_count_kv", .u32(UInt32(c.kvHeadCount))),
            ("llama.attention.layer_norm_rms_epsilon", .f32(c.rmsNormEpsilon)),
            ("llama.rope.freq_base", .f32(c.ropeTheta)),
            ("llama.rope.dimension_count", .u32(UInt32(c.ropeDimensions))),
            ("tokenizer.ggml.tokens", .strings((0..<c.vocabularySize).map { "t\($0)" })),
        ]
        w.tensors = tiny.ggufWeights()
        return w
    }
}

/// Writes a Hugging Face checkpoint directory: config.json and one model.safetensors (F32).
struct HuggingFaceWriter {
    var config: [String: Any]
    var tensors: [(name: String, shape: [Int], values: [Float])]
    /// dtype overrides by tensor name (the bytes stay 4-byte Floats, e.g. "I32").
    var dtypes: [String: String] = [:]

    func write() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-tf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        var header: [String: Any] = [:]
        var body = Data()
        for t in tensors {
            let begin = body.count
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
            header[t.name] = ["dtype": dtypes[t.name] ?? "F32", "shape": t.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        try Self.safetensors(header: header, body: body).write(to: dir.appendingPathComponent("model.safetensors"))
        return dir.path
    }

    /// A safetensors file: the header's length, the header as JSON padded to 8 bytes, the data.
    static func safetensors(header: [String: Any], body: Data) throws -> Data {
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        return file
    }

    /// transformers' config.json (transformers 4 keys) and weights for `tiny`.
    static func llama(_ tiny: TinyModel) -> HuggingFaceWriter {
        let c = tiny.config
        var config: [String: Any] = [
            "architectures": [c.architecture == .mistral ? "MistralForCausalLM" : "LlamaForCausalLM"],
            "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
            "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount,
            "num_key_value_heads": c.kvHeadCount, "vocab_size": c.vocabularySize,
            "max_position_embeddings": c.contextLength, "rms_norm_eps": Double(c.rmsNormEpsilon),
            "rope_theta": Double(c.ropeTheta), "tie_word_embeddings": c.tieWordEmbeddings, "hidden_act": "silu",
        ]
        if let w = c.slidingWindow { config["sliding_window"] = w }
        let tensors = tiny.weights.map { (name: $0.key, shape: $0.value.shape, values: $0.value.values) }
        return HuggingFaceWriter(config: config, tensors: tensors)
    }
}
