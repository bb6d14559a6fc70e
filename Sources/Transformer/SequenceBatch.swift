/// The tokens of several sequences for one forward pass (``TransformerModel/forward(_:logits:)``):
/// each sequence a ``TransformerModel`` sharing the same weights (a model and its forks), each
/// appending its tokens at its own position.
///
/// Reuse one batch across steps (``removeAll()`` keeps its storage): after the first step of a given
/// size, building and running a batch allocates nothing.
public struct SequenceBatch {
    /// Which of a sequence's rows return logits.
    public enum Logits: Sendable, Hashable {
        /// None (a prompt chunk whose logits nobody reads).
        case none
        /// The last token's: what decoding and the end of a prompt need.
        case last
        /// Every token's, in order.
        case all
    }

    struct Entry {
        let sequence: TransformerModel
        let count: Int
        let logits: Logits
    }

    /// Every sequence's tokens, in the order they were added.
    public private(set) var tokens: [Int] = []
    private(set) var entries: [Entry] = []
    /// Rows of logits the pass returns: the sum over the sequences of what each asked for.
    public private(set) var logitRows = 0

    public init() {}

    /// The number of sequences.
    public var count: Int { entries.count }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        logitRows = 0
    }

    /// Adds `sequence`'s next tokens. A sequence may appear once per batch.
    public mutating func append(_ sequence: TransformerModel, tokens newTokens: some Collection<Int>, logits: Logits = .last) {
        tokens.append(contentsOf: newTokens)
        entries.append(Entry(sequence: sequence, count: newTokens.count, logits: logits))
        switch logits {
        case .none: break
        case .last: logitRows += newTokens.isEmpty ? 0 : 1
        case .all: logitRows += newTokens.count
        }
    }
}

extension TransformerModel {
    /// One forward pass over several sequences that share this model's weights (this model and its
    /// forks): each appends its tokens at its own position, every matrix product runs once over all
    /// the batch's tokens, and each sequence attends only to its own cache.
    ///
    /// A sequence's logits and cache are the same bits it would get alone, in one prefill, in chunks
    /// or token by token, beside any other sequences (with llama.cpp's numerics on weights with an
    /// integer kernel; see the README's "Batch invariance").
    ///
    /// - Parameter logits: receives the logits asked for, [``SequenceBatch/logitRows``, vocabulary],
    ///   sequence by sequence in batch order (resized if it has another size).
    /// - Throws: ``TransformerError`` when the batch is empty, a sequence has no tokens, other
    ///   weights or options, appears twice, holds a token outside the vocabulary or would overflow its
    ///   context. Nothing changes then.
    public func forward(_ batch: SequenceBatch, logits: inout [Float]) throws(TransformerError) {
        guard batch.count > 0 else { throw .emptyInput }
        let state = try runState()
        state.segments.removeAll(keepingCapacity: true)
        // The segments hold the sequences' caches: let go of them after the pass, so that a
        // sequence that ends frees its blocks then.
        defer { state.segments.removeAll(keepingCapacity: true) }
        var row = 0
        for (i, entry) in batch.entries.enumerated() {
            let sequence = entry.sequence
            guard sequence.weights.identity === weights.identity, sequence.options == options else {
                throw .incompatibleState("a sequence of another model (or other options) in the batch")
            }
            for j in 0..<i where batch.entries[j].sequence === sequence {
                throw .incompatibleState("sequence \(j) appears again as sequence \(i) of the batch")
            }
            try sequence.check(batch.tokens[row..<row + entry.count])
            state.segments.append(BatchSegment(firstRow: row, rows: entry.count, start: sequence.cache.count,
                                               cache: sequence.cache))
            row += entry.count
        }
        try forward(batch.tokens, segments: state.segments)

        // logits = W_out · RMSNorm(x) for the rows asked for, gathered in order.
        let vocab = vocabularySize, d = config.hiddenSize
        if logits.count != batch.logitRows * vocab { logits = [Float](repeating: 0, count: batch.logitRows * vocab) }
        guard batch.logitRows > 0 else { return }
        let x = state.x.pointer, xb = state.xb.pointer
        var gathered = 0
        row = 0
        for entry in batch.entries {
            let rows: Range<Int>
            switch entry.logits {
            case .none: rows = row..<row
            case .last: rows = (row + entry.count - 1)..<(row + entry.count)
            case .all: rows = row..<(row + entry.count)
            }
            for r in rows {
                weights.finalNorm.apply(x + r * d, rows: 1, into: xb + gathered * d)
                gathered += 1
            }
            row += entry.count
        }
        let output = weights.output, rounds = usesLlamaCppNumerics
        try logits.withUnsafeMutableBufferPointer { (out) throws(TransformerError) in
            guard let base = out.baseAddress else { return }
            try output.apply(xb, rows: gathered, into: base, state: state, rounds: rounds)
        }
    }
}
