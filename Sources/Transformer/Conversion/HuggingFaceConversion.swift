import Foundation
import JSON
import ModelFormats
import Tensor

/// A Hugging Face checkpoint directory as the GGUF file llama.cpp's `convert_hf_to_gguf.py`
/// (llama-cpp-python 0.3.36's tree, gguf-py 0.19.0) writes from it: the same metadata in the same
/// order, the same tensors under the same names, in the same order and types, with the same values.
/// Nothing is read or written here beyond `config.json`, the tokenizer's files and the safetensors
/// headers; ``ModelQuantizer`` streams the tensors' data.
///
/// ```swift
/// let conversion = try HuggingFaceConversion(directory: "TinyLlama-1.1B-Chat-v1.0", type: .f16)
/// print(conversion.architecture, conversion.tensors.map(\.plan.name))
/// try ModelQuantizer(type: .f16).quantize(input: "TinyLlama-1.1B-Chat-v1.0", output: "tinyllama-f16.gguf")
/// ```
///
/// What it follows of the converter:
/// - **Architectures**: `LlamaForCausalLM` and `MistralForCausalLM` become `llama` (the rows of
///   `q_proj` and `k_proj` permuted per head, `LlamaModel.permute`, so that GGUF's adjacent-pair RoPE
///   gives the checkpoint's half-split one); `Phi3ForCausalLM` becomes `phi3`, whose fused
///   `qkv_proj` and `gate_up_proj` are kept fused as `attn_qkv` and `ffn_up` (gate rows first), not
///   permuted. Others are ``ModelQuantizationError/unsupportedArchitecture(_:)``.
/// - **Tensors**: every tensor of the safetensors shards, shard by shard in name order, each shard's
///   tensors in name order; names mapped as gguf-py's `tensor_mapping` does; rotary `inv_freq`
///   buffers dropped; a name without a mapping is ``ModelQuantizationError/unmappedTensor(_:)``.
///   One-dimensional tensors and norms are F32, other weights the file's type. Llama 3.1's
///   `rope_type: "llama3"` adds `rope_freqs.weight` first, as the converter generates it.
/// - **Metadata**: `general.*` (type, name from the directory's name, size label, sampling defaults
///   from `generation_config.json`), the architecture's hyperparameters, RoPE base and scaling,
///   context length, `general.file_type`, `general.quantization_version`, then the tokenizer.
/// - **Tokenizer**: for SentencePiece checkpoints (Llama 2, Mistral, Phi-3) pieces, scores and
///   types from `tokenizer.model`; added tokens from `added_tokens.json`, `tokenizer_config.json`'s
///   `added_tokens_decoder` (and for Phi-3 `tokenizer.json`'s `added_tokens`). For byte-level BPE
///   (`tokenizer.json` without `tokenizer.model`: Llama 3, SmolLM2) tokens, types and merges from
///   `tokenizer.json`, and the pre-tokenizer's name from the hash of a test text's tokenization, as
///   the converter finds it (`HuggingFaceVocabulary.addByteLevel`). Both: special ids,
///   `add_bos`/`add_eos`/`add_sep`, the chat template and normalizer flags from `tokenizer.json`,
///   `tokenizer_config.json`, `chat_template.jinja`/`chat_template.json` and `config.json`, as
///   gguf-py's `SpecialVocab` reads them.
///
/// Where it deliberately stops short: `general.*` authorship keys beyond the name and size label
/// (basename, finetune, license, … from a model card) are not written; they do not change how
/// llama.cpp or Sparrow run the file.
public struct HuggingFaceConversion: Sendable {
    /// One tensor of the converted file.
    public struct ConvertedTensor: Sendable, Equatable {
        /// Its GGUF name, type and shape (row-major, as in the checkpoint).
        public let plan: GGUFTensorPlan
        /// The checkpoint tensor it comes from; nil for a tensor the converter generates.
        public let sourceName: String?
        /// The checkpoint tensor's element type.
        public let sourceType: ElementType
        /// For llama Q and K: the head count of `LlamaModel.permute`, whose rows it reorders.
        public let permutedHeads: Int?
        /// A generated tensor's values (`rope_freqs.weight`).
        public let generated: [Float]?
    }

