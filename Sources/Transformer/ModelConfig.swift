/// The hyper-parameters of a decoder-only transformer, whichever file format they came from.
///
/// Built by ``init(gguf:)`` from a GGUF file's `<arch>.*` metadata or by
/// ``init(huggingFaceConfig:path:)`` from a Hugging Face `config.json`; both end in ``validate()``,
/// so a `ModelConfig` in hand describes a model whose buffers can be sized without overflow.
/// Codable so that it can be printed, stored, or written by hand for tests.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Which values of a head rotate together; it follows how the checkpoint ordered Q and K's rows.
    public enum RopeConvention: String, Codable, Sendable {
        /// Pairs (x[2i], x[2i+1]): GGUF llama-family files, whose converter permuted Q and K.
        case adjacentPairs
        /// Pairs (x[i], x[i + d/2]): Hugging Face checkpoints, and Phi-3 in GGUF.
        case halfSplit
    }

    /// How the rotary frequencies are stretched for long contexts.
    public enum RopeScaling: Codable, Sendable, Equatable {
        /// Every frequency divided by `factor` (position interpolation).
        case linear(factor: Float)
        /// Llama 3.1's scheme: long wavelengths divided by `factor`, short ones kept, a smooth
        /// blend between (Hugging Face `rope_type: "llama3"`).
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContextLength: Int)
        /// Frequency i divided by `divisors[i]`: what llama.cpp's converter stores in the
        /// `rope_freqs.weight` tensor for Llama 3.1 (the same scheme, precomputed).
        case frequencyDivisors([Float])
    }

    /// Which forward pass runs.
    public var architecture: Architecture
    /// Width of the residual stream (`hidden_size`, `embedding_length`).
    public var hiddenSize: Int
    /// Width of the feed-forward block (`intermediate_size`, `feed_forward_length`).
    public var intermediateSize: Int
    /// Number of transformer blocks.
    public var layerCount: Int
    /// Query heads.
    public var headCount: Int
    /// Key/value heads (fewer than ``headCount`` for grouped-query attention).
    public var kvHeadCount: Int
    /// Values per head.
    public var headDimension: Int
    /// Rows of the embedding and of the output projection.
    public var vocabularySize: Int
    /// The longest sequence the model was trained for; the KV cache is sized from it.
    public var contextLength: Int
    /// ε added to the mean square in every RMSNorm.
    public var rmsNormEpsilon: Float
    /// θ, the rotary frequency base.
    public var ropeTheta: Float
    /// Rotated values per head (``headDimension`` unless the rotary is partial).
    public var ropeDimensions: Int
    /// Long-context stretching of the rotary frequencies, if any.
    public var ropeScaling: RopeScaling?
    /// Which values of a head rotate together (follows the file format and architecture).
    public var ropeConvention: RopeConvention
    /// When set, a token attends to itself and the `slidingWindow − 1` tokens before it.
    public var slidingWindow: Int?
    /// Whether the output projection is the token embedding.
    public var tieWordEmbeddings: Bool

    /// A configuration given field by field. `headDimension` defaults to hiddenSize / headCount and
    /// `ropeDimensions` to the head dimension. Call ``validate()`` before use (loaders do).
    public init(
        architecture: Architecture, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
        headCount: Int, kvHeadCount: Int, headDimension: Int? = nil, vocabularySize: Int, contextLength: Int,
        rmsNormEpsilon: Float = 1e-5, ropeTheta: Float = 10000, ropeDimensions: Int? = nil,
        ropeScaling: RopeScaling? = nil, ropeConvention: RopeConvention, slidingWindow: Int? = nil,
        tieWordEmbeddings: Bool = false
    ) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        let head = headDimension ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.headDimension = head
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.ropeDimensions = ropeDimensions ?? head
        self.ropeScaling = ropeScaling
        self.ropeConvention = ropeConvention
        self.slidingWindow = slidingWindow
        self.tieWordEmbeddings = tieWordEmbeddings
    }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of all key (or value) heads together: one row of the KV cache.
    public var kvWidth: Int { kvHeadCount * headDimension }

    /// Largest value accepted for a width, head count or vocabulary: far above any real model,
    /// low enough that products of two of them cannot overflow.
    public static let maxDimension = 1 << 24
    /// Largest number of layers accepted.
    public static let maxLayers = 4096

    /// Checks that every size is positive and consistent.
    /// - Throws: ``TransformerError/invalidConfig(key:value:reason:)`` naming the first bad field.
    public func validate() throws(TransformerError) {
        func positive(_ key: String, _ v: Int, max limit: Int = ModelConfig.maxDimension) throws(TransformerError) {
            guard v > 0 else { throw .invalidConfig(key: key, value: "\(v)", reason: "must be positive") }
            guard v <= limit else { throw .invalidConfig(key: key, value: "\(v)", reason: "larger than \(limit)") }
        }
        try positive("hiddenSize", hiddenSize)
        try positive("intermediateSize", intermediateSize)
        try positive("layerCount", layerCount, max: Self.maxLayers)
        try positive("headCount", headCount)
        try positive("kvHeadCount", kvHeadCount)
        try positive("headDimension", headDimension)
        try positive("vocabularySize", vocabularySize)
        try positive("contextLength", contextLength)
        try positive("queryWidth", queryWidth)
        guard headCount % kvHeadCount == 0 else {
            throw .invalidConfig(key: "kvHeadCount", value: "\(kvHeadCount)",
                                 reason: "must divide headCount (\(headCount))")
        }
        guard ropeDimensions >= 2, ropeDimensions <= headDimension, ropeDimensions % 2 == 0 else {
            throw .invalidConfig(key: "ropeDimensions", value: "\(ropeDimensions)",
                                 reason: "must be even and in 2...headDimension (\(headDimension))")
        }
        guard rmsNormEpsilon.isFinite, rmsNormEpsilon > 0 else {
            throw .invalidConfig(key: "rmsNormEpsilon", value: "\(rmsNormEpsilon)", reason: "must be finite and > 0")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw .invalidConfig(key: "ropeTheta", value: "\(ropeTheta)", reason: "must be finite and > 0")
        }
        if let w = slidingWindow { try positive("slidingWindow", w) }
        try ropeScaling?.validate(ropeDimensions: ropeDimensions)
    }
}

