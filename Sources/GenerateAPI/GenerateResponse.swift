import Sampling

/// The answer to a ``GenerateRequest``:
/// `{"id", "model", "choices": [...], "usage": {...}, "timing": {...}}`.
public struct GenerateResponse: Codable, Sendable, Equatable {
    /// A unique id (`gen-` and 24 hex digits; `mock-` and a digest of the request for mock answers).
    public var id: String
    /// The model as the request named it (or the engine's default model's name).
    public var model: String
    /// The outputs, `n` of them, best first: sampled ones by cumulative logprob (also when
    /// best_of == n), beams by vLLM's final score. Each keeps vLLM's `CompletionOutput.index`,
    /// the sequence's place in its group (the index its text streamed under), not its rank.
    public var choices: [GenerateChoice]
    /// Token counts.
    public var usage: Usage
    /// Where the time went (not part of vLLM's response; zero for mock answers).
    public var timing: Timing

    public init(id: String, model: String, choices: [GenerateChoice], usage: Usage, timing: Timing) {
        self.id = id
        self.model = model
        self.choices = choices
        self.usage = usage
        self.timing = timing
    }

    /// `prompt_tokens`, `completion_tokens` (over every returned choice), `total_tokens`, and
    /// `prompt_tokens_details.cached_tokens`: the prompt tokens whose keys and values came from the
    /// prefix cache instead of being computed (OpenAI's field).
    public struct Usage: Codable, Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int
        /// Prompt tokens reused from the prefix cache.
        public var cachedPromptTokens: Int

        public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = promptTokens + completionTokens
            self.cachedPromptTokens = cachedPromptTokens
        }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }

        private struct Details: Codable {
            var cached_tokens: Int
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            promptTokens = try c.decode(Int.self, forKey: .promptTokens)
            completionTokens = try c.decode(Int.self, forKey: .completionTokens)
            totalTokens = try c.decode(Int.self, forKey: .totalTokens)
            cachedPromptTokens = try c.decodeIfPresent(Details.self, forKey: .promptTokensDetails)?.cached_tokens ?? 0
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(promptTokens, forKey: .promptTokens)
            try c.encode(completionTokens, forKey: .completionTokens)
            try c.encode(totalTokens, forKey: .totalTokens)
            try c.encode(Details(cached_tokens: cachedPromptTokens), forKey: .promptTokensDetails)
        }
    }

    /// Seconds spent and the resulting speeds.
    public struct Timing: Codable, Sendable, Equatable {
        /// Loading the model for this request (0 when it was already loaded).
        public var loadSeconds: Double
        /// Processing the prompt.
        public var promptSeconds: Double
        /// Generating every candidate's tokens.
        public var generationSeconds: Double
        /// Prompt tokens per second.
        public var promptTokensPerSecond: Double
        /// The returned choices' tokens (`usage.completionTokens`) per second of generation; the
        /// tokens of candidates and beams that are not returned take time but are not counted.
        public var generationTokensPerSecond: Double

        public init(loadSeconds: Double, promptSeconds: Double, generationSeconds: Double,
                    promptTokensPerSecond: Double, generationTokensPerSecond: Double) {
            self.loadSeconds = loadSeconds
            self.promptSeconds = promptSeconds
            self.generationSeconds = generationSeconds
            self.promptTokensPerSecond = promptTokensPerSecond
            self.generationTokensPerSecond = generationTokensPerSecond
        }

        static let zero = Timing(loadSeconds: 0, promptSeconds: 0, generationSeconds: 0,
                                 promptTokensPerSecond: 0, generationTokensPerSecond: 0)

        enum CodingKeys: String, CodingKey {
            case loadSeconds = "load_s"
            case promptSeconds = "prompt_s"
            case generationSeconds = "generation_s"
            case promptTokensPerSecond = "prompt_tokens_per_s"
            case generationTokensPerSecond = "generation_tokens_per_s"
        }
    }
}

