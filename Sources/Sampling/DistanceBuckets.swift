/// Selection over a whole vocabulary without sorting it: tokens are bucketed by their distance
/// from the largest logit, the bucket where the selection's boundary falls is found from per-bucket
/// counts or probability mass, and only that bucket is sorted.
///
/// The mapping from logit to bucket is monotone, so every token in a bucket before the boundary
/// bucket is kept, every token after it dropped, and equal logits share a bucket (ties at the
/// boundary are decided inside one sorted bucket). A first vector pass measures how far below the
/// maximum the selection can reach (the count or mass within 2, 4, 8, ... logits of it); buckets
/// then span only that reach, and tokens beyond it, usually almost all of a real vocabulary, are
/// never bucketed. When no reach suffices, buckets span the logit range up to 64 below the
/// maximum and anything further shares the last bucket.
struct DistanceBuckets {
    static let bucketCount = 4096
    /// The reaches tried, in logits below the maximum.
    private static let reaches: [Float] = [2, 4, 5, 6, 7, 8, 10, 14]

    // One extra slot: tokens beyond the reach are counted there and never selected.
    private var mass = [Double](repeating: 0, count: bucketCount + 1)
    private var counts = [Int32](repeating: 0, count: bucketCount + 1)
    private var band: [Candidate] = []
    private var near: [Candidate] = []
    private var gather = Gather()
    /// `exp(logit - max)` of every token, from the last ``nucleus`` call.
    private(set) var probabilities: [Float] = []

    /// The bucket geometry of one vector and reach.
    private struct Geometry {
        var maximum: Float
        var scale: Float
        /// Tokens further than this below the maximum go to the spare slot (`bucketCount`).
        var reach: Float

        init(maximum: Float, minimum: Float, reach: Float) {
            self.maximum = maximum
            self.reach = reach
            let range = min(maximum - minimum, reach, 64)
            scale = range > 0 && range.isFinite ? Float(DistanceBuckets.bucketCount - 1) / range : 0
        }

        /// The bucket of a logit; NaN and tokens beyond the reach land in the spare slot.
        @inline(__always)
        func bucket(_ v: Float) -> Int {
            let d = maximum - v
            guard d <= reach else { return DistanceBuckets.bucketCount }
            let scaled = d * scale
            guard scaled < Float(DistanceBuckets.bucketCount - 1) else { return DistanceBuckets.bucketCount - 1 }
            return VectorMath.lowerInteger(scaled > 0 ? scaled : 0)
        }

        @inline(__always)
        func buckets(_ v: VectorMath.Vector) -> SIMD16<Int32> {
            let last = Float(DistanceBuckets.bucketCount - 1)
            let d = VectorMath.Vector(repeating: maximum) - v
            var scaled = d * scale
            scaled.replace(with: last, where: .!(scaled .< last))
            scaled.replace(with: 0, where: scaled .< 0)
            var b = VectorMath.lowerIntegers(scaled)
            b.replace(with: Int32(DistanceBuckets.bucketCount), where: .!(d .<= reach))
            return b
        }
    }

    /// The tokens vLLM's top-p keeps: walking from the most likely, a token survives while the
    /// probability mass before it is below `topP` (equivalently, its ascending cumulative sum is
    /// above 1 - top_p); the most likely token always survives. Sums are in `Double`.
    mutating func nucleus(_ logits: UnsafeBufferPointer<Float>, topP: Float, into out: inout [Candidate]) {
        out.removeAll(keepingCapacity: true)
        guard !logits.isEmpty else { return }
        let n = logits.count
        let (top, bottom) = VectorMath.extrema(logits)
        if probabilities.count < n { probabilities = [Float](repeating: 0, count: n) }
        let total = probabilities.withUnsafeMutableBufferPointer {
            VectorMath.exponentiate(logits, maximum: top, into: UnsafeMutableBufferPointer(rebasing: $0[0 ..< n]))
        }
        let target = Double(topP) * total
        // Reaches are tried from an estimate on a sample of blocks; the near tokens' exact mass
        // confirms the reach holds the boundary, or the next reach is tried.
        let sampled = probabilities.withUnsafeBufferPointer { Self.sampleWithin(logits, top: top, weights: $0) }
        var index = Self.firstReach(sampled) { $0 * total >= target * 1.02 }
        while true {
            let g = Geometry(maximum: top, minimum: bottom, reach: index < Self.reaches.count ? Self.reaches[index] : .infinity)
            gatherNear(logits, g)
            var nearMass: Double = 0
            mass.withUnsafeMutableBufferPointer { mass in
                probabilities.withUnsafeBufferPointer { probs in
                    for c in near {
                        let p = Double(probs[Int(c.id)])
                        mass[g.bucket(c.logit)] += p
                        nearMass += p
                    }
                }
            }
            if nearMass < target, g.reach.isFinite {
                mass.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                index += 1
                continue
            }
            var before: Double = 0
            var boundary = Self.bucketCount - 1
            for b in 0 ..< Self.bucketCount {
                if before + mass[b] >= target {
                    boundary = b
                    break
                }
                before += mass[b]
            }
            split(g, boundary: boundary, into: &out)
            // Inside the boundary bucket, most likely first, while the mass before stays below target.
            probabilities.withUnsafeBufferPointer { probs in
                for c in band {
                    guard before < target || out.isEmpty else { break }
                    out.append(c)
                    before += Double(probs[Int(c.id)])
                }
            }
            mass.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return
        }
    }

