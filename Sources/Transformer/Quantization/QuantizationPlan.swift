import ModelFormats
import Tensor

/// What quantizing a model to a ``QuantizationType`` writes: the output's metadata and, tensor by
/// tensor in the output's order, the type each one gets. The choice is llama.cpp's
/// (`llama_model_quantize` in `src/llama-quant.cpp` of llama-cpp-python 0.3.36, with its default
/// parameters and no importance matrix), so the same input gives the same file:
///
/// - **Which tensors change type**: those of two or more dimensions (ignoring sizes of 1) whose name
///   ends in `weight`, except norms (`_norm.weight`), MoE routers (`ffn_gate_inp.weight`), positional
///   and token-type embeddings and a list of small special tensors of other architectures. The rest
///   are copied as they are.
/// - **The mix**: `output.weight` (or `token_embd.weight` when the embeddings are tied) gets Q6_K
///   unless the type is Q8_0 or its rows don't fit 256-value blocks (then Q8_0); `attn_v` and
///   `ffn_down` get more bits in the `_M` types (Q6_K for the layers `use_more_bits` picks in
///   Q4_K_M/Q5_K_M; Q5_K for the first two `attn_v` in Q3_K_M); Q2_K raises `attn_v`, `ffn_down` and
///   `attn_output`; Q3_K_M/Q4_K_M/Q5_K_M raise a fused `attn_qkv`; 70B-shaped Llamas and 8-expert
///   models get their own raises.
/// - **Fallbacks**: a row length that is not a whole number of the chosen type's blocks takes a
///   32-value type instead (Q2_K and Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0), and F16
///   when even 32 does not divide it.
/// - **Order**: tensors outside the blocks first, then block 0, 1, …, each group by name in byte
///   order (llama.cpp's `weights_map`). The per-layer counters behind `use_more_bits` run in this order.
/// - **Metadata**: the input's, in order, without `general.quantization_version`,
///   `general.file_type` and the `split.*` keys; then `general.quantization_version` = 2 and
///   `general.file_type` = ``QuantizationType/fileType`` (both u32), as llama.cpp appends them.
///
/// Architectures: `llama` (which Mistral GGUF files use too) and `phi3`; llama.cpp's other
/// architectures have rules of their own that are not ported.
public struct QuantizationPlan: Sendable {
    /// One tensor of the output.
    public struct Entry: Sendable, Equatable {
        /// The tensor as the input holds it.
        public let source: GGUFTensorPlan
        /// The tensor as the output holds it: the chosen type, and the shape without leading
        /// dimensions of size 1 (llama.cpp's writer stores `ggml_n_dims` dimensions).
        public let output: GGUFTensorPlan
        /// The rules chose a type whose blocks the row length does not fit, and another was taken.
        public let fellBack: Bool

        /// Whether the data is converted (otherwise its bytes are copied).
        public var isConverted: Bool { source.type != output.type }
    }

    /// The file type planned for.
    public let type: QuantizationType
    /// `general.architecture` of the input.
    public let architecture: String
    /// Every tensor, in the output's order.
    public let tensors: [Entry]
    /// The output's metadata, in order.
    public let metadata: [(key: String, value: GGUFValue)]

    /// The number of tensors whose row length made them fall back to another type.
    public var fallbackCount: Int { tensors.filter(\.fellBack).count }