    /// The checkpoint's directory.
    public let directory: String
    /// The GGUF architecture: `llama` or `phi3`.
    public let architecture: String
    /// The type of the file's weights: F32, F16 or BF16 (the converter's `--outtype`).
    public let fileType: ElementType
    /// The metadata, in the converter's order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// The tensors, in the converter's order.
    public let tensors: [ConvertedTensor]
    /// The opened weights.
    let checkpoint: SafetensorsCheckpoint

    /// Reads the checkpoint in `directory` and plans its GGUF file.
    ///
    /// - Parameter type: F32, F16 or BF16; nil takes the converter's `auto`: BF16 when the first
    ///   matrix of the checkpoint is BF16, else F16.
    /// - Throws: ``ModelQuantizationError``: an unsupported architecture, missing or invalid files
    ///   (config, tokenizer, weights), tensors missing, unmapped, of a dtype other than F32/F16/BF16
    ///   or of a shape `config.json` does not imply.
    public init(directory: String, type: ElementType? = nil) throws(ModelQuantizationError) {
        if let type, ![.f32, .f16, .bf16].contains(type) {
            throw .unsupportedInput(path: directory, reason: "a Hugging Face checkpoint converts to F32, F16 or BF16, not \(type)")
        }
        self.directory = directory
        func path(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }

        // config.json: the raw values for the metadata, and ModelConfig's reading for the shapes.
        let configPath = path("config.json")
        guard let config = try JSONValue.file(configPath) else { throw .missingFile(path: configPath) }
        guard config.members != nil else { throw .invalidFile(path: configPath, reason: "not a JSON object") }
        let hfArchitecture = config["architectures"]?.array?.first?.string
        let architecture: String
        switch hfArchitecture {
        case "LlamaForCausalLM", "MistralForCausalLM": architecture = "llama"
        case "Phi3ForCausalLM": architecture = "phi3"
        default: throw .unsupportedArchitecture(hfArchitecture ?? "(config.json has no architectures)")
        }
        self.architecture = architecture
        let model: ModelConfig
        do { model = try ModelConfig(huggingFaceDirectory: directory) } catch {
            if case let .unsupportedArchitecture(name) = error { throw .unsupportedArchitecture(name) }
            throw .config(error)
        }
        // The converter writes Phi-3's RoPE factors only for long-context ("longrope") scaling,
        // which Sparrow does not run, and refuses every other scaling type for Phi-3.
        if architecture == "phi3", model.ropeScaling != nil {
            throw .unsupportedInput(path: configPath, reason: "Phi-3 with RoPE scaling is not converted")
        }

        // The weights and their GGUF names, in the converter's order.
        let checkpoint: SafetensorsCheckpoint
        do { checkpoint = try SafetensorsCheckpoint(path: directory) } catch { throw .safetensors(error) }
        self.checkpoint = checkpoint
        let sources = Self.orderedTensors(checkpoint)

        let fileType = type ?? Self.autoType(sources)
        self.fileType = fileType

        var tensors: [ConvertedTensor] = []
        if let divisors = try Self.llama3Factors(config: config, model: model, architecture: architecture) {
            tensors.append(ConvertedTensor(
                plan: GGUFTensorPlan(name: "rope_freqs.weight", type: .f32, shape: Shape([divisors.count])),
                sourceName: nil, sourceType: .f32, permutedHeads: nil, generated: divisors))
        }
        let expected = Self.expectedShapes(model, architecture: architecture)
        for info in sources {
            let name = info.name
            if name.hasSuffix(".attention.masked_bias") || name.hasSuffix(".attention.bias")
                || name.hasSuffix(".rotary_emb.inv_freq")
            {
                continue
            }
            guard let ggufName = Self.ggufName(name, architecture: architecture, layers: model.layerCount) else {
                throw .unmappedTensor(name)
            }
            guard let sourceType = info.dtype.elementType else {
                throw .unsupportedTensorType(tensor: name, dtype: info.dtype.rawValue)
            }
            if let shape = expected[ggufName], shape != info.shape.dims {
                throw .tensorShape(tensor: name, expected: shape, actual: info.shape.dims)
            }
            let isMatrix = info.shape.rank >= 2 && !ggufName.hasSuffix("_norm.weight") && ggufName.hasSuffix(".weight")
            var permutedHeads: Int?
            if architecture == "llama" {
                if name.hasSuffix("q_proj.weight") { permutedHeads = model.headCount }
                if name.hasSuffix("k_proj.weight") { permutedHeads = model.kvHeadCount }
            }
            tensors.append(ConvertedTensor(
                plan: GGUFTensorPlan(name: ggufName, type: isMatrix ? fileType : .f32, shape: info.shape),
                sourceName: name, sourceType: sourceType, permutedHeads: permutedHeads, generated: nil))
        }
        let present = Set(tensors.map(\.plan.name))
        for name in expected.keys.sorted() where !present.contains(name) && Self.isRequired(name, model: model) {
            throw .missingTensor(Self.huggingFaceName(name, architecture: architecture))
        }
        self.tensors = tensors

        var writer = MetadataBuilder(architecture: architecture)
        writer.add("general.type", .string("model"))
        try Self.addGeneral(&writer, directory: directory, config: config, tensors: tensors, generationConfig: path("generation_config.json"))
        Self.addHyperparameters(&writer, config: config, model: model, architecture: architecture, fileType: fileType)
        writer.add("general.quantization_version", .uint32(2))
        try HuggingFaceVocabulary.add(to: &writer, directory: directory, config: config, architecture: architecture)
        self.metadata = writer.entries
    }

