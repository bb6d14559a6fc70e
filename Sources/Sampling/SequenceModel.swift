/// What the generation loops need from a model: one sequence's KV cache and next-token logits.
///
/// `Transformer`'s models satisfy it (GenerateAPI declares the conformance); tests use toy models
/// with hand-written logit tables. Like the models, a conforming type is a class used from one
/// task at a time.
public protocol SequenceModel: AnyObject {
    /// The number of logits per position.
    var vocabularySize: Int { get }
    /// The most tokens the sequence can hold.
    var contextLength: Int { get }
    /// The number of tokens already in the sequence.
    var position: Int { get }
    /// Appends `token` and writes the logits that predict the next one into `logits`.
    func decode(token: Int, into logits: inout [Float]) throws
    /// Appends `tokens[i]` to `sequences[i]` for every i, in one step where the model can (one batched
    /// forward pass over all of them), and writes sequence i's next-token logits into `logits[i]`
    /// (each resized to the vocabulary if it has another size). `sequences` holds distinct objects.
    ///
    /// The sampling loops call it once per round with every sequence of a request that advances,
    /// so a model that batches runs a request's candidates or beams together. `tokens` has one id
    /// per sequence; `logits` is resized to one row per sequence if it has another count. The
    /// default implementation calls ``decode(token:into:)`` on each sequence in turn.
    static func decode(_ sequences: [Self], tokens: [Int], into logits: inout [[Float]]) throws
    /// An independent copy of this sequence that shares the weights: both continue identically
    /// until fed different tokens.
    func fork() throws -> Self
}

extension SequenceModel {
    /// One ``decode(token:into:)`` per sequence, in order: for models that decode one sequence
    /// at a time.
    public static func decode(_ sequences: [Self], tokens: [Int], into logits: inout [[Float]]) throws {
        guard tokens.count == sequences.count else {
            throw SamplingError.invalidParameter(
                field: "tokens", reason: "\(tokens.count) tokens for \(sequences.count) sequences; decode takes one per sequence")
        }
        if logits.count > sequences.count { logits.removeLast(logits.count - sequences.count) }
        while logits.count < sequences.count { logits.append([]) }
        for (i, sequence) in sequences.enumerated() {
            try sequence.decode(token: tokens[i], into: &logits[i])
        }
    }
}

/// Turns one sequence's generated ids into text as they arrive (a value per sequence).
///
/// Each delta is final: concatenating every `append` result and `finish()` gives the text of all
/// ids. `Tokenizer.StreamingDecoder` satisfies it (GenerateAPI declares the conformance). A
/// detokenizer has value semantics: the loops copy it for every candidate and beam.
public protocol TextDetokenizer {
    /// Adds one id and returns the text it completes (possibly empty).
    mutating func append(_ id: Int) throws -> String
    /// Returns whatever is held back.
    mutating func finish() -> String
    /// The text `id` would complete if it were appended now, without appending it: a token's text
    /// in place, as vLLM's incremental detokenizer renders each token and each alternative of a
    /// log-probability entry (empty for a token that only starts a character, or that the
    /// detokenizer skips; an id it cannot decode is empty too).
    func peek(_ id: Int) -> String
}

extension TextDetokenizer {
    /// Appends `id` to a copy, which leaves this value as it was.
    public func peek(_ id: Int) -> String {
        var copy = self
        return (try? copy.append(id)) ?? ""
    }
}