    /// Plans the quantization of a model with this metadata and these tensors (as the input file
    /// lists them, in any order).
    ///
    /// - Throws: ``ModelQuantizationError/unsupportedArchitecture(_:)``,
    ///   ``ModelQuantizationError/missingMetadata(key:)`` or ``ModelQuantizationError/invalidMetadata(key:reason:)``
    ///   for the hyperparameters the rules read (`<arch>.block_count`, the head counts, the expert
    ///   counts), ``ModelQuantizationError/requantization(tensor:type:)`` for a tensor already
    ///   quantized that would change type (llama.cpp refuses to requantize by default), and
    ///   ``ModelQuantizationError/invalidLayer(tensor:)`` for an expert tensor whose name has no
    ///   valid block number.
    public init(type: QuantizationType, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorPlan])
        throws(ModelQuantizationError)
    {
        self.type = type
        let hyper = try Hyperparameters(metadata: metadata)
        architecture = hyper.architecture

        let ordered = tensors.map { (tensor: $0, name: Array($0.name.utf8)) }.sorted { a, b in
            let (la, lb) = (blockNumber(a.name) ?? -1, blockNumber(b.name) ?? -1)
            return la != lb ? la < lb : a.name.lexicographicallyPrecedes(b.name)
        }

        var state = MixState(hyper: hyper, type: type)
        for (_, name) in ordered {
            let category = TensorCategory(name)
            if category.isAttentionV { state.attentionVCount += 1 }
            if category == .output { state.tiedEmbeddings = false }
        }

        var entries: [Entry] = []
        entries.reserveCapacity(ordered.count)
        for (tensor, name) in ordered {
            var chosen = tensor.type
            var fellBack = false
            if allowsQuantization(name: name, shape: tensor.shape) {
                (chosen, fellBack) = try state.choose(name: name, tensorName: tensor.name, rowLength: tensor.shape.rowLength)
            }
            if chosen != tensor.type && tensor.type.isQuantized {
                throw .requantization(tensor: tensor.name, type: tensor.type)
            }
            var dims = Array(tensor.shape.dims.drop { $0 == 1 })
            if dims.isEmpty { dims = [1] }
            entries.append(Entry(
                source: tensor, output: GGUFTensorPlan(name: tensor.name, type: chosen, shape: Shape(dims)), fellBack: fellBack))
        }
        self.tensors = entries

        let replaced: Set<String> = ["general.quantization_version", "general.file_type", "split.no", "split.count", "split.tensors.count"]
        self.metadata = metadata.filter { !replaced.contains($0.key) }
            + [("general.quantization_version", .uint32(2)), ("general.file_type", .uint32(type.fileType))]
    }

    /// The plan of a Hugging Face checkpoint converted to a float type: the converter's tensors,
    /// types, order and metadata, each tensor written as the conversion makes it.
    init(conversion: HuggingFaceConversion, type: QuantizationType) {
        self.type = type
        architecture = conversion.architecture
        tensors = conversion.tensors.map { Entry(source: $0.plan, output: $0.plan, fellBack: false) }
        metadata = conversion.metadata
    }

    /// Plans the quantization of a GGUF file.
    public init(type: QuantizationType, file: GGUFFile) throws(ModelQuantizationError) {
        try self.init(
            type: type, metadata: file.metadata.entries,
            tensors: file.tensors.map { GGUFTensorPlan(name: $0.name, type: $0.type, shape: $0.shape) })
    }
}

// MARK: - The hyperparameters the rules read

/// What `llama_model::load_hparams` reads that the type rules use.
struct Hyperparameters {
    let architecture: String
    let layerCount: Int
    let expertCount: Int
    /// `n_head / n_head_kv` of layer 0 (0 when `n_head_kv` is 0).
    let queryGroupSize: Int
    /// llama.cpp's `LLM_TYPE_70B`: a Llama of 80 layers with grouped-query attention and not 8 experts.
    let is70B: Bool

    /// llama.cpp's `LLAMA_MAX_LAYERS` and `LLAMA_MAX_EXPERTS`, beyond which it refuses a model.
    static let maxLayers = 512
    static let maxExperts = 1024