    /// `general.file_type` of a file of these weights (llama.cpp's `llama_ftype`).
    static func fileTypeValue(_ type: ElementType) -> UInt32 {
        switch type {
        case .f16: 1
        case .bf16: 32
        default: 0
        }
    }

    // MARK: - Tensors

    /// The checkpoint's tensors as the converter visits them: shards in name order, each shard's
    /// tensors in name order (gguf-py's `SafetensorsLocal` sorts them).
    static func orderedTensors(_ checkpoint: SafetensorsCheckpoint) -> [SafetensorsTensorInfo] {
        var out: [SafetensorsTensorInfo] = []
        let shards = checkpoint.shards.sorted {
            ($0.path as NSString).lastPathComponent.utf8.lexicographicallyPrecedes(($1.path as NSString).lastPathComponent.utf8)
        }
        for shard in shards {
            let names = shard.names.filter { checkpoint.shard(containing: $0) === shard }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            out += names.compactMap { shard.info($0) }
        }
        return out
    }

    /// `--outtype auto`: the first matrix's type if it is BF16 or F16, else F16.
    static func autoType(_ tensors: [SafetensorsTensorInfo]) -> ElementType {
        for info in tensors where info.shape.rank >= 2 {
            if info.dtype.elementType == .bf16 { return .bf16 }
            if info.dtype.elementType == .f16 { return .f16 }
        }
        return .f16
    }

    /// gguf-py's `TensorNameMap` for the names Llama, Mistral and Phi-3 checkpoints use.
    static func ggufName(_ name: String, architecture: String, layers: Int) -> String? {
        let suffixes = [".weight", ".bias"]
        guard let suffix = suffixes.first(where: { name.hasSuffix($0) }) else {
            return nil
        }
        let base = String(name.dropLast(suffix.count))
        switch base {
        case "model.embed_tokens": return "token_embd" + suffix
        case "lm_head": return "output" + suffix
        case "model.norm": return "output_norm" + suffix
        default: break
        }
        let prefix = "model.layers."
        guard base.hasPrefix(prefix) else { return nil }
        let rest = base.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0, layer < layers,
              String(layer) == rest[..<dot]
        else { return nil }
        let part = String(rest[rest.index(after: dot)...])
        var map = [
            "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
            "self_attn.o_proj": "attn_output", "mlp.down_proj": "ffn_down",
        ]
        if architecture == "phi3" {
            map["self_attn.qkv_proj"] = "attn_qkv"
            map["mlp.gate_up_proj"] = "ffn_up"
        } else {
            map["self_attn.q_proj"] = "attn_q"
            map["self_attn.k_proj"] = "attn_k"
            map["self_attn.v_proj"] = "attn_v"
            map["mlp.gate_proj"] = "ffn_gate"
            map["mlp.up_proj"] = "ffn_up"
        }
        guard let mapped = map[part] else { return nil }
        return "blk.\(layer).\(mapped)\(suffix)"
    }

