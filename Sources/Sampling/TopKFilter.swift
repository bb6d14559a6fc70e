/// `top_k`: keeps the tokens whose logit is at least the k-th largest. As in vLLM, every token
/// tied with the k-th value survives, so more than k tokens can remain.
public struct TopKFilter: CandidateFilter {
    /// k ≥ 1; -1 (or any k not below the candidate count) keeps everything.
    public var k: Int
    private var selection = TopSelection()
    private var buckets = DistanceBuckets()
    private var scratch: [Candidate] = []
    private var gather = Gather()
    /// Up to this k a heap scan finds the k-th value; above it, the distance buckets do.
    static let heapLimit = 1024

    /// A filter keeping the `k` most likely tokens (and ties).
    public init(k: Int) { self.k = k }

    public mutating func apply(to candidates: inout CandidateSet) {
        guard k >= 1, k < candidates.count else { return }
        if candidates.isAll {
            let k = self.k
            let useHeap = k <= Self.heapLimit
            candidates.logits.withUnsafeBufferPointer { values in
                if useHeap {
                    let kth = selection.kthLargest(values, k: k)
                    scratch.removeAll(keepingCapacity: true)
                    gather.collect(values, into: &scratch, atLeast: kth)
                    scratch.withUnsafeMutableBufferPointer { CandidateSort.sort($0) }
                } else {
                    buckets.largest(values, k: k, into: &scratch)
                }
            }
            candidates.replace(with: &scratch, ranked: useHeap)
        } else {
            candidates.rank()
            let kth = candidates.entries[k - 1].logit
            var keep = k
            while keep < candidates.entries.count, candidates.entries[keep].logit >= kth { keep += 1 }
            candidates.truncate(to: keep)
        }
    }
}