/// One output: `{"index", "text", "token_ids", "finish_reason", "stop_reason",
/// "cumulative_logprob", "logprobs"}`.
public struct GenerateChoice: Codable, Sendable, Equatable {
    /// vLLM's `CompletionOutput.index`: the candidate or beam the choice comes from, in
    /// 0 ..< best_of (`Sampling.SequenceOutput.index`); a stream's deltas carry it too.
    public var index: Int
    public var text: String
    /// The generated ids, with the end token or stop token id that stopped the output (vLLM's
    /// `token_ids`); `usage.completion_tokens` counts them all, the text renders neither.
    public var tokenIDs: [Int]
    /// `"stop"` (end token, stop token id or stop string) or `"length"` (max_tokens or context).
    public var finishReason: FinishReason
    /// The matched stop string or the stop token id (a generation-config end id counts as one),
    /// or `null`: for the tokenizer's eos and for `"length"`, as vLLM reports it.
    public var stopReason: StopReasonJSON?
    /// The sum of the tokens' log-probabilities. A beam search beam that took a token min-p had
    /// removed has `-inf` here (vLLM returns such beams too); JSON has no infinity, so the
    /// server and `sparrow generate --json` write it as the string `"-Infinity"` (Python's
    /// `json` would write the bare, invalid `-Infinity`), and decoding takes that string back.
    public var cumulativeLogprob: Double
    /// Per-token log-probabilities, when the request asked for `logprobs`.
    public var logprobs: [TokenLogprobJSON]?

    public init(index: Int, text: String, tokenIDs: [Int], finishReason: FinishReason,
                stopReason: StopReasonJSON?, cumulativeLogprob: Double, logprobs: [TokenLogprobJSON]?) {
        self.index = index
        self.text = text
        self.tokenIDs = tokenIDs
        self.finishReason = finishReason
        self.stopReason = stopReason
        self.cumulativeLogprob = cumulativeLogprob
        self.logprobs = logprobs
    }

    init(_ output: SequenceOutput) {
        self.init(
            index: output.index, text: output.text, tokenIDs: output.tokenIDs, finishReason: output.finishReason,
            stopReason: output.stopReason.map(StopReasonJSON.init), cumulativeLogprob: output.cumulativeLogprob,
            logprobs: output.logprobs?.map(TokenLogprobJSON.init))
    }

    enum CodingKeys: String, CodingKey {
        case index, text, logprobs
        case tokenIDs = "token_ids"
        case finishReason = "finish_reason"
        case stopReason = "stop_reason"
        case cumulativeLogprob = "cumulative_logprob"
    }

    /// Decodes a choice as the server writes it, a `"-Infinity"` log-probability included.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        text = try c.decode(String.self, forKey: .text)
        tokenIDs = try c.decode([Int].self, forKey: .tokenIDs)
        finishReason = try c.decode(FinishReason.self, forKey: .finishReason)
        stopReason = try c.decodeIfPresent(StopReasonJSON.self, forKey: .stopReason)
        cumulativeLogprob = try decodeLogprob(c, .cumulativeLogprob)
        logprobs = try c.decodeIfPresent([TokenLogprobJSON].self, forKey: .logprobs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(tokenIDs, forKey: .tokenIDs)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(stopReason, forKey: .stopReason)  // null when absent, as vLLM prints it
        try c.encode(cumulativeLogprob, forKey: .cumulativeLogprob)
        try c.encodeIfPresent(logprobs, forKey: .logprobs)
    }
}

/// A log-probability as the responses write it: a number, or for `-inf` (and the other values
/// JSON cannot carry) the string the encoders' `nonConformingFloatEncodingStrategy` writes.
func decodeLogprob<Key: CodingKey>(_ c: KeyedDecodingContainer<Key>, _ key: Key) throws -> Double {
    if let value = try? c.decode(Double.self, forKey: key) { return value }
    switch try c.decode(String.self, forKey: key) {
    case "-Infinity": return -.infinity
    case "Infinity": return .infinity
    case "NaN": return .nan
    case let other:
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(other) is not a log-probability")
    }
}

