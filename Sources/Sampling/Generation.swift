/// Generates the request's choices from a model whose cache already holds the prompt.
///
/// - Parameters:
///   - model: holds the prompt (`model.position == setup.promptTokens.count`); forked for
///     `best_of` samples and beams, so every candidate shares the prompt's cache.
///   - promptLogits: the logits after the prompt's last token.
///   - detokenizer: a fresh detokenizer, copied for each sequence; stop strings are matched on
///     its text.
///   - onEvent: called with text as it becomes final; throwing from it stops generation.
/// - Returns: `n` choices, best first when they are ranked (beam search, best_of > n).
/// - Throws: `CancellationError` within one token of the task being cancelled, and whatever the
///   model, the detokenizer or `onEvent` throw.
public func generate<Model: SequenceModel, Detokenizer: TextDetokenizer>(
    model: Model, promptLogits: [Float], detokenizer: Detokenizer, setup: GenerationSetup,
    onEvent: (GenerationEvent) throws -> Void = { _ in }
) throws -> [SequenceOutput] {
    // Implemented in issue 5 (sampling helper); the signature is the contract GenerateAPI uses.
    throw SamplingError.invalidParameter(field: "model", reason: "generation is not implemented yet")
}