    /// The checkpoint name of a GGUF name, for messages about a tensor that is missing.
    static func huggingFaceName(_ ggufName: String, architecture: String) -> String {
        for (role, gguf) in [(WeightNaming.Role.tokenEmbedding, "token_embd.weight"), (.finalNorm, "output_norm.weight"),
                             (.output, "output.weight")] where gguf == ggufName {
            return WeightNaming.huggingFace.name(role)
        }
        let parts = ggufName.split(separator: ".")
        guard parts.count == 4, let layer = Int(parts[1]) else { return ggufName }
        let roles: [String: WeightNaming.Role] = [
            "attn_norm": .attentionNorm, "ffn_norm": .feedForwardNorm, "attn_q": .query, "attn_k": .key, "attn_v": .value,
            "attn_output": .attentionOutput, "attn_qkv": .fusedQKV, "ffn_gate": .gate,
            "ffn_up": architecture == "phi3" ? .fusedGateUp : .up, "ffn_down": .down,
        ]
        guard let role = roles[String(parts[2])] else { return ggufName }
        return WeightNaming.huggingFace.name(role, layer: layer)
    }

    /// The shape `config.json` implies for each GGUF weight (row-major, the checkpoint's order).
    static func expectedShapes(_ c: ModelConfig, architecture: String) -> [String: [Int]] {
        let (hidden, q, kv, ff) = (c.hiddenSize, c.headCount * c.headDimension, c.kvHeadCount * c.headDimension, c.intermediateSize)
        var shapes: [String: [Int]] = [
            "token_embd.weight": [c.vocabularySize, hidden], "output.weight": [c.vocabularySize, hidden],
            "output_norm.weight": [hidden],
        ]
        for layer in 0..<c.layerCount {
            let blk = "blk.\(layer)."
            shapes[blk + "attn_norm.weight"] = [hidden]
            shapes[blk + "ffn_norm.weight"] = [hidden]
            shapes[blk + "attn_output.weight"] = [hidden, q]
            shapes[blk + "ffn_down.weight"] = [hidden, ff]
            if architecture == "phi3" {
                shapes[blk + "attn_qkv.weight"] = [q + 2 * kv, hidden]
                shapes[blk + "ffn_up.weight"] = [2 * ff, hidden]
            } else {
                shapes[blk + "attn_q.weight"] = [q, hidden]
                shapes[blk + "attn_k.weight"] = [kv, hidden]
                shapes[blk + "attn_v.weight"] = [kv, hidden]
                shapes[blk + "ffn_gate.weight"] = [ff, hidden]
                shapes[blk + "ffn_up.weight"] = [ff, hidden]
            }
        }
        return shapes
    }

    /// Whether a checkpoint must have the tensor: all but the output projection of a model whose
    /// embeddings are tied.
    static func isRequired(_ ggufName: String, model: ModelConfig) -> Bool {
        ggufName != "output.weight" || !model.tieWordEmbeddings
    }

    /// `LlamaModel.generate_extra_tensors`: Llama 3.1's frequency factors, computed in Float as the
    /// converter does in torch float32.
    static func llama3Factors(config: JSONValue, model: ModelConfig, architecture: String) throws(ModelQuantizationError) -> [Float]? {
        guard architecture == "llama", let rope = ropeParameters(config), rope["rope_type"]?.string?.lowercased() == "llama3" else {
            return nil
        }
        let base = Float(rope["rope_theta"]?.number ?? config["rope_theta"]?.number ?? 10000)
        let dim = config["head_dim"]?.integer ?? model.hiddenSize / max(1, model.headCount)
        let factor = Float(rope["factor"]?.number ?? 8)
        let low = Float(rope["low_freq_factor"]?.number ?? 1)
        let high = Float(rope["high_freq_factor"]?.number ?? 4)
        let original = Float(rope["original_max_position_embeddings"]?.number ?? 8192)
        let lowWavelength = original / low
        let highWavelength = original / high
        var factors: [Float] = []
        for i in stride(from: 0, to: dim, by: 2) {
            let frequency = 1 / powf(base, Float(i) / Float(dim))
            let wavelength = Float(2 * Double.pi) / frequency
            if wavelength < highWavelength {
                factors.append(1)
            } else if wavelength > lowWavelength {
                factors.append(factor)
            } else {
                let smooth = (original / wavelength - low) / (high - low)
                factors.append(1 / ((1 - smooth) / factor + smooth))
            }
        }
        return factors
    }

