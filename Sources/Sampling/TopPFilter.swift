/// `top_p` (nucleus sampling) on the distribution the earlier filters left, renormalised.
///
/// vLLM's rule: sort ascending, take the softmax's cumulative sum, drop the tokens whose sum is
/// at most 1 - top_p; the most likely token always survives. Among equal probabilities the
/// lower id counts as more likely (vLLM leaves that order to `torch.sort`). Small sets follow the
/// rule literally in `Float`; the whole vocabulary is handled by ``DistanceBuckets`` with the
/// equivalent "mass before the token is below top_p" in `Double`, which sorts only the tokens
/// at the boundary.
public struct TopPFilter: CandidateFilter {
    /// top_p in (0, 1]; 1 keeps everything.
    public var p: Float
    /// Sets larger than this that are still the whole vocabulary go through the buckets.
    var exhaustiveLimit: Int
    private var buckets = DistanceBuckets()
    private var scratch: [Candidate] = []
    private var values: [Float] = []
    /// Unranked lists longer than this go through the buckets rather than a sort.
    static let sortLimit = 256

    /// A filter with the given `top_p`.
    public init(p: Float) { self.init(p: p, exhaustiveLimit: 4096) }

    init(p: Float, exhaustiveLimit: Int) {
        self.p = p
        self.exhaustiveLimit = exhaustiveLimit
    }

    public mutating func apply(to candidates: inout CandidateSet) {
        guard p < 1, candidates.count > 1 else { return }
        let p = self.p
        if candidates.isAll, candidates.count > exhaustiveLimit {
            candidates.logits.withUnsafeBufferPointer { buckets.nucleus($0, topP: p, into: &scratch) }
            candidates.replace(with: &scratch, ranked: false)
            return
        }
        if !candidates.isAll, !candidates.isRanked, candidates.count > Self.sortLimit {
            // A large unranked list (a top-k of thousands): the buckets run over its logits
            // instead of a sort, and their indices map back to the list's ids. Ties cannot
            // straddle buckets, and within one bucket the list's order is rank order, so the
            // lower id still counts as the more likely.
            let count = candidates.entries.count
            if values.count < count { values = [Float](repeating: 0, count: count) }
            for (i, c) in candidates.entries.enumerated() { values[i] = c.logit }
            values.withUnsafeBufferPointer {
                buckets.nucleus(UnsafeBufferPointer(rebasing: $0[0 ..< count]), topP: p, into: &scratch)
            }
            for i in scratch.indices { scratch[i].id = candidates.entries[Int(scratch[i].id)].id }
            candidates.replace(with: &scratch, ranked: false)
            return
        }
        candidates.rank()
        let kept = candidates.entries.withUnsafeBufferPointer { e -> Int in
            let top = e[0].logit
            var total: Double = 0
            for c in e { total += Double(VectorMath.exp(c.logit - top)) }
            let z = Float(total)
            let limit = 1 - p
            var cumulative: Float = 0
            var kept = e.count
            // Ascending order is the ranked list backwards; the top entry is never dropped.
            while kept > 1 {
                cumulative += VectorMath.exp(e[kept - 1].logit - top) / z
                if cumulative <= limit { kept -= 1 } else { break }
            }
            return kept
        }
        candidates.truncate(to: kept)
    }
}
