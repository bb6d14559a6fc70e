import Tensor

/// Every weight of a model, as views of the checkpoint (llama2.c's `TransformerWeights`):
/// nothing is converted, so quantized matrices stay quantized and memory-mapped. Shared by
/// every fork of a model.
struct ModelWeights: Sendable {
    let tokenEmbedding: Tensor
    let blocks: [any DecoderBlock]
    let finalNorm: RMSNorm
    let output: Linear
    /// Scratch Floats the largest matrix needs.
    let scratchCount: Int
    /// How the checkpoint named its tensors (GGUF files are llama.cpp's).
    let naming: WeightNaming
    /// Whether some matrix is stored in another type than F32.
    let hasNonFloat32Matrix: Bool
    /// Shared by every copy of these weights (every fork): sequences may share a forward pass only
    /// if their identities are the same object.
    let identity = WeightsIdentity()

    static func load(config c: ModelConfig, source: any TensorSource, naming: WeightNaming) throws(TransformerError)
        -> ModelWeights
    {
        let w = WeightLoader(source: source, naming: naming)
        try w.refuseBiases()
        let embedding = try w.tensor(.tokenEmbedding, shape: [c.vocabularySize, c.hiddenSize])
        var blocks: [any DecoderBlock] = []
        var matrices: [Linear] = []
        for l in 0..<c.layerCount {
            let block = try c.architecture.definition.loadBlock(w, layer: l, config: c)
            matrices += block.matrices
            blocks.append(block)
        }
        let output: Linear
        // A tied model reads its output projection from the embedding; an untied one must have
        // its own (GGUF configurations say "tied" exactly when output.weight is absent).
        if c.tieWordEmbeddings {
            output = Linear(weight: embedding, name: naming.name(.tokenEmbedding))
        } else {
            output = try w.linear(.output, layer: 0, outputs: c.vocabularySize, inputs: c.hiddenSize)
        }
        matrices.append(output)
        return ModelWeights(
            tokenEmbedding: embedding, blocks: blocks,
            finalNorm: try w.norm(.finalNorm, width: c.hiddenSize, epsilon: c.rmsNormEpsilon),
            output: output, scratchCount: matrices.map(\.scratchCount).max() ?? 0, naming: naming,
            hasNonFloat32Matrix: matrices.contains { $0.weight.type != .f32 })
    }
}

/// The identity of one loaded set of weights (see ``ModelWeights/identity``).
final class WeightsIdentity: Sendable {}

/// A decoder-only transformer (Llama, Mistral or Phi-3) with one sequence's KV cache.
///
/// Weights (``ModelWeights``), activations (`RunState`) and the KV cache are kept apart, as in
/// llama2.c: forks share the first and own the other two. The forward pass is the same for a
/// batch of prompt tokens and for one generated token; only the matrix kernels differ
/// (matrix × matrix for a batch, matrix × vector for one token).
public final class TransformerModel: LanguageModel {
    /// The hyper-parameters the weights were checked against.
    public let config: ModelConfig
    /// The choices made at load; forks inherit them.
    public let options: ModelOptions
    /// The KV cache's capacity: the model's context length, or `options.maxContextLength` if smaller.
    public let contextLength: Int
    let weights: ModelWeights
    let rotary: Rotary
    let shape: AttentionShape
    /// This sequence's activations, made at its first own pass: a sequence that only ever runs
    /// inside another's batch (an Engine request's) never needs them. See ``runState()``.
    private var ownState: RunState?
    let cache: KVCache
    /// Whether the pass rounds as llama.cpp does (``Numerics/llamaCpp``, resolved).
    public let usesLlamaCppNumerics: Bool

    /// Loads the weights for `config` from `source`, named as `naming` says, checking every
    /// tensor's presence and shape.
    /// - Throws: ``TransformerError`` naming the first missing or misshapen tensor.
    package convenience init(
        config: ModelConfig, source: any TensorSource, naming: WeightNaming, options: ModelOptions = .init()
    ) throws(TransformerError) {
        try config.validate()
        let weights = try ModelWeights.load(config: config, source: source, naming: naming)
        try self.init(config: config, weights: weights, options: options)
    }