    /// `TextModel.rope_parameters`: `rope_parameters` (transformers 5) or `rope_scaling`, with the
    /// top-level `rope_theta` and `type` mirrored in as the converter does.
    static func ropeParameters(_ config: JSONValue) -> JSONValue? {
        var members = (config["rope_parameters"] ?? config["rope_scaling"])?.members ?? []
        func has(_ key: String) -> Bool { members.contains { $0.key == key } }
        if !has("rope_theta"), let theta = config["rope_theta"], !theta.isNull { members.append(("rope_theta", theta)) }
        if !has("rope_type"), let type = members.last(where: { $0.key == "type" })?.value, !type.isNull {
            members.append(("rope_type", type))
        }
        if !has("partial_rotary_factor"), let partial = config["partial_rotary_factor"], !partial.isNull {
            members.append(("partial_rotary_factor", partial))
        }
        if !has("original_max_position_embeddings"), let original = config["original_max_position_embeddings"], !original.isNull {
            members.append(("original_max_position_embeddings", original))
        }
        return members.isEmpty ? nil : .object(members)
    }

    // MARK: - Metadata

    /// `general.*`: sampling defaults, the name and the size label (gguf-py's `Metadata`).
    static func addGeneral(
        _ writer: inout MetadataBuilder, directory: String, config: JSONValue, tensors: [ConvertedTensor], generationConfig: String
    ) throws(ModelQuantizationError) {
        if let generation = try JSONValue.file(generationConfig) {
            let floats: [(String, [String])] = [
                ("top_p", ["top_p"]), ("min_p", ["min_p"]), ("xtc_probability", ["xtc_probability"]),
                ("xtc_threshold", ["xtc_threshold"]), ("temp", ["temperature"]),
            ]
            if let sequence = generation["sequence"]?.string { writer.add("general.sampling.sequence", .string(sequence)) }
            if let topK = generation["top_k"]?.integer { writer.add("general.sampling.top_k", .int32(Int32(truncatingIfNeeded: topK))) }
            for (key, names) in floats {
                if let value = names.lazy.compactMap({ generation[$0]?.number }).first {
                    writer.add("general.sampling.\(key)", .float32(Float(value)))
                }
            }
            if let lastN = generation["penalty_last_n"]?.integer {
                writer.add("general.sampling.penalty_last_n", .int32(Int32(truncatingIfNeeded: lastN)))
            }
            if let repeatPenalty = (generation["penalty_repeat"] ?? generation["repetition_penalty"])?.number {
                writer.add("general.sampling.penalty_repeat", .float32(Float(repeatPenalty)))
            }
            if let mirostat = generation["mirostat"]?.integer {
                writer.add("general.sampling.mirostat", .int32(Int32(truncatingIfNeeded: mirostat)))
            }
            if let tau = generation["mirostat_tau"]?.number { writer.add("general.sampling.mirostat_tau", .float32(Float(tau))) }
            if let eta = generation["mirostat_eta"]?.number { writer.add("general.sampling.mirostat_eta", .float32(Float(eta))) }
        }
        // The name: config.json's _name_or_path when it is a Hub id, else the directory's name.
        var id = (URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent)
        if let named = config["_name_or_path"]?.string, named.filter({ $0 == "/" }).count <= 1, !named.isEmpty {
            id = named
        }
        let fullName = id.contains(" ") ? id : String(id.split(separator: "/", maxSplits: 1).last ?? Substring(id))
        writer.add("general.name", .string(titleCased(fullName)))
        let parameters = tensors.reduce(0) { $0 + $1.plan.shape.dims.reduce(1, *) }
        if parameters > 0 { writer.add("general.size_label", .string(sizeLabel(parameters))) }
    }

    /// gguf-py's `Metadata.id_to_title`: dashes to spaces, lower-case words title-cased unless
    /// they are versions or start with a digit.
    static func titleCased(_ id: String) -> String {
        let words = id.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "-", with: " ")
            .split(whereSeparator: { $0.isWhitespace })
        return words.map { word -> String in
            let text = String(word)
            let isVersion = text.range(of: #"^(v\d+(?:\.\d+)*|\d.*)$"#, options: .regularExpression) != nil
            guard text.contains(where: \.isLetter), text == text.lowercased(), !isVersion else { return text }
            // Python's str.title(): a letter after a non-letter is upper-cased, the others lower-cased.
            var out = ""
            var previousIsLetter = false
            for character in text {
                out += previousIsLetter ? character.lowercased() : character.uppercased()
                previousIsLetter = character.isLetter
            }
            return out
        }.joined(separator: " ")
    }

