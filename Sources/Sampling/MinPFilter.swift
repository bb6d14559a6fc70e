/// `min_p`: drops the tokens whose probability is below `min_p` times the most likely one's.
///
/// The ratio of two probabilities does not depend on the normaliser, so the test is
/// `exp(logit - max logit) >= min_p`, with no softmax over the vocabulary.
public struct MinPFilter: CandidateFilter {
    /// min_p in [0, 1]; 0 keeps everything.
    public var minP: Float
    private var scratch: [Candidate] = []
    private var gather = Gather()

    /// A filter with the given `min_p`.
    public init(minP: Float) { self.minP = minP }

    public mutating func apply(to candidates: inout CandidateSet) {
        guard minP > 0, candidates.count > 1 else { return }
        let minP = self.minP
        let top = candidates.maximum
        if candidates.isAll {
            scratch.removeAll(keepingCapacity: true)
            candidates.logits.withUnsafeBufferPointer { values in
                // Only logits near or above log(min_p) below the top need the exact test.
                let cut = top + Float(VectorMath.log(Double(minP))) - 1e-3
                gather.collect(values, into: &scratch, { v in
                    let near = v .>= cut
                    guard any(near) else { return near }
                    return near .& (VectorMath.exp(v - top) .>= minP)
                }, scalar: { VectorMath.exp($0 - top) >= minP })
            }
            candidates.replace(with: &scratch, ranked: false)
        } else {
            candidates.entries.removeAll { VectorMath.exp($0.logit - top) < minP }
        }
    }
}