    /// A sequence of `weights` over `cache`, or else with an empty cache in `pool`, or else in a pool
    /// of its own (sized by ``ModelOptions/kvCacheBytes``).
    init(
        config: ModelConfig, weights: ModelWeights, options: ModelOptions, pool: KVBlockPool? = nil, cache: KVCache? = nil
    ) throws(TransformerError) {
        let length = min(config.contextLength, options.maxContextLength ?? config.contextLength)
        guard length > 0 else {
            throw .invalidConfig(key: "maxContextLength", value: "\(length)", reason: "must be positive")
        }
        guard options.prefillBatchSize > 0, options.prefillBatchSize <= ModelConfig.maxDimension else {
            throw .invalidConfig(key: "prefillBatchSize", value: "\(options.prefillBatchSize)",
                                 reason: "must be in 1...\(ModelConfig.maxDimension)")
        }
        let llamaCpp: Bool
        switch options.numerics {
        case .exact: llamaCpp = false
        case .llamaCpp: llamaCpp = true
        case .automatic: llamaCpp = weights.naming == .gguf && weights.hasNonFloat32Matrix
        }
        self.config = config
        self.options = options
        self.weights = weights
        usesLlamaCppNumerics = llamaCpp
        contextLength = length
        rotary = try Rotary(config: config, llamaCpp: llamaCpp)
        shape = AttentionShape(heads: config.headCount, kvHeads: config.kvHeadCount,
                               headDim: config.headDimension, window: config.slidingWindow,
                               halfPrecision: options.kvCachePrecision == .float16,
                               scaleQueriesFirst: llamaCpp && config.architecture.definition.llamaCppScalesQueriesFirst)
        let half = options.kvCachePrecision == .float16
        if let cache {
            self.cache = cache
        } else if let pool {
            self.cache = try KVCache(pool: pool, capacity: length)
        } else {
            let bytes = Self.kvCacheBytes(options: options, layers: config.layerCount, width: config.kvWidth,
                                          halfPrecision: half, contextLength: length)
            let pool = try KVBlockPool(layers: config.layerCount, width: config.kvWidth, halfPrecision: half, bytes: bytes,
                                       prefixCaching: options.prefixCaching)
            if options.reservesKVCache { pool.reserve() }
            self.cache = try KVCache(pool: pool, capacity: length)
        }
        guard options.threadCount >= 1, options.threadCount <= 256 else {
            throw .invalidConfig(key: "threadCount", value: "\(options.threadCount)", reason: "must be in 1...256")
        }
        // A freshly loaded model makes its activations now, so that a size it cannot have is an
        // error at load; its forks make theirs when they first run.
        if cache == nil && pool == nil { _ = try runState() }
        // The pool splits every product, the prompt's sgemms included (each thread its share of W's
        // rows, Linear.multiplyBatch), so OpenBLAS runs on the calling thread alone. Only a change is
        // written: OpenBLAS rebuilds its thread pool on a change, which corrupts memory if another
        // model (another request, a fork) is inside an sgemm at that moment; 1 is set once.
        if BLAS.threadCount != 1 { BLAS.setThreadCount(1) }
    }

    /// The activations of this sequence's passes (and of the batches it leads).
    func runState() throws(TransformerError) -> RunState {
        if let ownState { return ownState }
        let state = try RunState(config: config, weightScratch: weights.scratchCount, contextLength: contextLength,
                                 rounding: usesLlamaCppNumerics, runner: sharedRunner(threads: options.threadCount))
        ownState = state
        return state
    }

    /// The bytes of KV cache a model loaded with `options` reserves (see ``ModelOptions/kvCacheBytes``).
    static func kvCacheBytes(options: ModelOptions, layers: Int, width: Int, halfPrecision: Bool, contextLength: Int) -> Int {
        if let bytes = options.kvCacheBytes { return bytes }
        let block = KVBlockPool.blockBytes(layers: layers, width: width, halfPrecision: halfPrecision)
        let (context, overflow) = block.multipliedReportingOverflow(by: KVBlockPool.blocks(forPositions: contextLength))
        if overflow { return .max }
        let (sixteen, o2) = context.multipliedReportingOverflow(by: 16)
        return max(context, min(o2 ? .max : sixteen, 1 << 30))
    }

    public var vocabularySize: Int { config.vocabularySize }
    public var position: Int { cache.count }
    /// The KV cache memory this sequence and its forks share.
    public var kvBlockPool: KVBlockPool { cache.pool }