    init(metadata: [(key: String, value: GGUFValue)]) throws(ModelQuantizationError) {
        func value(_ key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }
        guard let archValue = value("general.architecture") else { throw .missingMetadata(key: "general.architecture") }
        guard let arch = archValue.stringValue else {
            throw .invalidMetadata(key: "general.architecture", reason: "a \(archValue.typeDescription), not a string")
        }
        guard ["llama", "phi3"].contains(arch) else { throw .unsupportedArchitecture(arch) }
        architecture = arch

        func integer(_ key: String) throws(ModelQuantizationError) -> Int? {
            guard let v = value("\(arch).\(key)") else { return nil }
            guard let i = v.intValue, i >= 0, i <= Int(UInt32.max) else {
                throw .invalidMetadata(key: "\(arch).\(key)", reason: "not an unsigned 32-bit integer")
            }
            return i
        }
        guard let layers = try integer("block_count") else { throw .missingMetadata(key: "\(arch).block_count") }
        guard layers > 0, layers <= Self.maxLayers else {
            throw .invalidMetadata(key: "\(arch).block_count", reason: "\(layers) is not in 1...\(Self.maxLayers)")
        }
        layerCount = layers

        let experts = try integer("expert_count") ?? 0
        guard experts <= Self.maxExperts else {
            throw .invalidMetadata(key: "\(arch).expert_count", reason: "\(experts) is over \(Self.maxExperts)")
        }
        if experts > 0 {
            let used = try Self.firstOfLayers(value("\(arch).expert_used_count"), "\(arch).expert_used_count", layers) ?? 0
            guard used > 0, used <= experts else {
                throw .invalidMetadata(key: "\(arch).expert_used_count", reason: "\(used) is not in 1...\(experts)")
            }
        }
        expertCount = experts

        // Both are optional for llama.cpp: a missing head count is 0, a missing KV head count the head count.
        let heads = try Self.firstOfLayers(value("\(arch).attention.head_count"), "\(arch).attention.head_count", layers) ?? 0
        let kvHeads = try Self.firstOfLayers(value("\(arch).attention.head_count_kv"), "\(arch).attention.head_count_kv", layers) ?? heads
        queryGroupSize = kvHeads == 0 ? 0 : heads / kvHeads
        is70B = arch == "llama" && experts != 8 && layers == 80 && heads != kvHeads
    }

    /// A per-layer count (a scalar, or an array of one per layer) for layer 0; nil when absent.
    static func firstOfLayers(_ value: GGUFValue?, _ key: String, _ layers: Int) throws(ModelQuantizationError) -> Int? {
        guard let value else { return nil }
        if let array = value.arrayValue {
            guard array.count == layers else {
                throw .invalidMetadata(key: key, reason: "\(array.count) values for \(layers) layers")
            }
            guard let first = array.element(0)?.intValue, first >= 0, first <= Int(UInt32.max) else {
                throw .invalidMetadata(key: key, reason: "not unsigned 32-bit integers")
            }
            return first
        }
        guard let v = value.intValue, v >= 0, v <= Int(UInt32.max) else {
            throw .invalidMetadata(key: key, reason: "not an unsigned 32-bit integer")
        }
        return v
    }
}

// MARK: - The rules

/// llama.cpp's broad tensor categories (`tensor_get_category`), tested in its order.
enum TensorCategory: Equatable {
    case tokenEmbedding, attentionQ, attentionV, attentionK, attentionQKV, attentionKVB, attentionOutput
    case ffnUp, ffnGate, ffnDown, output, other

    init(_ name: [UInt8]) {
        func contains(_ part: String) -> Bool { containsBytes(name, Array(part.utf8)) }
        if name.elementsEqual("output.weight".utf8) { self = .output }
        else if name.elementsEqual("token_embd.weight".utf8) || name.elementsEqual("per_layer_token_embd.weight".utf8) {
            self = .tokenEmbedding
        }
        else if contains("attn_qkv.weight") { self = .attentionQKV }
        else if contains("attn_kv_b.weight") { self = .attentionKVB }
        else if contains("attn_v.weight") { self = .attentionV }
        else if contains("attn_k.weight") { self = .attentionK }
        else if contains("attn_q.weight") { self = .attentionQ }
        else if contains("attn_output.weight") { self = .attentionOutput }
        else if contains("ffn_up") { self = .ffnUp }
        else if contains("ffn_gate") { self = .ffnGate }
        else if contains("ffn_down") { self = .ffnDown }
        else { self = .other }
    }

    /// The value projections, which the rules treat alike (`category_is_attn_v`).
    var isAttentionV: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }
}

/// Substrings that keep a weight in its type whatever the architecture (`tensor_allows_quantization`).
private let unquantizedParts = [
    "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
    "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
    "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
    "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
    "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
    ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
].map { Array($0.utf8) }

