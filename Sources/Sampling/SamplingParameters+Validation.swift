/// The rules of `shared/notes/generate-api.md` (vLLM 0.4.x's `SamplingParams._verify_*`), and the
/// values the generation loops actually use once `best_of` is resolved and greedy mode has
/// switched the filters off.
extension SamplingParameters {
    /// Below this temperature decoding is greedy (vLLM's `_SAMPLING_EPS`).
    public static let greedyTemperature: Float = 1e-5

    /// vLLM 0.4's `_SAMPLING_EPS`, the tolerance of its float checks: beam search takes a
    /// temperature up to it and a top_p down to 1 minus it, and plain sampling a length_penalty
    /// within it of 1.
    public static let epsilon: Double = 1e-5

    /// A bound vLLM computes in Double, rounded to Float32 as the request's value was: rounding
    /// keeps order, so every value vLLM accepts is accepted (`top_p: 0.99999`,
    /// `length_penalty: 1.00001`); only a value within half a Float32 step of the bound could
    /// be accepted where vLLM refuses it.
    private static func bound(_ value: Double) -> Float { Float(value) }

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
    /// `_verify_beam_search` or `_verify_non_beam_search` and `_verify_greedy_sampling` do, and
    /// accepts what they accept: an empty stop string, any stop token id, beam search at a
    /// temperature up to ``epsilon`` and a top_p from 1 − ``epsilon``, and without beam search a
    /// length_penalty within ``epsilon`` of 1. Beyond vLLM: `logprobs` is bounded by
    /// ``maxLogprobs``, and values that are not finite are refused (JSON cannot carry them; a
    /// Float32 overflow turns into them). The error names the JSON key of the first offender.
    ///
    /// Single fields are checked before the mode rules, so a request with an out-of-range value
    /// is told about that value rather than about a combination it takes part in.
    public func validate() throws(SamplingError) {
        try Self.require(maxTokens >= 1, "max_tokens", "must be at least 1, got \(maxTokens)")
        try Self.require(n >= 1, "n", "must be at least 1, got \(n)")
        if let bestOf {
            try Self.require(bestOf >= n, "best_of", "must be at least n (\(n)), got \(bestOf)")
        }
        try Self.range(presencePenalty, "presence_penalty", -2 ... 2, "[-2, 2]")
        try Self.range(frequencyPenalty, "frequency_penalty", -2 ... 2, "[-2, 2]")
        try Self.require(repetitionPenalty.isFinite && repetitionPenalty > 0 && repetitionPenalty <= 2,
                         "repetition_penalty", "must be in (0, 2], got \(repetitionPenalty)")
        try Self.require(temperature.isFinite && temperature >= 0,
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
            try Self.require(temperature <= Self.bound(Self.epsilon), "temperature",
                             "beam search ranks unscaled log-probabilities: temperature must be 0 (at most 1e-5), got \(temperature)")
            try Self.require(topP >= Self.bound(1 - Self.epsilon), "top_p",
                             "beam search does not filter: top_p must be 1 (at least 1 - 1e-5), got \(topP)")
            try Self.require(topK == -1, "top_k", "beam search does not filter: top_k must be -1, got \(topK)")
        } else {
            try Self.require(lengthPenalty >= Self.bound(1 - Self.epsilon) && lengthPenalty <= Self.bound(1 + Self.epsilon), "length_penalty",
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

    private static func require(_ condition: Bool, _ field: String, _ reason: @autoclosure () -> String) throws(SamplingError) {
        if !condition { throw SamplingError.invalidParameter(field: field, reason: reason()) }
    }

    private static func range(_ value: Float, _ field: String, _ range: ClosedRange<Float>, _ text: String) throws(SamplingError) {
        try require(value.isFinite && range.contains(value), field, "must be in \(text), got \(value)")
    }
}