/// vLLM's `stop_reason`: the matched stop string, or the id of the stop or end token.
public enum StopReasonJSON: Codable, Sendable, Equatable {
    case string(String)
    case token(Int)

    init(_ reason: StopReason) {
        switch reason {
        case let .endToken(id), let .stopTokenID(id): self = .token(id)
        case let .stopString(s): self = .string(s)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let id = try? c.decode(Int.self) { self = .token(id) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .token(id): try c.encode(id)
        }
    }
}

/// One generated token's log-probability and its top alternatives:
/// `{"token_id", "token", "logprob", "top": [{"token_id", "token", "logprob"}]}`.
///
/// `token` is the token's text in place (`Sampling.TokenLogprob.text`, vLLM's `decoded_token`).
/// The log-probabilities are of the distribution the token was drawn from: after the penalties,
/// temperature, top-k, top-p and min-p, as vLLM 0.4's sampler computes them.
public struct TokenLogprobJSON: Codable, Sendable, Equatable {
    public var tokenID: Int
    /// The token's text in place; empty for end tokens and for a token that only starts a
    /// character split across tokens.
    public var token: String
    public var logprob: Float
    /// The most likely tokens, most likely first; tokens a filter removed are left out, so there
    /// may be fewer than asked for.
    public var top: [Alternative]

    public struct Alternative: Codable, Sendable, Equatable {
        public var tokenID: Int
        /// Its text had it been chosen instead.
        public var token: String
        public var logprob: Float

        public init(tokenID: Int, token: String, logprob: Float) {
            self.tokenID = tokenID
            self.token = token
            self.logprob = logprob
        }

        enum CodingKeys: String, CodingKey {
            case tokenID = "token_id"
            case token, logprob
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tokenID = try c.decode(Int.self, forKey: .tokenID)
            token = try c.decodeIfPresent(String.self, forKey: .token) ?? ""
            logprob = try c.decode(Float.self, forKey: .logprob)
        }
    }

    public init(tokenID: Int, token: String, logprob: Float, top: [Alternative]) {
        self.tokenID = tokenID
        self.token = token
        self.logprob = logprob
        self.top = top
    }

    /// Decodes an entry as the server writes it, a `"-Infinity"` log-probability included.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tokenID = try c.decode(Int.self, forKey: .tokenID)
        token = try c.decodeIfPresent(String.self, forKey: .token) ?? ""
        logprob = Float(try decodeLogprob(c, .logprob))  // -inf for a dead beam's token
        top = try c.decode([Alternative].self, forKey: .top)
    }

    init(_ l: TokenLogprob) {
        tokenID = l.token
        token = l.text
        logprob = l.logprob
        // A filtered-out alternative has logprob -inf, which JSON cannot carry; it is no alternative.
        top = l.top.filter { $0.logprob.isFinite }.map { Alternative(tokenID: $0.token, token: $0.text, logprob: $0.logprob) }
    }

    enum CodingKeys: String, CodingKey {
        case tokenID = "token_id"
        case token, logprob, top
    }
}

/// What ``Engine/stream(request:)`` yields: text as it is generated, then the whole response.
public enum GenerateStreamEvent: Sendable, Equatable {
    /// New text of choice `index`; the deltas of one index concatenate to its final text.
    case delta(index: Int, text: String)
    /// The log-probability entries of choice `index`'s newest tokens, only when the request asked
    /// for `logprobs`: yielded as the tokens arrive, before the ``delta(index:text:)`` that holds
    /// their text (a token whose text is held back, such as the first part of a character split
    /// across tokens or text that may begin a stop string, has its entry now and its text in a
    /// later delta). The entries of one index concatenate to its choice's `logprobs`.
    case logprobs(index: Int, entries: [TokenLogprobJSON])
    /// The complete response, last.
    case finished(GenerateResponse)
}