extension ModelConfig.RopeScaling {
    func validate(ropeDimensions: Int) throws(TransformerError) {
        func finitePositive(_ key: String, _ v: Float) throws(TransformerError) {
            guard v.isFinite, v > 0 else {
                throw .invalidConfig(key: "ropeScaling.\(key)", value: "\(v)", reason: "must be finite and > 0")
            }
        }
        switch self {
        case let .linear(factor):
            try finitePositive("factor", factor)
        case let .llama3(factor, low, high, original):
            try finitePositive("factor", factor)
            try finitePositive("lowFrequencyFactor", low)
            try finitePositive("highFrequencyFactor", high)
            // The blend divides by (high − low).
            guard high > low else {
                throw .invalidConfig(key: "ropeScaling.highFrequencyFactor", value: "\(high)",
                                     reason: "must exceed lowFrequencyFactor (\(low))")
            }
            guard original > 0 else {
                throw .invalidConfig(key: "ropeScaling.originalContextLength", value: "\(original)",
                                     reason: "must be positive")
            }
        case let .frequencyDivisors(divisors):
            guard divisors.count == ropeDimensions / 2 else {
                throw .invalidConfig(key: "ropeScaling.frequencyDivisors", value: "\(divisors.count) values",
                                     reason: "needs ropeDimensions / 2 = \(ropeDimensions / 2)")
            }
            for d in divisors { try finitePositive("frequencyDivisors", d) }
        }
    }
}