    // MARK: LanguageModel

    public func prefill(tokens: [Int]) throws(TransformerError) -> [Float] {
        try check(tokens)
        var lastRow = 0
        for chunk in chunks(of: tokens) {
            try forward(chunk)
            lastRow = chunk.count - 1
        }
        var logits = [Float](repeating: 0, count: vocabularySize)
        try lastLogits(row: lastRow, into: &logits)
        return logits
    }

    public func prefillAllPositions(tokens: [Int]) throws(TransformerError) -> [[Float]] {
        try check(tokens)
        let vocab = vocabularySize
        var flat = [Float](repeating: 0, count: tokens.count * vocab)
        var done = 0
        for chunk in chunks(of: tokens) {
            try forward(chunk)
            try flat.withUnsafeMutableBufferPointer { (out) throws(TransformerError) in
                guard let base = out.baseAddress else { return }
                try logits(rows: chunk.count, into: base + done * vocab)
            }
            done += chunk.count
        }
        return (0..<tokens.count).map { Array(flat[$0 * vocab..<($0 + 1) * vocab]) }
    }

    public func decode(token: Int) throws(TransformerError) -> [Float] {
        var logits = [Float](repeating: 0, count: vocabularySize)
        try decode(token: token, into: &logits)
        return logits
    }

    public func decode(token: Int, into logits: inout [Float]) throws(TransformerError) {
        let one = CollectionOfOne(token)
        try check(one)
        try forward(one)
        try lastLogits(row: 0, into: &logits)
    }

    public func reset() { cache.truncate(to: 0) }

    public func truncate(to position: Int) throws(TransformerError) {
        guard position >= 0, position <= cache.count else {
            throw .incompatibleState("cannot truncate to \(position): the cache holds \(cache.count) positions")
        }
        cache.truncate(to: position)
    }

    /// A value copy of the KV cache's filled positions, for tests that compare a cache's contents
    /// (generation branches sequences with ``fork()``).
    package func snapshot() -> KVSnapshot { cache.snapshot() }

    /// Replaces the KV cache with `snapshot`, taken from this model or one of the same shape; for
    /// tests, as ``snapshot()``.
    package func restore(_ snapshot: KVSnapshot) throws(TransformerError) { try cache.restore(snapshot) }

    /// A second sequence that shares this one's weights, KV memory and cached blocks: no position
    /// is copied now, and a block is copied only before either sequence writes into it while
    /// both hold it (the last, partly filled one).
    public func fork() throws(TransformerError) -> TransformerModel {
        try TransformerModel(config: config, weights: weights, options: options, cache: cache.fork())
    }

    /// On an empty sequence, takes the longest run of whole blocks of 16 positions that the prefix
    /// cache (``ModelOptions/prefixCaching``) holds for `tokens`' first positions — always leaving
    /// at least the last token to compute, whose logits the caller needs — and returns how many
    /// positions it holds now. The caller then runs `tokens[result...]`. The reused keys and values
    /// are the bits a prefill of those tokens computes (the pass is batch-invariant), so the
    /// sequence continues exactly as without the cache. Returns 0 without a prefix cache.
    public func reuseCachedPrefix(of tokens: [Int]) -> Int {
        cache.reuseCachedPrefix(of: tokens, keep: 1)
    }

    /// A new, empty sequence of this model's weights in the same KV memory (as a fork of an
    /// empty sequence would be, without one to fork from).
    public func emptySequence() throws(TransformerError) -> TransformerModel {
        try TransformerModel(config: config, weights: weights, options: options, pool: cache.pool)
    }

    // MARK: Forward pass

    /// Runs every block over `tokens`, which take positions `position ..< position + count`,
    /// leaving the final hidden states in `state.x` and their keys and values in the cache.
    private func forward(_ tokens: some RandomAccessCollection<Int>) throws(TransformerError) {
        let state = try runState()
        state.segments.removeAll(keepingCapacity: true)
        state.segments.append(BatchSegment(firstRow: 0, rows: tokens.count, start: cache.count, cache: cache))
        try forward(tokens, segments: state.segments)
        state.segments.removeAll(keepingCapacity: true)
    }

