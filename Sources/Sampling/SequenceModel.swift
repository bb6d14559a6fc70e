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
    /// An independent copy of this sequence that shares the weights: both continue identically
    /// until fed different tokens.
    func fork() throws -> Self
}

/// Turns one sequence's generated ids into text as they arrive (a value per sequence).
///
/// Each delta is final: concatenating every `append` result and `finish()` gives the text of all
/// ids. `Tokenizer.StreamingDecoder` satisfies it (GenerateAPI declares the conformance).
public protocol TextDetokenizer {
    /// Adds one id and returns the text it completes (possibly empty).
    mutating func append(_ id: Int) throws -> String
    /// Returns whatever is held back.
    mutating func finish() -> String
}
