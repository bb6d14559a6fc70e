/// The request rules of vLLM 0.4.x's `SamplingParams._verify_*`, and the
/// values the generation loops actually use once `best_of` is resolved and greedy mode has
/// switched the filters off.
extension SamplingParameters {
    /// Below this temperature decoding is greedy (vLLM's `_SAMPLING_EPS`).
    public static let greedyTemperature: Double = 1e-5

    /// vLLM 0.4's `_SAMPLING_EPS`, the tolerance of its float checks: beam search takes a
    /// temperature up to it and a top_p down to 1 minus it, and plain sampling a length_penalty
    /// within it of 1.
    public static let epsilon: Double = 1e-5

    /// The most alternatives `logprobs` may ask for per token. vLLM leaves the bound to the server
    /// (OpenAI allows 20 on chat, 5 on completions); an unbounded value would make every token
    /// cost a vocabulary-sized selection and a response of that size.
    public static let maxLogprobs = 20

    /// `best_of` with its default (`n`) filled in: the number of candidates, or the beam width.
    public var effectiveBestOf: Int { bestOf ?? n }

    /// Whether tokens are chosen by argmax: temperature below ``greedyTemperature``. Beam search
    /// requires it too, but ranks beams rather than taking one argmax.
    public var isGreedy: Bool { temperature < Self.greedyTemperature }

    /// The parameters the loops run with: `best_of` resolved, and in greedy or beam-search mode
    /// the filters off, as vLLM does (a greedy argmax ignores them; beam search ranks the
    /// unfiltered log-probabilities, min-p aside). The temperature stays below
    /// ``greedyTemperature`` so the mode is still visible; the logits are then not scaled.
    public var effective: SamplingParameters {
        var p = self
        p.bestOf = effectiveBestOf
        if useBeamSearch {
            // Validation lets top_p down to 1 - ε through; vLLM filters only below that bound.
            p.topP = 1
            p.topK = -1
        } else if isGreedy {
            p.topP = 1
            p.topK = -1
            p.minP = 0
        }
        return p
    }

    /// Checks every field and combination as vLLM 0.4's `SamplingParams._verify_args`, then
    /// `_verify_beam_search` or `_verify_non_beam_search` and `_verify_greedy_sampling` do, with
    /// the same comparisons on the same double-precision values, and accepts what they accept:
    /// an empty stop string, any stop token id, beam search at a temperature up to ``epsilon``
    /// and a top_p from 1 − ``epsilon``, and without beam search a length_penalty within
    /// ``epsilon`` of 1. Beyond vLLM: `logprobs` is bounded by ``maxLogprobs``, and values that
    /// are not finite, or that sampling's Float32 would turn into infinity or a zero divisor (a
    /// temperature over 3.4e38, a repetition_penalty below 1e-45), are refused. The error names
    /// the JSON key of the first offender.
    ///
    /// Single fields are checked before the mode rules, so a request with an out-of-range value
    /// is told about that value rather than about a combination it takes part in.
    public func validate() throws(SamplingError) {
        if let maxTokens { try Self.requireMaxTokens(maxTokens) }
        try Self.require(n >= 1, "n", "must be at least 1, got \(n)")
        if let bestOf {
            try Self.require(bestOf >= n, "best_of", "must be at least n (\(n)), got \(bestOf)")
        }
        try Self.range(presencePenalty, "presence_penalty", -2 ... 2, "[-2, 2]")
        try Self.range(frequencyPenalty, "frequency_penalty", -2 ... 2, "[-2, 2]")
        try Self.require(repetitionPenalty > 0 && repetitionPenalty <= 2 && Float(repetitionPenalty) > 0,
                         "repetition_penalty", "must be in (0, 2], got \(repetitionPenalty)")
        try Self.require(temperature >= 0 && Float(temperature).isFinite,
                         "temperature", "must be a finite number >= 0, got \(temperature)")
        try Self.require(topP.isFinite && topP > 0 && topP <= 1, "top_p", "must be in (0, 1], got \(topP)")
        try Self.require(topK == -1 || topK >= 1, "top_k", "must be -1 (off) or at least 1, got \(topK)")
        try Self.range(minP, "min_p", 0 ... 1, "[0, 1]")
        try Self.require(lengthPenalty.isFinite, "length_penalty", "must be a finite number, got \(lengthPenalty)")
        if let logprobs {
            try Self.require(logprobs >= 0 && logprobs <= Self.maxLogprobs,
                             "logprobs", "must be in [0, \(Self.maxLogprobs)], got \(logprobs)")
        }

        if useBeamSearch {
            // The beam width is best_of; one beam is greedy decoding, which has its own mode.
            try Self.require(effectiveBestOf > 1, bestOf == nil ? "n" : "best_of",
                             "beam search needs a beam width (best_of, default n) above 1, got \(effectiveBestOf)")
            try Self.require(temperature <= Self.epsilon, "temperature",
                             "beam search ranks unscaled log-probabilities: temperature must be 0 (at most 1e-5), got \(temperature)")
            try Self.require(topP >= 1 - Self.epsilon, "top_p",
                             "beam search does not filter: top_p must be 1 (at least 1 - 1e-5), got \(topP)")
            try Self.require(topK == -1, "top_k", "beam search does not filter: top_k must be -1, got \(topK)")
        } else {
            try Self.require(lengthPenalty >= 1 - Self.epsilon && lengthPenalty <= 1 + Self.epsilon, "length_penalty",
                             "only beam search uses a length penalty: it must be 1 (within 1e-5), got \(lengthPenalty)")
            try Self.require(earlyStopping == .heuristic, "early_stopping",
                             "only beam search stops early: early_stopping must be false")
            if isGreedy {
                // Every greedy candidate would be the same sequence.
                try Self.require(effectiveBestOf == 1, bestOf == nil ? "n" : "best_of",
                                 "greedy decoding (temperature 0) gives one sequence: best_of must be 1, got \(effectiveBestOf)")
            }
        }
    }

