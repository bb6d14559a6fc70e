/// Generates the request's choices from a model whose cache already holds the prompt.
///
/// Plain sampling and greedy decoding run ``SamplingParameters/effectiveBestOf`` candidates that
/// advance together, one token each per round (see `SampledGeneration`); `use_beam_search` runs
/// vLLM 0.4.x's beam search (see `BeamSearch`). Each round decodes all of the request's running
/// candidates, or all of its next beams, in one ``SequenceModel/decode(_:tokens:into:)`` call.
/// Every token goes through the same ``TokenSampler`` pipeline, then the stop checks, in vLLM's
/// order: end ids, `stop_token_ids`, stop strings, `max_tokens`, context.
///
/// Randomness: one ``Xoshiro256StarStar`` per request, seeded from `seed` (or the system's random
/// source without one); candidate i draws from its i-th jump-ahead stream, one draw per token.
/// So the same seed gives the same tokens on every machine, streamed or not, and candidate i's
/// text does not depend on how many candidates run. With best_of == n, each token's final text is
/// reported as soon as it is sampled, before the round's decode; within a round, in index order.
///
/// What the choices hold (vLLM 0.4's `StopChecker` and `RequestOutput.from_seq_group`):
/// - `tokenIDs` keeps the end id or `stop_token_ids` id that stopped the sequence, as vLLM's
///   `token_ids` does, so `completion_tokens` counts it; the text holds neither.
///   `cumulativeLogprob` includes its log-probability, and `logprobs` has one entry per id of
///   `tokenIDs`. `stopReason` is `nil` for the tokenizer's eos and the id for any other end id.
/// - A stop string cuts the text before its match; the strings are tried in list order and the
///   first of the list that matches wins, even if a later one matches earlier in the text (vLLM's
///   `_check_stop_strings`). While streaming, text that could still begin a stop string is held
///   back, so a delta is never taken back.
/// - Sampled candidates are returned sorted by cumulative logprob, also when best_of == n; each
///   keeps its candidate's index, the one its text streamed under (vLLM's `CompletionOutput.index`
///   is `seqs.index(seq)`, not the rank), so with best_of > n the indices are n of 0 ..< best_of.
///   Beams carry their place in vLLM's sequence group the same way.
/// - Beam search searches with ``beamSearchScore(cumulativeLogprob:promptLength:generatedCount:lengthPenalty:)``,
///   whose length counts the prompt and not a final eos, and ranks the finished beams for the
///   answer with the eos counted, as vLLM does (see `BeamSearch`).
/// - A sequence ends with ``FinishReason/length`` at `max_tokens`, or when the model's cache is
///   full (`position == contextLength`): the token sampled from the last position is kept but not
///   decoded, as in vLLM, whose sequences may reach `max_model_len + 1` tokens.
///
/// - Parameters:
///   - model: holds the prompt (`model.position == setup.promptTokens.count`); forked for
///     `best_of` samples and beams, so every candidate shares the prompt's cache.
///   - promptLogits: the logits after the prompt's last token.
///   - detokenizer: a fresh detokenizer, copied for each sequence; stop strings are matched on
///     its text.
///   - onEvent: called with text as it becomes final; throwing from it stops generation.
/// - Returns: `n` choices, best first. Beam search returns fewer only if fewer beams could ever
///   finish (a vocabulary smaller than the beam); beams that took a token min-p removed are
///   returned with cumulative logprob -inf, as vLLM returns them.
/// - Throws: `CancellationError` within one token of the task being cancelled, and whatever the
///   model, the detokenizer or `onEvent` throw; ``SamplingError`` if the logits do not match the
///   model's vocabulary. The parameters were validated when `setup` was made.
public func generate<Model: SequenceModel, Detokenizer: TextDetokenizer>(
    model: Model, promptLogits: [Float], detokenizer: Detokenizer, setup: GenerationSetup,
    onEvent: (GenerationEvent) throws -> Void = { _ in }
) throws -> [SequenceOutput] {
    guard !promptLogits.isEmpty, promptLogits.count == model.vocabularySize else {
        throw SamplingError.invalidParameter(
            field: "model",
            reason: "the prompt's logits have \(promptLogits.count) entries for a vocabulary of \(model.vocabularySize)")
    }
    if Task.isCancelled { throw CancellationError() }
    if setup.parameters.useBeamSearch {
        if let constraint = setup.constraint {
            throw SamplingError.invalidParameter(field: constraint.field, reason: "constrained output is not supported with beam search")
        }
        return try BeamSearch<Model, Detokenizer>(setup: setup)
            .run(model: model, promptLogits: promptLogits, detokenizer: detokenizer, onEvent: onEvent)
    }
    return try SampledGeneration<Model, Detokenizer>(setup: setup)
        .run(model: model, promptLogits: promptLogits, detokenizer: detokenizer, onEvent: onEvent)
}
