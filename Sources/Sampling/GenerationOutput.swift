/// Why a sequence ended (vLLM's `finish_reason`).
public enum FinishReason: String, Sendable, Codable, Equatable {
    /// An end token, a stop token id or a stop string.
    case stop
    /// `max_tokens` or the context length.
    case length
}

/// What ended a sequence with ``FinishReason/stop`` (vLLM's `stop_reason`).
public enum StopReason: Sendable, Equatable {
    /// One of the model's end ids other than the tokenizer's eos (a generation-config end id,
    /// which vLLM treats as a stop token id and reports by id).
    case endToken(Int)
    /// One of the request's `stop_token_ids`.
    case stopTokenID(Int)
    /// One of the request's `stop` strings.
    case stopString(String)
}

/// A generated token's log-probability and, when asked for, its most likely alternatives.
///
/// The log-probabilities are those of the distribution the token was drawn from, as vLLM 0.4's
/// sampler computes them (`log_softmax` of the logits after the penalties, temperature, top-k,
/// top-p and min-p): a token a filter removed has `-inf`. Greedy decoding and beam search rank
/// the logits unscaled and unfiltered by top-k and top-p, so theirs are of that distribution.
public struct TokenLogprob: Sendable, Equatable {
    /// The chosen token.
    public var token: Int
    /// Its text in place: what the detokenizer adds for it after the tokens before it
    /// (``TextDetokenizer/peek(_:)``), as vLLM's `Logprob.decoded_token`. End tokens and other
    /// skipped special tokens are empty, and so is a token that only starts a character split
    /// across tokens; the token that completes it carries the whole character.
    public var text: String
    /// Its log-probability under the final (processed) distribution.
    public var logprob: Float
    /// The `logprobs` most likely tokens and their log-probabilities, most likely first.
    public var top: [TokenAlternative]

    /// The chosen `token` with its `text`, its `logprob` and the `top` alternatives.
    public init(token: Int, text: String = "", logprob: Float, top: [TokenAlternative]) {
        self.token = token
        self.text = text
        self.logprob = logprob
        self.top = top
    }
}

/// One alternative in ``TokenLogprob/top``.
public struct TokenAlternative: Sendable, Equatable {
    /// The alternative token.
    public var token: Int
    /// Its text had it been chosen instead (see ``TokenLogprob/text``).
    public var text: String
    /// Its log-probability under the final (processed) distribution.
    public var logprob: Float

    /// An alternative `token` with its `text` and `logprob`.
    public init(token: Int, text: String = "", logprob: Float) {
        self.token = token
        self.text = text
        self.logprob = logprob
    }
}

/// One returned sequence (a choice of the response).
public struct SequenceOutput: Sendable, Equatable {
    /// vLLM's `CompletionOutput.index`: the sequence's place in its request's group, not its
    /// rank (choices are listed best first). A sampled choice keeps its candidate's index, the one
    /// its text streamed under, in 0 ..< best_of (with best_of == n the choices' indices are a
    /// permutation of 0 ..< n); a beam has its place among the finished beams, in 0 ..< best_of
    /// (see `BeamSearch`).
    public var index: Int
    /// The generated ids, including an end token or stop token id that stopped the sequence (as
    /// vLLM's `token_ids`); neither is rendered in ``text``.
    public var tokenIDs: [Int]
    /// Their text, cut before a matched stop string.
    public var text: String
    /// The sum of the chosen tokens' log-probabilities; `-inf` for a beam that took a token
    /// min-p had removed (vLLM still returns such beams).
    public var cumulativeLogprob: Double
    /// Why it ended.
    public var finishReason: FinishReason
    /// What stopped it, for ``FinishReason/stop``; `nil` for the tokenizer's eos (vLLM's
    /// `stop_reason` null) and for ``FinishReason/length``.
    public var stopReason: StopReason?
    /// Per-token log-probabilities, when the request asked for `logprobs`.
    public var logprobs: [TokenLogprob]?

    /// A choice with every field given.
    public init(
        index: Int, tokenIDs: [Int], text: String, cumulativeLogprob: Double,
        finishReason: FinishReason, stopReason: StopReason?, logprobs: [TokenLogprob]?
    ) {
        self.index = index
        self.tokenIDs = tokenIDs
        self.text = text
        self.cumulativeLogprob = cumulativeLogprob
        self.finishReason = finishReason
        self.stopReason = stopReason
        self.logprobs = logprobs
    }
}

/// Progress reported while generating.
public enum GenerationEvent: Sendable, Equatable {
    /// Final text for choice `index` (never taken back by a later stop string), the ids that
    /// produced it and, when the request asked for `logprobs`, their entries (empty otherwise).
    /// The deltas of one index concatenate to that choice's `text`, `tokenIDs` and `logprobs`.
    /// The text may lag the ids: text that could still begin a stop string is held back.
    ///
    /// Plain sampling with `best_of == n` reports each token as it arrives. Beam search and
    /// `best_of > n` can only rank at the end, so they report each returned choice whole, once,
    /// when generation ends.
    case delta(index: Int, text: String, tokenIDs: [Int], logprobs: [TokenLogprob])
}

/// What one request's generation starts from.
public struct GenerationSetup: Sendable {
    /// The request's sampling fields, validated: generation does not check them again.
    public var parameters: SamplingParameters.Validated
    /// The prompt's ids (already in the model's cache): repetition_penalty counts them.
    public var promptTokens: [Int]
    /// Every end-of-sequence id of the model (tokenizer eos and extra end tokens).
    public var endTokenIDs: Set<Int>
    /// The tokenizer's eos id (vLLM's `eos_token_id`), if it is one of ``endTokenIDs``. vLLM
    /// reports it as `stop_reason` null and leaves it out of beam search's running score; the
    /// other end ids reach vLLM as `stop_token_ids` (from the generation config), so they are
    /// reported by id and counted in that score.
    public var eosTokenID: Int?
    /// What every sequence's output must match, when the request constrains it (see
    /// ``TokenConstraint``): tokens that cannot continue a valid output are masked before the
    /// other processors, the end ids are allowed only where the grammar may end, and a sequence
    /// whose output is complete with nothing able to follow stops there.
    public var constraint: TokenConstraint?

    /// A request's validated `parameters`, its `promptTokens`, the model's `endTokenIDs` and
    /// among them the tokenizer's `eosTokenID`, and its output `constraint` if any.
    public init(parameters: SamplingParameters.Validated, promptTokens: [Int], endTokenIDs: Set<Int>, eosTokenID: Int? = nil,
                constraint: TokenConstraint? = nil) {
        self.parameters = parameters
        self.promptTokens = promptTokens
        self.endTokenIDs = endTokenIDs
        self.eosTokenID = eosTokenID
        self.constraint = constraint
    }

    /// The same from parameters not yet validated: ``SamplingParameters/validated()`` checks them
    /// here, once.
    /// - Throws: ``SamplingError`` naming the first field at fault.
    public init(parameters: SamplingParameters, promptTokens: [Int], endTokenIDs: Set<Int>,
                eosTokenID: Int? = nil) throws(SamplingError) {
        self.init(parameters: try parameters.validated(), promptTokens: promptTokens, endTokenIDs: endTokenIDs,
                  eosTokenID: eosTokenID)
    }
}