    /// gguf-py's `model_weight_count_rounded_notation(count, min_digits=2)`.
    static func sizeLabel(_ count: Int) -> String {
        let n = Double(count)
        let (scaled, suffix): (Double, String) =
            n > 1e12 ? (n * 1e-12, "T") : n > 1e9 ? (n * 1e-9, "B") : n > 1e6 ? (n * 1e-6, "M") : (n * 1e-3, "K")
        let rounded = String(Int(scaled.rounded(.toNearestOrEven)))
        let digits = rounded.drop { $0 == "0" }.count
        let fraction = max(2 - digits, 0)
        return String(format: "%.\(fraction)f", scaled) + suffix
    }

    /// The architecture's hyperparameters, as `LlamaModel` (through `TextModel`) and
    /// `Phi3MiniModel` write them.
    static func addHyperparameters(
        _ writer: inout MetadataBuilder, config: JSONValue, model: ModelConfig, architecture: String, fileType: ElementType
    ) {
        let arch = architecture
        let rope = ropeParameters(config)
        let theta = Float(rope?["rope_theta"]?.number ?? Double(model.ropeTheta))
        if architecture == "phi3" {
            let original = rope?["original_max_position_embeddings"]?.integer ?? 4096
            let partial = rope?["partial_rotary_factor"]?.number ?? 1
            writer.add("\(arch).context_length", .uint32(UInt32(truncatingIfNeeded: model.contextLength)))
            writer.add("\(arch).rope.scaling.original_context_length", .uint32(UInt32(truncatingIfNeeded: original)))
            writer.add("\(arch).embedding_length", .uint32(UInt32(truncatingIfNeeded: model.hiddenSize)))
            writer.add("\(arch).feed_forward_length", .uint32(UInt32(truncatingIfNeeded: model.intermediateSize)))
            writer.add("\(arch).block_count", .uint32(UInt32(truncatingIfNeeded: model.layerCount)))
            writer.add("\(arch).attention.head_count", .uint32(UInt32(truncatingIfNeeded: model.headCount)))
            writer.add("\(arch).attention.head_count_kv", .uint32(UInt32(truncatingIfNeeded: model.kvHeadCount)))
            writer.add("\(arch).attention.layer_norm_rms_epsilon", .float32(model.rmsNormEpsilon))
            let ropeDimensions = Int(partial * Double(model.hiddenSize)) / max(1, model.headCount)
            writer.add("\(arch).rope.dimension_count", .uint32(UInt32(truncatingIfNeeded: ropeDimensions)))
            writer.add("\(arch).rope.freq_base", .float32(theta))
            writer.add("general.file_type", .uint32(fileTypeValue(fileType)))
            // The converter writes 0 for "no window" (it tells Phi-4 from Phi-3 by it).
            let window = config["sliding_window"]?.integer ?? 0
            writer.add("\(arch).attention.sliding_window", .uint32(UInt32(truncatingIfNeeded: window)))
            return
        }
        writer.add("\(arch).block_count", .uint32(UInt32(truncatingIfNeeded: model.layerCount)))
        writer.add("\(arch).context_length", .uint32(UInt32(truncatingIfNeeded: model.contextLength)))
        writer.add("\(arch).embedding_length", .uint32(UInt32(truncatingIfNeeded: model.hiddenSize)))
        writer.add("\(arch).feed_forward_length", .uint32(UInt32(truncatingIfNeeded: model.intermediateSize)))
        writer.add("\(arch).attention.head_count", .uint32(UInt32(truncatingIfNeeded: model.headCount)))
        writer.add("\(arch).attention.head_count_kv", .uint32(UInt32(truncatingIfNeeded: model.kvHeadCount)))
        if let type = rope?["rope_type"]?.string, let factor = rope?["factor"]?.number, type == "linear" {
            writer.add("\(arch).rope.scaling.type", .string("linear"))
            writer.add("\(arch).rope.scaling.factor", .float32(Float(factor)))
        }
        writer.add("\(arch).rope.freq_base", .float32(theta))
        writer.add("\(arch).attention.layer_norm_rms_epsilon", .float32(model.rmsNormEpsilon))
        // transformers' Llama and Mistral configurations always carry head_dim (their to_dict
        // fills it in), so the converter always writes the key and value lengths.
        writer.add("\(arch).attention.key_length", .uint32(UInt32(truncatingIfNeeded: model.headDimension)))
        writer.add("\(arch).attention.value_length", .uint32(UInt32(truncatingIfNeeded: model.headDimension)))
        writer.add("general.file_type", .uint32(fileTypeValue(fileType)))
        writer.add("\(arch).vocab_size", .uint32(UInt32(truncatingIfNeeded: model.vocabularySize)))
        writer.add("\(arch).rope.dimension_count", .uint32(UInt32(truncatingIfNeeded: model.headDimension)))
    }
}

