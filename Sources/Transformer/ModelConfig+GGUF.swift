import ModelFormats
import Tensor

extension ModelConfig {
    /// The hyper-parameters of a GGUF file, read from its `<arch>.*` metadata (llama.cpp's keys).
    ///
    /// Absent optional keys take llama.cpp's defaults: `head_count_kv` = `head_count`,
    /// `rope.freq_base` = 10000, `rope.dimension_count` = the head dimension, `key_length` =
    /// `embedding_length / head_count`. The vocabulary size is `<arch>.vocab_size`, else the length
    /// of `tokenizer.ggml.tokens`, else the rows of `token_embd.weight`. The output projection is
    /// tied to the embedding when `output.weight` is absent. Llama 3.1's rope scaling arrives as
    /// the `rope_freqs.weight` tensor the converter precomputes.
    ///
    /// The RoPE convention follows from the architecture (its definition's `ggufRopeConvention`):
    /// llama.cpp's converter permutes the rows of Q and K for `llama`, so its files rotate adjacent
    /// pairs; `phi3` is not permuted.
    /// - Throws: ``TransformerError`` naming the missing or bad key.
    public init(gguf file: GGUFFile) throws(TransformerError) {
        let m = file.metadata
        let archName: String
        do { archName = try m.requireString("general.architecture") } catch { throw .gguf(error) }
        guard let definition = Architecture.gguf(archName) else { throw .unsupportedArchitecture(archName) }
        let architecture = Architecture(definition), convention = definition.ggufRopeConvention
        let a = archName
        func int(_ key: String) throws(TransformerError) -> Int {
            do { return try m.requireInt("\(a).\(key)") } catch { throw .gguf(error) }
        }
        func optionalInt(_ key: String) throws(TransformerError) -> Int? {
            guard m["\(a).\(key)"] != nil else { return nil }
            return try int(key)
        }
        func optionalFloat(_ key: String) throws(TransformerError) -> Float? {
            guard m["\(a).\(key)"] != nil else { return nil }
            do { return Float(try m.requireDouble("\(a).\(key)")) } catch { throw .gguf(error) }
        }

        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let headDim = try optionalInt("attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
        let vocab: Int
        if let v = try optionalInt("vocab_size") {
            vocab = v
        } else if let tokens = m.array("tokenizer.ggml.tokens") {
            vocab = tokens.count
        } else if let embedding = file.info(named: "token_embd.weight") {
            vocab = embedding.shape.rowCount
        } else {
            throw .missingConfigValue(key: "\(a).vocab_size")
        }
        guard let epsilon = try optionalFloat("attention.layer_norm_rms_epsilon") else {
            throw .missingConfigValue(key: "\(a).attention.layer_norm_rms_epsilon")
        }
        let ropeDims = try optionalInt("rope.dimension_count") ?? headDim

        self.init(
            architecture: architecture,
            hiddenSize: hidden,
            intermediateSize: try int("feed_forward_length"),
            layerCount: try int("block_count"),
            headCount: heads,
            kvHeadCount: try optionalInt("attention.head_count_kv") ?? heads,
            headDimension: headDim,
            vocabularySize: vocab,
            contextLength: try int("context_length"),
            rmsNormEpsilon: epsilon,
            ropeTheta: try optionalFloat("rope.freq_base") ?? 10000,
            ropeDimensions: ropeDims,
            ropeScaling: try Self.ggufRopeScaling(file, arch: a, ropeDimensions: ropeDims),
            ropeConvention: convention,
            slidingWindow: try optionalInt("attention.sliding_window").flatMap { $0 > 0 ? $0 : nil },
            tieWordEmbeddings: file.info(named: "output.weight") == nil
        )
        if let v = try optionalInt("attention.value_length"), v != headDimension {
            throw .unsupportedFeature("\(a).attention.value_length \(v) differs from key_length \(headDimension)")
        }
        try validate()
    }

    /// `rope.scaling.type` and its factor, or the `rope_freqs.weight` divisors.
    private static func ggufRopeScaling(
        _ file: GGUFFile, arch a: String, ropeDimensions: Int
    ) throws(TransformerError) -> RopeScaling? {
        let m = file.metadata
        if file.info(named: "rope_factors_long.weight") != nil || file.info(named: "rope_factors_short.weight") != nil {
            throw .unsupportedFeature("LongRoPE frequency factors (rope_factors_long/short)")
        }
        if let info = file.info(named: "rope_freqs.weight") {
            let tensor: Tensor
            do { tensor = try file.tensor(info) } catch { throw .gguf(error) }
            guard tensor.elementCount == ropeDimensions / 2 else {
                throw .wrongShape(tensor: info.name, expected: [ropeDimensions / 2], actual: tensor.shape.dims)
            }
            return .frequencyDivisors(tensor.toFloats())
        }
        let type = m.string("\(a).rope.scaling.type") ?? "none"
        switch type {
        case "none":
            return nil
        case "linear":
            let factor: Double
            do { factor = try m.requireDouble("\(a).rope.scaling.factor") } catch { throw .gguf(error) }
            // llama.cpp treats a factor of 0 or 1 as no scaling.
            return factor == 0 || factor == 1 ? nil : .linear(factor: Float(factor))
        default:
            throw .unsupportedFeature("rope scaling type \"\(type)\"")
        }
    }
}