/// Whether llama.cpp lets the tensor change type at all.
func allowsQuantization(name: [UInt8], shape: Shape) -> Bool {
    // ggml_n_dims: dimensions up to the last one above 1 (GGUF order), at least 1.
    guard shape.dims.drop(while: { $0 == 1 }).count >= 2 else { return false }
    // llama.cpp tests `name.rfind("weight") == name.size() - 6` in size_t arithmetic, which a
    // 5-byte name also passes (npos == 5 - 6); kept so that such a name gets the same type.
    guard name.count == 5 || (name.count >= 6 && name.suffix(6).elementsEqual("weight".utf8)) else { return false }
    if name.elementsEqual("position_embd.weight".utf8) || name.elementsEqual("token_types.weight".utf8) { return false }
    return !unquantizedParts.contains { containsBytes(name, $0) }
}

/// The number `sscanf(name, "blk.%d.", &n)` reads, or nil when it reads none.
func blockNumber(_ name: [UInt8]) -> Int? {
    let prefix = Array("blk.".utf8)
    guard name.starts(with: prefix) else { return nil }
    var i = prefix.count
    // %d skips white space, takes a sign and at least one digit, saturates like strtol and keeps the
    // low 32 bits, as glibc stores it into an int.
    while i < name.count, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(name[i]) { i += 1 }
    var negative = false
    if i < name.count, name[i] == UInt8(ascii: "-") || name[i] == UInt8(ascii: "+") {
        negative = name[i] == UInt8(ascii: "-")
        i += 1
    }
    guard i < name.count, (0x30...0x39).contains(name[i]) else { return nil }
    var magnitude: UInt64 = 0
    var saturated = false
    while i < name.count, (0x30...0x39).contains(name[i]) {
        let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(name[i] - 0x30))
        if o1 || o2 { saturated = true } else { magnitude = sum }
        i += 1
    }
    let long: Int64
    if negative {
        long = saturated || magnitude > UInt64(Int64.max) ? .min : -Int64(magnitude)
    } else {
        long = saturated || magnitude > UInt64(Int64.max) ? .max : Int64(magnitude)
    }
    return Int(Int32(truncatingIfNeeded: long))
}

/// Whether `haystack` contains `needle` as bytes (`std::string::find`).
func containsBytes(_ haystack: [UInt8], _ n: [UInt8]) -> Bool {
    guard n.count <= haystack.count else { return false }
    if n.isEmpty { return true }
    for start in 0...(haystack.count - n.count) where haystack[start] == n[0] {
        if haystack[start..<start + n.count].elementsEqual(n) { return true }
    }
    return false
}

/// llama.cpp's `quantize_state_impl`: the counters the rules advance as they go through the tensors.
struct MixState {
    let hyper: Hyperparameters
    let type: QuantizationType
    var attentionVCount = 0
    var tiedEmbeddings = true
    var attentionVIndex = 0
    var ffnDownIndex = 0
    var ffnGateIndex = 0
    var ffnUpIndex = 0

    init(hyper: Hyperparameters, type: QuantizationType) {
        self.hyper = hyper
        self.type = type
    }

    /// `llama_tensor_get_type` for a tensor that may change type: the rule's type, then the fallback.
    mutating func choose(name: [UInt8], tensorName: String, rowLength: Int) throws(ModelQuantizationError)
        -> (ElementType, fellBack: Bool)
    {
        let base = type.defaultTensorType
        // The rules apply to quantized file types only; F16 and BF16 files take their type as it is.
        guard base.isQuantized else { return (base, false) }
        let ruled = try rule(base, name: name, tensorName: tensorName, rowLength: rowLength)
        return Self.fallback(ruled, rowLength: rowLength)
    }

    /// `tensor_type_fallback`: a 32-value type for a row length that 256-value blocks don't fit, F16
    /// when 32 does not divide it either.
    static func fallback(_ type: ElementType, rowLength: Int) -> (ElementType, fellBack: Bool) {
        guard rowLength % type.blockSize != 0 else { return (type, false) }
        var other: ElementType
        switch type {
        case .q2_K, .q3_K: other = .q4_0
        case .q4_K: other = .q5_0
        case .q5_K: other = .q5_1
        case .q6_K: other = .q8_0
        default: other = type  // already a 32-value type
        }
        if rowLength % other.blockSize != 0 { other = .f16 }
        return (other, true)
    }

