/// A causal language model with one sequence's KV cache: what text generation drives.
///
/// The model holds the sequence's state (the cached keys and values of the tokens seen so far),
/// so it is a class, and is not `Sendable`: use one from one task at a time. Branching a
/// sequence — n > 1 samples, beam search — goes through ``fork()`` (a second model that shares
/// the memory-mapped weights and starts with a copy of this one's cache).
///
/// ```swift
/// let model = try loadModel(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// var logits = try model.prefill(tokens: promptIDs)
/// for _ in 0..<32 {
///     let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
///     try model.decode(token: next, into: &logits)  // reuses the array: no allocation
/// }
/// ```
public protocol LanguageModel: AnyObject {
    /// The model's hyper-parameters.
    var config: ModelConfig { get }
    /// The number of logits per position.
    var vocabularySize: Int { get }
    /// The most tokens the KV cache holds (the model's context length, or a smaller limit chosen
    /// at load).
    var contextLength: Int { get }
    /// The number of tokens in the KV cache: the position the next token will take.
    var position: Int { get }

    /// Appends `tokens` to the sequence in one batched pass and returns the logits after the
    /// last of them.
    /// - Throws: ``TransformerError/emptyInput``, ``TransformerError/tokenOutOfRange(token:vocabularySize:)``
    ///   or ``TransformerError/contextFull(position:adding:contextLength:)``, before anything is
    ///   computed.
    func prefill(tokens: [Int]) throws(TransformerError) -> [Float]

    /// Like ``prefill(tokens:)``, but returns the logits after every one of `tokens`: element i
    /// predicts the token after `tokens[i]`.
    func prefillAllPositions(tokens: [Int]) throws(TransformerError) -> [[Float]]

    /// Appends one token and returns the logits that predict the next, in a new array.
    func decode(token: Int) throws(TransformerError) -> [Float]

    /// Appends one token and writes the logits that predict the next into `logits`.
    ///
    /// The allocation-free form for generation loops: the forward pass works in buffers the model
    /// allocated at load, and `logits` is written in place when it already holds
    /// ``vocabularySize`` values and is not shared (otherwise it is replaced once).
    func decode(token: Int, into logits: inout [Float]) throws(TransformerError)

    /// Empties the KV cache: the next token is at position 0.
    func reset()

    /// Forgets every token from `position` on, keeping the first `position`.
    /// - Throws: ``TransformerError/incompatibleState(_:)`` when `position` is outside 0...``position``.
    func truncate(to position: Int) throws(TransformerError)

    /// A second, independent sequence that shares this model's weights and starts from a copy
    /// of its KV cache: both continue identically until they are fed different tokens.
    func fork() throws(TransformerError) -> Self
}

/// Choices made when a model is loaded.
public struct ModelOptions: Sendable, Equatable {
    /// Caps the KV cache below the model's context length (`nil`: the model's own). The cache's
    /// memory is reserved for the whole length but only touched as positions fill.
    public var maxContextLength: Int?
    /// Tokens per batched pass in a prefill; longer prompts run in several passes. Bounds the
    /// activation memory (batch × widths) and the attention scores (batch × context).
    public var prefillBatchSize: Int
    /// Whose rounding to follow: transformers' (float32) or llama.cpp's. See ``Numerics``.
    public var numerics: Numerics
    /// Float keys and values, or Float16 ones as llama.cpp's default cache has.
    public var kvCachePrecision: KVCachePrecision
    /// Threads that share each matrix product (a persistent pool; 1 runs everything on the
    /// calling thread). Default 2, the cores of the machines Sparrow targets.
    public var threadCount: Int = 2
    /// The KV cache memory a model and all its forks share, in bytes (``KVBlockPool``); `nil`:
    /// room for 16 full contexts, at most 1 GiB, and never less than one full context. It is
    /// reserved at load but only touched as positions fill.
    public var kvCacheBytes: Int?
    /// Index every full block of 16 positions by its token prefix, so that a later sequence with
    /// the same prefix reuses it (``TransformerModel/reuseCachedPrefix(of:)``) instead of
    /// computing it again. Off by default; the Engine turns it on.
    public var prefixCaching = false
    /// Write every page of the KV cache when the model loads, so that all of ``kvCacheBytes`` is
    /// resident from the start, as llama.cpp (which clears its cache at load) and vLLM (which
    /// preallocates it) do. A server then holds the same memory under load as idle, and its
    /// resident memory growing is a leak, never the cache filling. Off by default: a one-off
    /// generation touches only the blocks it uses.
    public var reservesKVCache = false

    /// Options with the defaults: the model's own context length, batches of 512, automatic
    /// numerics, a Float KV cache.
    public init(
        maxContextLength: Int? = nil, prefillBatchSize: Int = 512, numerics: Numerics = .automatic,
        kvCachePrecision: KVCachePrecision = .float32
    ) {
        self.maxContextLength = maxContextLength
        self.prefillBatchSize = prefillBatchSize
        self.numerics = numerics
        self.kvCachePrecision = kvCachePrecision
    }
}
