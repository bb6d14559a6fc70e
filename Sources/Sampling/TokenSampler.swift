/// The token a sampling step chose.
public struct SampledToken: Sendable, Equatable {
    /// Its id.
    public var token: Int
    /// Its log-probability under the final distribution (after every processor and filter).
    public var logprob: Float
}

/// One request's logit pipeline, in vLLM 0.4's order: repetition, frequency and presence
/// penalties, temperature, top-k, top-p, min-p, then a draw from the renormalised distribution
/// (or the argmax, when greedy).
///
/// The sampler owns every buffer a step needs, so after the first step of a request nothing is
/// allocated: it is used by one generation loop, one sequence at a time. The logit vector is
/// rewritten in place (the model overwrites it on the next decode anyway).
public struct TokenSampler {
    /// The parameters in force (``SamplingParameters/effective``).
    public let parameters: SamplingParameters
    private var repetition: RepetitionPenalty
    private var frequency: FrequencyPenalty
    private var presence: PresencePenalty
    private var temperature: Temperature
    private var topK: TopKFilter
    private var topP: TopPFilter
    private var minP: MinPFilter
    private var candidates = CandidateSet()
    private var probabilities: [Float] = []
    private var weights: [Float] = []
    private var selection = TopSelection()
    private var scratch: [Candidate] = []
    private var gather = Gather()
    /// The most likely alternatives of the last step, most likely first (filled when asked for).
    public private(set) var alternatives: [TokenAlternative] = []

    /// A sampler for validated `parameters` (used through their ``SamplingParameters/effective``
    /// form), its processors in Float32 as vLLM's are.
    public init(parameters: SamplingParameters) {
        let p = parameters.effective
        self.parameters = p
        repetition = RepetitionPenalty(penalty: Float(p.repetitionPenalty))
        frequency = FrequencyPenalty(penalty: Float(p.frequencyPenalty))
        presence = PresencePenalty(penalty: Float(p.presencePenalty))
        // Greedy and beam search rank unscaled logits (vLLM uses T = 1 for them).
        temperature = Temperature(temperature: p.isGreedy ? 1 : Float(p.temperature))
        topK = TopKFilter(k: p.topK)
        topP = TopPFilter(p: Float(p.topP))
        minP = MinPFilter(minP: Float(p.minP))
    }

    /// Chooses the next token from `logits` (rewritten in place).
    ///
    /// A random draw takes exactly one value from `generator`; a greedy step takes none. The
    /// draw is by inverse CDF: u·Z with u from ``Xoshiro256StarStar/nextUnitInterval()``, walking
    /// the candidates in a fixed order (token order over the whole vocabulary, rank order after
    /// a top-k, and the filters' own order otherwise) until the cumulative weight exceeds it.
    /// `alternativeCount` most likely tokens are left in ``alternatives``. Empty logits give
    /// token 0 with log-probability `-inf`.
    public mutating func sample(
        _ logits: inout [Float], history: TokenHistory, using generator: inout Xoshiro256StarStar,
        alternativeCount: Int = 0
    ) -> SampledToken {
        // No vocabulary, nothing to choose: a caller bug, answered without trapping (the loops
        // check the model's logit count before they get here).
        guard !logits.isEmpty else { return SampledToken(token: 0, logprob: -.infinity) }
        applyProcessors(&logits, history: history)
        if parameters.isGreedy {
            return greedy(logits, alternativeCount: alternativeCount)
        }
        candidates.reset(logits: logits)
        topK.apply(to: &candidates)
        topP.apply(to: &candidates)
        minP.apply(to: &candidates)
        defer { candidates.release() }
        guard candidates.count > 0 else { return greedy(logits, alternativeCount: alternativeCount) }

        let u = generator.nextUnitInterval()
        let top = candidates.maximum
        var chosen: Candidate
        var total: Double
        if candidates.isAll {
            if probabilities.count < logits.count { probabilities = [Float](repeating: 0, count: logits.count) }
            let (index, sum) = logits.withUnsafeBufferPointer { values in
                probabilities.withUnsafeMutableBufferPointer { probs -> (Int, Double) in
                    let sum = VectorMath.exponentiate(values, maximum: top, into: probs)
                    let drawn = VectorMath.draw(UnsafeBufferPointer(rebasing: probs[0 ..< values.count]), target: u * sum)
                    return (drawn, sum)
                }
            }
            total = sum
            chosen = Candidate(id: index, logit: logits[index])
        } else {
            // The survivors' logits side by side, so their weights come from the vector kernel
            // once, and the draw walks them in the set's order.
            let count = candidates.entries.count
            if weights.count < count { weights = [Float](repeating: 0, count: max(count, 1024)) }
            let index = candidates.entries.withUnsafeBufferPointer { entries in
                weights.withUnsafeMutableBufferPointer { w -> (Int, Double) in
                    for i in 0 ..< count { w[i] = entries[i].logit }
                    let slice = UnsafeMutableBufferPointer(rebasing: w[0 ..< count])
                    let sum = VectorMath.exponentiate(UnsafeBufferPointer(slice), maximum: top, into: slice)
                    return (VectorMath.draw(UnsafeBufferPointer(slice), target: u * sum), sum)
                }
            }
            total = index.1
            chosen = candidates.entries[min(index.0, count - 1)]
        }
        let logTotal = VectorMath.log(total)
        fillAlternatives(alternativeCount, top: top, logTotal: logTotal)
        return SampledToken(token: Int(chosen.id), logprob: Self.logprob(chosen.logit, top, logTotal))
    }

