/// A token that survives the filters, with its processed logit.
public struct Candidate: Sendable, Equatable {
    /// The logit after penalties and temperature.
    public var logit: Float
    /// The token id (32 bits: the set is copied and sorted, and half the size is half the time).
    public var id: Int32

    /// A candidate for token `id` with its processed `logit`.
    public init(id: Int, logit: Float) {
        self.id = Int32(truncatingIfNeeded: id)
        self.logit = logit
    }

    /// The ranking every filter uses: higher logit first, and among equal logits the lower id,
    /// so that ties are broken the same way on every run.
    @inline(__always)
    static func ranksBefore(_ a: Candidate, _ b: Candidate) -> Bool {
        a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
    }
}

/// The tokens still allowed after the filters applied so far: either the whole vocabulary (the
/// processed logit vector itself, never copied) or a compact list of survivors.
///
/// Starting from "everything" and only materialising survivors lets a top-k of 40 over a 128k
/// vocabulary cost one scan, and lets the later filters and the draw run over 40 entries.
public struct CandidateSet {
    /// The processed logits of the whole vocabulary.
    public private(set) var logits: [Float] = []
    /// Whether every token of ``logits`` is still a candidate.
    public private(set) var isAll = true
    /// The survivors when not ``isAll``.
    var entries: [Candidate] = []
    /// Whether ``entries`` is in ``Candidate/ranksBefore(_:_:)`` order.
    var isRanked = false

    /// An empty set (reset it with logits before filtering).
    public init() {}

    /// A set holding every token of `logits`.
    public init(logits: [Float]) { reset(logits: logits) }

    /// Starts over with every token of `logits` (kept by reference: the caller must not mutate
    /// its array until ``release()``, or the array is copied).
    public mutating func reset(logits: [Float]) {
        self.logits = logits
        isAll = true
        entries.removeAll(keepingCapacity: true)
        isRanked = false
    }

    /// Drops the reference to the logits, so the caller's next in-place write does not copy them.
    public mutating func release() {
        logits = []
        entries.removeAll(keepingCapacity: true)
        isAll = true
    }

    /// The number of candidates.
    public var count: Int { isAll ? logits.count : entries.count }

    /// The surviving token ids in increasing order (for inspection; allocates).
    public var tokens: [Int] {
        isAll ? Array(logits.indices) : entries.map { Int($0.id) }.sorted()
    }

    /// The surviving candidates, most likely first (for inspection; allocates).
    public var ranked: [Candidate] {
        var list = isAll ? logits.enumerated().map { Candidate(id: $0.offset, logit: $0.element) } : entries
        list.sort(by: Candidate.ranksBefore)
        return list
    }

    /// Turns "everything" into an explicit list (small vocabularies and tests).
    mutating func materialise() {
        guard isAll else { return }
        entries.removeAll(keepingCapacity: true)
        entries.reserveCapacity(logits.count)
        for (i, l) in logits.enumerated() { entries.append(Candidate(id: i, logit: l)) }
        isAll = false
        isRanked = false
    }

    /// Puts ``entries`` in rank order, in place and without allocating.
    mutating func rank() {
        materialise()
        guard !isRanked else { return }
        entries.withUnsafeMutableBufferPointer { CandidateSort.sort($0) }
        isRanked = true
    }

    /// Replaces the candidates with `list` (which the caller then reuses as scratch).
    mutating func replace(with list: inout [Candidate], ranked: Bool) {
        swap(&entries, &list)
        list.removeAll(keepingCapacity: true)
        isAll = false
        isRanked = ranked
    }

    /// Keeps the first `count` entries.
    mutating func truncate(to count: Int) {
        guard !isAll, count < entries.count else { return }
        entries.removeLast(entries.count - max(0, count))
    }

    /// The largest logit among the candidates (`-inf` when empty).
    var maximum: Float {
        if isAll { return logits.withUnsafeBufferPointer { VectorMath.argmax($0).value } }
        if isRanked { return entries.first?.logit ?? -.infinity }
        return entries.reduce(-Float.infinity) { max($0, $1.logit) }
    }
}

/// Heapsort into rank order: in place, no allocation (the standard library's sort allocates a
/// merge buffer), O(n log n) even for adversarial input, and never out of bounds even if NaN
/// makes the comparisons inconsistent.
enum CandidateSort {
    static func sort(_ a: UnsafeMutableBufferPointer<Candidate>) {
        let n = a.count
        guard n > 1 else { return }
        // A heap whose root ranks last, so that swapping it to the end builds rank order.
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 * root + 1
                if child >= end { return }
                if child + 1 < end, Candidate.ranksBefore(a[child], a[child + 1]) { child += 1 }
                if Candidate.ranksBefore(a[root], a[child]) {
                    a.swapAt(root, child)
                    root = child
                } else {
                    return
                }
            }
        }
        var start = n / 2 - 1
        while start >= 0 {
            siftDown(start, n)
            start -= 1
        }
        var end = n - 1
        while end > 0 {
            a.swapAt(0, end)
            siftDown(0, end)
            end -= 1
        }
    }
}

/// A step of the filter chain: narrows a ``CandidateSet``. Like ``LogitProcessor``, conformers
/// keep their own scratch space, so a step allocates nothing once warmed up.
public protocol CandidateFilter {
    /// Removes the candidates this filter rejects.
    mutating func apply(to candidates: inout CandidateSet)
}