/// gguf-py's `GGUFWriter` key-value store: keys in the order first added, `general.architecture` first.
struct MetadataBuilder {
    private(set) var entries: [(key: String, value: GGUFValue)]

    init(architecture: String) { entries = [("general.architecture", .string(architecture))] }

    /// Adds a key; a key added twice keeps its first place and takes the new value.
    mutating func add(_ key: String, _ value: GGUFValue) {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
    }

    func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }
}

// MARK: - The tensors' data

extension HuggingFaceConversion {
    /// Writes rows `first ..< first + count` of `tensor`, in its planned type, into `destination`
    /// (exactly that many rows' bytes): each row read from the checkpoint (through the Q/K
    /// permutation for llama), widened to Float and stored as the converter's numpy does (F16 and
    /// BF16 rounded to nearest even).
    func rows(of tensor: ConvertedTensor, first: Int, count: Int, into destination: UnsafeMutableRawBufferPointer)
        throws(ModelQuantizationError)
    {
        let plan = tensor.plan
        let rowLength = plan.shape.rowLength
        let outputRowBytes = rowLength * plan.type.blockBytes
        guard count > 0, rowLength > 0, let out = destination.baseAddress, destination.count == count * outputRowBytes else { return }
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: rowLength)
        defer { values.deallocate() }
        guard let valuesBase = values.baseAddress else { return }

        let source: UnsafeRawBufferPointer?
        if let name = tensor.sourceName {
            do { source = try checkpoint.rawBytes(name) } catch { throw .safetensors(error) }
        } else {
            source = nil
        }
        let sourceRowBytes = rowLength * tensor.sourceType.blockBytes
        let rows = plan.shape.rowCount
        for row in first..<(first + count) {
            if let generated = tensor.generated {
                for i in 0..<rowLength { valuesBase[i] = generated[row * rowLength + i] }
            } else if let source, let base = source.baseAddress {
                var sourceRow = row
                if let heads = tensor.permutedHeads, heads > 0, rows % (2 * heads) == 0 {
                    // LlamaModel.permute: rows (h, pair i, j) of the output come from (h, j, i) of the
                    // checkpoint's half-split layout.
                    let perHead = rows / heads
                    let within = row % perHead
                    sourceRow = row - within + (within % 2) * (perHead / 2) + within / 2
                }
                guard (sourceRow + 1) * sourceRowBytes <= source.count else {
                    throw .tensorShape(tensor: tensor.sourceName ?? plan.name, expected: plan.shape.dims,
                                       actual: [source.count / max(1, tensor.sourceType.blockBytes)])
                }
                tensor.sourceType.dequantize(base + sourceRow * sourceRowBytes, count: rowLength, into: valuesBase)
            }
            let slice = UnsafeMutableRawBufferPointer(start: out + (row - first) * outputRowBytes, count: outputRowBytes)
            do throws(QuantizeError) { try plan.type.quantize(UnsafeBufferPointer(values), into: slice) } catch {
                let error: QuantizeError = switch error {
                case let .nonFiniteValue(index): .nonFiniteValue(index: row * rowLength + index)
                case let .valueOverflow(index): .valueOverflow(index: row * rowLength + index)
                default: error
                }
                throw .invalidValue(tensor: tensor.sourceName ?? plan.name, error)
            }
        }
    }

    /// Drops the mapped pages of the tensor's source once it is written, as the GGUF path does.
    func release(_ tensor: ConvertedTensor) {
        guard let name = tensor.sourceName, let shard = checkpoint.shard(containing: name), let info = shard.info(name) else { return }
        shard.mappedFile.releasePages(offset: info.fileRange.lowerBound, count: info.fileRange.count)
    }
}