    /// The tokens whose logit is at least the `k`-th largest (ties at the k-th value all kept).
    mutating func largest(_ logits: UnsafeBufferPointer<Float>, k: Int, into out: inout [Candidate]) {
        out.removeAll(keepingCapacity: true)
        guard !logits.isEmpty, k > 0 else { return }
        let n = logits.count
        let (top, bottom) = VectorMath.extrema(logits)
        let sampled = Self.sampleWithin(logits, top: top, weights: nil)
        var index = Self.firstReach(sampled) { $0 * Double(n) >= Double(k) * 1.1 }
        while true {
            let g = Geometry(maximum: top, minimum: bottom, reach: index < Self.reaches.count ? Self.reaches[index] : .infinity)
            gatherNear(logits, g)
            if near.count < k, g.reach.isFinite {
                index += 1
                continue
            }
            counts.withUnsafeMutableBufferPointer { counts in
                for c in near { counts[g.bucket(c.logit)] += 1 }
            }
            var before = 0
            var boundary = Self.bucketCount - 1
            for b in 0 ..< Self.bucketCount {
                if before + Int(counts[b]) >= k {
                    boundary = b
                    break
                }
                before += Int(counts[b])
            }
            split(g, boundary: boundary, into: &out)
            let needed = k - before
            if needed > 0, needed <= band.count {
                let kth = band[needed - 1].logit
                for c in band where c.logit >= kth { out.append(c) }
            } else {
                out.append(contentsOf: band)
            }
            counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return
        }
    }

    /// The index of the first reach whose sampled fraction satisfies `enough` (the count of
    /// reaches when none does: the whole range).
    private static func firstReach(_ fractions: SIMD8<Double>, _ enough: (Double) -> Bool) -> Int {
        for j in reaches.indices where enough(fractions[j]) { return j }
        return reaches.count
    }

    /// The fraction of the weight (probabilities, or the count when `weights` is nil) within each
    /// reach, measured on every 8th block of 16: an estimate, checked exactly afterwards.
    private static func sampleWithin(_ logits: UnsafeBufferPointer<Float>, top: Float, weights: UnsafeBufferPointer<Float>?) -> SIMD8<Double> {
        guard let base = logits.baseAddress else { return SIMD8(repeating: 1) }
        let n = logits.count, w = VectorMath.width
        let zero = VectorMath.Vector(repeating: 0), one = VectorMath.Vector(repeating: 1)
        var a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero, all = zero
        let r = reaches
        var i = 0
        while i + w <= n {
            let v = VectorMath.load(base, i)
            let p = weights.map { VectorMath.load($0.baseAddress!, i) } ?? one
            let d = top - v
            all += p
            a0 += p.replacing(with: 0, where: d .> r[0])
            a1 += p.replacing(with: 0, where: d .> r[1])
            a2 += p.replacing(with: 0, where: d .> r[2])
            a3 += p.replacing(with: 0, where: d .> r[3])
            a4 += p.replacing(with: 0, where: d .> r[4])
            a5 += p.replacing(with: 0, where: d .> r[5])
            a6 += p.replacing(with: 0, where: d .> r[6])
            a7 += p.replacing(with: 0, where: d .> r[7])
            i += 8 * w
        }
        let sum = Double(all.sum())
        guard sum > 0 else { return SIMD8(repeating: 0) }
        return SIMD8(Double(a0.sum()), Double(a1.sum()), Double(a2.sum()), Double(a3.sum()),
                     Double(a4.sum()), Double(a5.sum()), Double(a6.sum()), Double(a7.sum())) / sum
    }

    /// Gathers the tokens within the geometry's reach into ``near``, in token order: one vector
    /// pass, after which bucketing runs over the few near tokens only.
    private mutating func gatherNear(_ logits: UnsafeBufferPointer<Float>, _ g: Geometry) {
        near.removeAll(keepingCapacity: true)
        let floor = g.maximum - g.reach
        guard floor.isFinite else {
            gather.collect(logits, into: &near, { $0 .== $0 }, scalar: { $0 == $0 })  // everything but NaN
            return
        }
        // `logit >= max - reach` rather than the spare slot's `max - logit <= reach`: they can
        // differ by a rounding at the reach's edge, which is far from the selection's boundary
        // (the near tokens' mass or count is checked to hold it), and the first is one compare.
        gather.collect(logits, into: &near, atLeast: floor)
    }

    /// Appends every near token of a bucket before `boundary` to `out`, and leaves the boundary
    /// bucket's tokens in `band`, ranked.
    private mutating func split(_ g: Geometry, boundary: Int, into out: inout [Candidate]) {
        band.removeAll(keepingCapacity: true)
        for c in near {
            let b = g.bucket(c.logit)
            if b < boundary { out.append(c) } else if b == boundary { band.append(c) }
        }
        band.withUnsafeMutableBufferPointer { CandidateSort.sort($0) }
    }
}
