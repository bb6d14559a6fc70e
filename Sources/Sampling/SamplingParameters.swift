/// What `early_stopping` asks of beam search (vLLM 0.4.x): JSON `true`, `false` or `"never"`.
public enum EarlyStopping: Sendable, Equatable, Hashable {
    /// `true`: stop as soon as `best_of` beams have finished.
    case atOnce
    /// `false`: stop when no running beam can beat the worst finished one at its current length.
    case heuristic
    /// `"never"`: as `heuristic`, but a running beam is scored at the longest length it could reach.
    case never
}

/// The sampling fields of a generate request, with vLLM 0.4.x's names, defaults and meaning: the
/// one copy of them. `GenerateAPI`'s request holds one of these and decodes its JSON fields into
/// it; ``validate()`` enforces vLLM 0.4.x's rules (`SamplingParams._verify_*`) and names the JSON field
/// in its error, and ``validated()`` gives the checked form generation takes.
///
/// The numbers are the request's own, as vLLM's Python floats are, and validation compares them as
/// vLLM does; sampling works in Float32 and converts once, when a ``TokenSampler`` is made.
public struct SamplingParameters: Sendable, Equatable {
    /// `max_tokens`: the most tokens to generate (≥ 1). `nil` is vLLM's `None`: the output runs
    /// until the model's context is full, the token sampled from its last position the last one.
    public var maxTokens: Int?
    /// `n`: how many outputs to return (≥ 1).
    public var n: Int
    /// `best_of`: how many candidates to generate (`nil`: `n`); the beam width with beam search.
    public var bestOf: Int?
    /// `presence_penalty` in [-2, 2], on generated tokens only.
    public var presencePenalty: Double
    /// `frequency_penalty` in [-2, 2], on generated tokens only.
    public var frequencyPenalty: Double
    /// `repetition_penalty` in (0, 2], on prompt and generated tokens.
    public var repetitionPenalty: Double
    /// `temperature` ≥ 0; below 1e-5 decoding is greedy.
    public var temperature: Double
    /// `top_p` in (0, 1].
    public var topP: Double
    /// `top_k`: -1 (off) or ≥ 1.
    public var topK: Int
    /// `min_p` in [0, 1].
    public var minP: Double
    /// `use_beam_search`.
    public var useBeamSearch: Bool
    /// `length_penalty`: the exponent of the length in a beam's score; 1 unless beam search.
    public var lengthPenalty: Double
    /// `early_stopping`: `.heuristic` (false) unless beam search.
    public var earlyStopping: EarlyStopping
    /// `seed`: the same seed gives the same tokens on every machine; `nil` draws one at random.
    public var seed: UInt64?
    /// `stop`: strings that end the output; the text is cut before the match.
    public var stop: [String]
    /// `stop_token_ids`: ids that end the output besides the model's own end tokens.
    public var stopTokenIDs: [Int]
    /// `logprobs`: how many most likely alternatives to report per generated token (`nil`: none).
    public var logprobs: Int?
    /// `ignore_eos`: the model's end tokens do not end the output, which runs to `max_tokens` (or
    /// a stop string or `stop_token_ids`). An end token chosen is kept in the token ids, as vLLM
    /// keeps it, but not rendered in the text. What benchmarks use for outputs of a fixed length.
    public var ignoreEOS: Bool

    /// The defaults of vLLM's `SamplingParams`.
    public init(
        maxTokens: Int? = 16, n: Int = 1, bestOf: Int? = nil, presencePenalty: Double = 0,
        frequencyPenalty: Double = 0, repetitionPenalty: Double = 1, temperature: Double = 1,
        topP: Double = 1, topK: Int = -1, minP: Double = 0, useBeamSearch: Bool = false,
        lengthPenalty: Double = 1, earlyStopping: EarlyStopping = .heuristic, seed: UInt64? = nil,
        stop: [String] = [], stopTokenIDs: [Int] = [], logprobs: Int? = nil, ignoreEOS: Bool = false
    ) {
        self.maxTokens = maxTokens
        self.n = n
        self.bestOf = bestOf
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.useBeamSearch = useBeamSearch
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.seed = seed
        self.stop = stop
        self.stopTokenIDs = stopTokenIDs
        self.logprobs = logprobs
        self.ignoreEOS = ignoreEOS
    }
}

/// A request field that breaks a rule: the JSON name of the field and why.
public enum SamplingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `field` (the JSON key, e.g. `"top_p"`) is invalid; `reason` says what was expected.
    case invalidParameter(field: String, reason: String)

    /// `invalid <field>: <reason>`, as a server's error message.
    public var description: String {
        switch self {
        case let .invalidParameter(field, reason): return "invalid \(field): \(reason)"
        }
    }
}