    /// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third between.
    static func useMoreBits(_ layer: Int, _ layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    /// The layer a per-layer rule looks at: the counter, or for a mixture of experts (whose expert
    /// tensors don't come one per layer in order) the block number in the name.
    func layer(_ counter: Int, _ count: Int, name: [UInt8], tensorName: String) throws(ModelQuantizationError) -> (Int, Int) {
        guard hyper.expertCount > 1 else { return (counter, count) }
        guard let layer = blockNumber(name), layer >= 0, layer < count else { throw .invalidLayer(tensor: tensorName) }
        return (layer, count)
    }

    /// `llama_tensor_get_type_impl` for the file types in ``QuantizationType``.
    mutating func rule(_ base: ElementType, name: [UInt8], tensorName: String, rowLength: Int) throws(ModelQuantizationError)
        -> ElementType
    {
        let category = TensorCategory(name)
        var chosen = base
        if category == .output || (tiedEmbeddings && category == .tokenEmbedding) {
            // The output projection (or the embeddings that serve as one): Q6_K unless Q8_0 was asked
            // for, Q8_0 when the row does not fit the default type's blocks.
            if rowLength % base.blockSize != 0 {
                chosen = .q8_0
            } else if base != .q8_0 {
                chosen = .q6_K
            }
        } else if category == .tokenEmbedding {
            // Untied embeddings keep the default type for these file types.
        } else if category.isAttentionV {
            switch type {
            case .q2_K: chosen = hyper.queryGroupSize >= 4 ? .q4_K : .q3_K
            case .q3_K_M: chosen = attentionVIndex < 2 ? .q5_K : .q4_K
            case .q4_K_M where Self.useMoreBits(attentionVIndex, attentionVCount): chosen = .q6_K
            case .q5_K_M where Self.useMoreBits(attentionVIndex, attentionVCount): chosen = .q6_K
            default: break
            }
            if hyper.is70B && (chosen == .q3_K || chosen == .q4_K) { chosen = .q5_K }
            if hyper.expertCount == 8 { chosen = .q8_0 }
            attentionVIndex += 1
        } else if category == .attentionK {
            if hyper.expertCount == 8 { chosen = .q8_0 }
        } else if category == .attentionQ {
            // Only the IQ3 file types change it.
        } else if category == .ffnDown {
            let (layer, layers) = try layer(ffnDownIndex, hyper.layerCount, name: name, tensorName: tensorName)
            switch type {
            case .q2_K: chosen = .q3_K
            // llama.cpp keeps Q3_K for other layers only on Falcon, which is not ported.
            case .q3_K_M: chosen = layer < layers / 16 ? .q5_K : .q4_K
            case .q4_K_M where Self.useMoreBits(layer, layers): chosen = .q6_K
            case .q5_K_M where Self.useMoreBits(layer, layers): chosen = .q6_K
            default: break
            }
            ffnDownIndex += 1
        } else if category == .attentionOutput {
            if hyper.expertCount == 8 {
                if [.q2_K, .q3_K_M, .q4_K_M].contains(type) { chosen = .q5_K }
            } else if type == .q2_K {
                chosen = .q3_K
            } else if type == .q3_K_M {
                chosen = .q4_K
            }
        } else if category == .attentionQKV {
            switch type {
            case .q3_K_M: chosen = .q4_K
            case .q4_K_M: chosen = .q5_K
            case .q5_K_M: chosen = .q6_K
            default: break
            }
        } else if category == .ffnGate {
            // Read for its check on expert tensors' names; only IQ3_XS changes the type.
            _ = try layer(ffnGateIndex, hyper.layerCount, name: name, tensorName: tensorName)
            ffnGateIndex += 1
        } else if category == .ffnUp {
            _ = try layer(ffnUpIndex, hyper.layerCount, name: name, tensorName: tensorName)
            ffnUpIndex += 1
        }
        return chosen
    }
}