    /// `max_tokens` of `count`: vLLM's `max_tokens must be at least 1`.
    fileprivate static func requireMaxTokens(_ count: Int) throws(SamplingError) {
        try require(count >= 1, "max_tokens", "must be at least 1, got \(count)")
    }

    private static func require(_ condition: Bool, _ field: String, _ reason: @autoclosure () -> String) throws(SamplingError) {
        if !condition { throw SamplingError.invalidParameter(field: field, reason: reason()) }
    }

    private static func range(_ value: Double, _ field: String, _ range: ClosedRange<Double>, _ text: String) throws(SamplingError) {
        try require(range.contains(value), field, "must be in \(text), got \(value)")
    }

    /// These parameters, checked by ``validate()``: the form ``GenerationSetup`` takes.
    public func validated() throws(SamplingError) -> Validated {
        try validate()
        return Validated(checked: self)
    }

    /// Sampling parameters that passed ``SamplingParameters/validate()``. Only
    /// ``SamplingParameters/validated()`` makes one (and ``withMaxTokens(_:)`` one from another),
    /// so what takes it — ``GenerationSetup``, and through it ``generate(model:promptLogits:detokenizer:setup:onEvent:)``
    /// — does not check again: a request is validated once, where it enters. Its fields read as
    /// the parameters' own (`validated.n`).
    @dynamicMemberLookup
    public struct Validated: Sendable, Equatable {
        /// The parameters.
        public let parameters: SamplingParameters

        fileprivate init(checked parameters: SamplingParameters) {
            self.parameters = parameters
        }

        public subscript<Value>(dynamicMember keyPath: KeyPath<SamplingParameters, Value>) -> Value {
            parameters[keyPath: keyPath]
        }

        /// The same parameters with `max_tokens` set to `count`, once the prompt is known (how
        /// vLLM's chat server resolves a missing `max_tokens`, before its `SamplingParams` check).
        /// - Throws: ``SamplingError/invalidParameter(field:reason:)`` for `max_tokens` when
        ///   `count` is below 1.
        public func withMaxTokens(_ count: Int) throws(SamplingError) -> Validated {
            try SamplingParameters.requireMaxTokens(count)
            var changed = parameters
            changed.maxTokens = count
            return Validated(checked: changed)
        }
    }
}
