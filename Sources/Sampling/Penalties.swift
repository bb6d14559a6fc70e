/// `repetition_penalty` (CTRL, Keskar et al. 2019, as Hugging Face and vLLM apply it): every id
/// seen in the prompt or the output has its logit divided by the penalty when positive and
/// multiplied by it when not, so a penalty above 1 always makes the token less likely.
public struct RepetitionPenalty: LogitProcessor {
    /// The factor, in (0, 2]; 1 leaves the logits unchanged.
    public var penalty: Float
    private var marks = TokenMarks()

    /// A processor applying `penalty`.
    public init(penalty: Float) { self.penalty = penalty }

    public mutating func process(_ logits: inout [Float], history: TokenHistory) {
        guard penalty != 1 else { return }
        let r = penalty
        logits.withUnsafeMutableBufferPointer { l in
            marks.forEachDistinct(history.prompt, history.output, size: l.count) { id in
                l[id] = l[id] > 0 ? l[id] / r : l[id] * r
            }
        }
    }
}

/// `frequency_penalty` (OpenAI's definition): subtracts the penalty once per occurrence of the id
/// in the generated tokens; the prompt does not count.
public struct FrequencyPenalty: LogitProcessor {
    /// The amount per occurrence, in [-2, 2].
    public var penalty: Float
    private var counts: [Int32] = []

    /// A processor applying `penalty`.
    public init(penalty: Float) { self.penalty = penalty }

    public mutating func process(_ logits: inout [Float], history: TokenHistory) {
        guard penalty != 0, !history.output.isEmpty else { return }
        let f = penalty
        if counts.count < logits.count { counts = [Int32](repeating: 0, count: logits.count) }
        logits.withUnsafeMutableBufferPointer { l in
            counts.withUnsafeMutableBufferPointer { c in
                for id in history.output where id >= 0 && id < l.count { c[id] += 1 }
                // The second visit applies each distinct id's total once and clears it.
                for id in history.output where id >= 0 && id < l.count && c[id] != 0 {
                    l[id] -= f * Float(c[id])
                    c[id] = 0
                }
            }
        }
    }
}

/// `presence_penalty` (OpenAI's definition): subtracts the penalty once from every id that occurs
/// in the generated tokens, however often; the prompt does not count.
public struct PresencePenalty: LogitProcessor {
    /// The amount, in [-2, 2].
    public var penalty: Float
    private var marks = TokenMarks()

    /// A processor applying `penalty`.
    public init(penalty: Float) { self.penalty = penalty }

    public mutating func process(_ logits: inout [Float], history: TokenHistory) {
        guard penalty != 0, !history.output.isEmpty else { return }
        let p = penalty
        logits.withUnsafeMutableBufferPointer { l in
            marks.forEachDistinct(history.output, [], size: l.count) { id in l[id] -= p }
        }
    }
}

/// `temperature`: divides every logit by T (vLLM divides rather than multiplying by 1/T, and so
/// does this, so that results match to the last bit). Greedy and beam search run with T = 1.
public struct Temperature: LogitProcessor {
    /// T > 0.
    public var temperature: Float

    /// A processor dividing by `temperature`.
    public init(temperature: Float) { self.temperature = temperature }

    public mutating func process(_ logits: inout [Float], history: TokenHistory) {
        guard temperature != 1, temperature > 0 else { return }
        let t = VectorMath.Vector(repeating: temperature)
        let scalar = temperature
        logits.withUnsafeMutableBufferPointer { l in
            guard let base = l.baseAddress else { return }
            var i = 0
            while i + VectorMath.width <= l.count {
                let raw = UnsafeMutableRawPointer(base + i)
                raw.storeBytes(of: raw.loadUnaligned(as: VectorMath.Vector.self) / t, as: VectorMath.Vector.self)
                i += VectorMath.width
            }
            while i < l.count {
                l[i] /= scalar
                i += 1
            }
        }
    }
}
