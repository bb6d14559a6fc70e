/// What ends a sequence, besides its text: the request's rules and the model's end ids.
struct StopRules: Sendable {
    var endTokenIDs: Set<Int>
    /// The tokenizer's eos, reported as `stop_reason` null (see ``GenerationSetup/eosTokenID``).
    var eosTokenID: Int?
    /// `ignore_eos`: an end id is kept as a token and the sequence goes on.
    var ignoresEndTokens: Bool
    var stopTokenIDs: Set<Int>
    var stopStrings: StopStrings
    /// `nil`: until the model's context is full.
    var maxTokens: Int?
    var wantsLogprobs: Bool

    init(setup: GenerationSetup) {
        endTokenIDs = setup.endTokenIDs
        eosTokenID = setup.eosTokenID
        ignoresEndTokens = setup.parameters.ignoreEOS
        stopTokenIDs = Set(setup.parameters.stopTokenIDs)
        stopStrings = StopStrings(setup.parameters.stop)
        maxTokens = setup.parameters.maxTokens
        wantsLogprobs = setup.parameters.logprobs != nil
    }
}

/// One sequence's generated ids, text and score, and the stop checks vLLM 0.4's
/// `StopChecker.maybe_stop_sequence` runs after every token, in its order: end ids, stop token
/// ids, stop strings, context, max_tokens.
///
/// Every chosen id goes into ``tokens`` (and ``logprobs``) and its log-probability into
/// ``cumulativeLogprob``, the end id or stop token id that ends the sequence included: vLLM
/// appends the token before it checks for stops, so its `token_ids` and `completion_tokens` hold
/// it. End ids and stop token ids never reach the detokenizer, so the text holds no rendering of
/// them (vLLM skips special tokens, and cuts a stop token's text when it does not).
struct SequenceProgress<Detokenizer: TextDetokenizer> {
    var tokens: [Int] = []
    var detokenizer: Detokenizer
    var text = OutputText()
    var cumulativeLogprob: Double = 0
    var logprobs: [TokenLogprob]?
    var finishReason: FinishReason?
    var stopReason: StopReason?

    init(detokenizer: Detokenizer, rules: StopRules) {
        self.detokenizer = detokenizer
        logprobs = rules.wantsLogprobs ? [] : nil
    }

    var isFinished: Bool { finishReason != nil }

    /// Takes `token`, chosen with `logprob`; `atContextLimit` says the model cannot take it in
    /// (its cache is full), which ends the sequence with it as the last token.
    mutating func accept(
        _ token: Int, logprob: Float, alternatives: [TokenAlternative], rules: StopRules, atContextLimit: Bool
    ) throws {
        cumulativeLogprob += Double(logprob)
        tokens.append(token)
        if logprobs != nil {
            // Each text is taken before the token is appended: vLLM decodes the chosen token and
            // every alternative after the same previous tokens.
            let top = alternatives.map { TokenAlternative(token: $0.token, text: detokenizer.peek($0.token), logprob: $0.logprob) }
            logprobs?.append(TokenLogprob(token: token, text: detokenizer.peek(token), logprob: logprob, top: top))
        }
        let isEnd = rules.endTokenIDs.contains(token)
        if isEnd && !rules.ignoresEndTokens {
            finish(.stop, token == rules.eosTokenID ? nil : .endToken(token), rules)
            return
        }
        if rules.stopTokenIDs.contains(token) {
            finish(.stop, .stopTokenID(token), rules)
            return
        }
        if isEnd {  // under ignore_eos: kept, not rendered
            if tokens.count >= rules.maxTokens ?? Int.max || atContextLimit { finish(.length, nil, rules) }
            return
        }
        let delta = try detokenizer.append(token)
        if let string = text.append(delta, stops: rules.stopStrings) {
            // Text after a stop string is discarded, so what the detokenizer holds is too.
            finishReason = .stop
            stopReason = .stopString(string)
            return
        }
        if tokens.count >= rules.maxTokens ?? Int.max || atContextLimit { finish(.length, nil, rules) }
    }

    /// Ends the sequence because its constraint allows nothing more: the output is complete (or,
    /// if the grammar can never end from here, as far as it can go). `finish_reason` is `stop`
    /// with no stop reason, as for the tokenizer's eos.
    mutating func finishConstrained(_ rules: StopRules) {
        guard !isFinished else { return }
        finish(.stop, nil, rules)
    }

    /// Ends the sequence and releases what the detokenizer held back; a stop string completed
    /// by that text still cuts it (and names itself, unless an id already stopped the sequence).
    private mutating func finish(_ reason: FinishReason, _ stop: StopReason?, _ rules: StopRules) {
        finishReason = reason
        stopReason = stop
        if let string = text.append(detokenizer.finish(), stops: rules.stopStrings), reason == .length {
            finishReason = .stop
            stopReason = .stopString(string)
        }
    }

    /// The text that became final since the last call (see ``OutputText/takeFinal(finished:stops:)``).
    mutating func takeFinalText(_ rules: StopRules) -> String {
        text.takeFinal(finished: isFinished, stops: rules.stopStrings)
    }

    /// The choice as the response reports it.
    func output(index: Int) -> SequenceOutput {
        SequenceOutput(
            index: index, tokenIDs: tokens, text: text.string, cumulativeLogprob: cumulativeLogprob,
            finishReason: finishReason ?? .length, stopReason: stopReason, logprobs: logprobs)
    }
}

/// The check the loops run after every decode: a model that returns logits of the wrong size is
/// reported rather than sampled from.
func checkLogits(_ logits: [Float], of model: some SequenceModel) throws(SamplingError) {
    guard logits.count == model.vocabularySize, !logits.isEmpty else {
        throw SamplingError.invalidParameter(
            field: "model", reason: "decode wrote \(logits.count) logits for a vocabulary of \(model.vocabularySize)")
    }
}

/// One round's decode: `tokens[i]` appended to `models[i]` for every i in one
/// ``SequenceModel/decode(_:tokens:into:)`` call, then each row of `logits` checked as
/// ``checkLogits(_:of:)`` does.
func decodeChecked<Model: SequenceModel>(_ models: [Model], tokens: [Int], into logits: inout [[Float]]) throws {
    try Model.decode(models, tokens: tokens, into: &logits)
    guard logits.count == models.count else {
        throw SamplingError.invalidParameter(
            field: "model", reason: "decode wrote \(logits.count) rows of logits for \(models.count) sequences")
    }
    for (row, model) in zip(logits, models) {
        try checkLogits(row, of: model)
    }
}