    /// The `count` most likely next tokens and their log-probabilities after the processors and
    /// filters (what beam search expands), most likely first, in ``alternatives``.
    public mutating func mostLikely(_ logits: inout [Float], history: TokenHistory, count: Int) {
        applyProcessors(&logits, history: history)
        candidates.reset(logits: logits)
        if !parameters.isGreedy {
            topK.apply(to: &candidates)
            topP.apply(to: &candidates)
        }
        minP.apply(to: &candidates)
        defer { candidates.release() }
        let top = candidates.maximum
        let total = candidates.isAll
            ? logits.withUnsafeBufferPointer { VectorMath.sumExp($0, maximum: top) }
            : candidates.entries.reduce(0.0) { $0 + Double(VectorMath.exp($1.logit - top)) }
        fillAlternatives(count, top: top, logTotal: VectorMath.log(total))
    }

    private mutating func applyProcessors(_ logits: inout [Float], history: TokenHistory) {
        repetition.process(&logits, history: history)
        frequency.process(&logits, history: history)
        presence.process(&logits, history: history)
        temperature.process(&logits, history: history)
    }

    private mutating func greedy(_ logits: [Float], alternativeCount: Int) -> SampledToken {
        let (index, top, total) = logits.withUnsafeBufferPointer { values in
            let (i, m) = VectorMath.argmax(values)
            return (i, m, VectorMath.sumExp(values, maximum: m))
        }
        let logTotal = VectorMath.log(total)
        if alternativeCount > 0 {
            candidates.reset(logits: logits)
            fillAlternatives(alternativeCount, top: top, logTotal: logTotal)
            candidates.release()
        } else {
            alternatives.removeAll(keepingCapacity: true)
        }
        return SampledToken(token: index, logprob: Self.logprob(logits[index], top, logTotal))
    }

    /// The `count` best candidates of ``candidates`` into ``alternatives``.
    private mutating func fillAlternatives(_ count: Int, top: Float, logTotal: Double) {
        alternatives.removeAll(keepingCapacity: true)
        guard count > 0, candidates.count > 0 else { return }
        if candidates.isAll {
            let k = min(count, candidates.count)
            candidates.logits.withUnsafeBufferPointer { values in
                let kth = selection.kthLargest(values, k: k)
                scratch.removeAll(keepingCapacity: true)
                gather.collect(values, into: &scratch, atLeast: kth)
            }
            scratch.withUnsafeMutableBufferPointer { CandidateSort.sort($0) }
            for c in scratch.prefix(k) where c.logit > -.infinity {
                alternatives.append(TokenAlternative(token: Int(c.id), logprob: Self.logprob(c.logit, top, logTotal)))
            }
        } else {
            candidates.rank()
            for c in candidates.entries.prefix(count) where c.logit > -.infinity {
                alternatives.append(TokenAlternative(token: Int(c.id), logprob: Self.logprob(c.logit, top, logTotal)))
            }
        }
    }

    @inline(__always)
    private static func logprob(_ logit: Float, _ top: Float, _ logTotal: Double) -> Float {
        Float(Double(logit - top) - logTotal)
    }
}