    /// Runs every block over `tokens`, whose rows belong to the sequences of `segments` (each run at
    /// its own positions, with its own cache), leaving the final hidden states in `state.x` and each
    /// sequence's keys and values in its cache. Every row is computed as it would be alone: the
    /// matrix kernels and the attention are batch-invariant.
    func forward(_ tokens: some RandomAccessCollection<Int>, segments: [BatchSegment]) throws(TransformerError) {
        let rows = tokens.count, d = config.hiddenSize
        let state = try runState()
        var attended = 0
        for s in segments { attended = max(attended, s.start + s.rows - shape.firstAttended(start: s.start)) }
        try state.reserve(rows: rows, attended: attended)
        // Room in each sequence's blocks for its new positions: the only step that can still fail.
        for s in segments { try s.cache.prepareWrite(from: s.start, rows: s.rows) }
        // x = the tokens' embedding rows, widened to Float.
        let x = state.x.pointer
        for (i, token) in tokens.enumerated() {
            do {
                try weights.tokenEmbedding.dequantizeRow(token, into: UnsafeMutableBufferPointer(start: x + i * d, count: d))
            } catch {
                throw .tokenOutOfRange(token: token, vocabularySize: weights.tokenEmbedding.rowCount)
            }
        }
        // cos and sin of each row's rotary angles (its sequence's positions), shared by every layer.
        let pairs = rotary.pairs
        for s in segments {
            rotary.angles(start: s.start, rows: s.rows, cos: state.cos.pointer + s.firstRow * pairs,
                          sin: state.sin.pointer + s.firstRow * pairs)
        }
        // Each block adds its attention and feed-forward outputs into x.
        for (layer, block) in weights.blocks.enumerated() {
            try block.forward(LayerPass(
                rows: rows, segments: segments, layer: layer, state: state,
                rotary: rotary, shape: shape, hiddenSize: d, feedForwardSize: config.intermediateSize,
                roundsActivations: usesLlamaCppNumerics))
        }
        for s in segments {
            s.cache.count = s.start + s.rows
            s.cache.recorded(tokens.dropFirst(s.firstRow).prefix(s.rows), at: s.start)
        }
    }

    /// logits = W_out · RMSNorm(x[row]), into `logits` (resized to the vocabulary if it is not).
    private func lastLogits(row: Int, into logits: inout [Float]) throws(TransformerError) {
        if logits.count != vocabularySize { logits = [Float](repeating: 0, count: vocabularySize) }
        let state = try runState()
        let xb = state.xb.pointer
        weights.finalNorm.apply(state.x.pointer + row * config.hiddenSize, rows: 1, into: xb)
        let output = weights.output, rounds = usesLlamaCppNumerics
        try logits.withUnsafeMutableBufferPointer { (out) throws(TransformerError) in
            guard let base = out.baseAddress else { return }
            try output.apply(xb, rows: 1, into: base, state: state, rounds: rounds)
        }
    }

    /// logits = W_out · RMSNorm(x) for the first `rows` rows of x, as [rows, vocabulary].
    private func logits(rows: Int, into out: UnsafeMutablePointer<Float>) throws(TransformerError) {
        let state = try runState()
        let xb = state.xb.pointer
        weights.finalNorm.apply(state.x.pointer, rows: rows, into: xb)
        try weights.output.apply(xb, rows: rows, into: out, state: state, rounds: usesLlamaCppNumerics)
    }

    /// Refuses input that cannot run, before any of it changes the cache.
    func check(_ tokens: some Collection<Int>) throws(TransformerError) {
        guard !tokens.isEmpty else { throw .emptyInput }
        let vocab = weights.tokenEmbedding.rowCount
        for t in tokens where t < 0 || t >= vocab { throw .tokenOutOfRange(token: t, vocabularySize: vocab) }
        guard tokens.count <= contextLength - cache.count else {
            throw .contextFull(position: cache.count, adding: tokens.count, contextLength: contextLength)
        }
    }

    /// `tokens` in runs of at most `prefillBatchSize`.
    private func chunks(of tokens: [Int]) -> [ArraySlice<Int>] {
        stride(from: 0, to: tokens.count, by: options.prefillBatchSize).map {
            tokens[$0..<min($0 + options.prefillBatchSize, tokens.count)]
        }
    }
}
