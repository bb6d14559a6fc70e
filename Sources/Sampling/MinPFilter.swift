/// `min_p`: drops the tokens whose probability is below `min_p` times the most likely one's.
///
/// The ratio of two probabilities does not depend on the normaliser, so the test is
/// `exp(logit - max logit) >= min_p`, with no softmax over the vocabulary.
public struct MinPFilter: CandidateFilter {
    /// min_p in [0, 1]; 0 keeps everything.
    public var minP: Float
    private var scratch: [Candidate] = []

    public init(minP: Float) { self.minP = minP }

    public mutating func apply(to candidates: inout CandidateSet) {
        guard minP > 0, candidates.count > 1 else { return }
        let minP = self.minP
        let top = candidates.maximum
        if candidates.isAll {
            scratch.removeAll(keepingCapacity: true)
            candidates.logits.withUnsafeBufferPointer { values in
                guard let base = values.baseAddress else { return }
                let n = values.count, w = VectorMath.width
                // Only logits near or above log(min_p) below the top need the exact test.
                let cut = top + Float(VectorMath.log(Double(minP))) - 1e-3
                var i = 0
                while i + w <= n {
                    let v = VectorMath.load(base, i)
                    if any(v .>= cut) {
                        for lane in 0 ..< w where VectorMath.exp(v[lane] - top) >= minP {
                            scratch.append(Candidate(id: i + lane, logit: v[lane]))
                        }
                    }
                    i += w
                }
                while i < n {
                    if VectorMath.exp(base[i] - top) >= minP { scratch.append(Candidate(id: i, logit: base[i])) }
                    i += 1
                }
            }
            candidates.replace(with: &scratch, ranked: false)
        } else {
            candidates.entries.removeAll { VectorMath.exp($0.logit - top) < minP }
        }
    }
}
