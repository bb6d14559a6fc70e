/// Selection over a whole vocabulary without sorting it: tokens are bucketed by their distance
/// from the largest logit, the bucket where the selection's boundary falls is found from per-bucket
/// counts or probability mass, and only that bucket is sorted.
///
/// The mapping from logit to bucket is monotone, so every token in a bucket before the boundary
/// bucket is kept, every token after it dropped, and equal logits share a bucket (ties at the
/// boundary are decided inside one sorted bucket). Buckets span the observed logit range up to
/// 64 units below the maximum (e^-64 is far below float resolution of any sum); everything
/// further lands in the last bucket, which is then sorted only if the boundary falls there.
struct DistanceBuckets {
    static let bucketCount = 4096
    private static let span: Float = 64

    private var mass = [Double](repeating: 0, count: bucketCount)
    private var counts = [Int32](repeating: 0, count: bucketCount)
    private var band: [Candidate] = []
    /// `exp(logit - max)` of every token, from the last ``nucleus`` call.
    private(set) var probabilities: [Float] = []

    /// The bucket geometry of one vector.
    private struct Geometry {
        var maximum: Float
        var scale: Float

        init(_ values: UnsafeBufferPointer<Float>) {
            let (top, bottom) = VectorMath.extrema(values)
            let range = min(top - bottom, DistanceBuckets.span)
            maximum = top
            scale = range > 0 && range.isFinite ? Float(DistanceBuckets.bucketCount - 1) / range : 0
        }

        /// The bucket of a logit; NaN and -inf land in the last bucket.
        @inline(__always)
        func bucket(_ v: Float) -> Int {
            let d = (maximum - v) * scale
            guard d < Float(DistanceBuckets.bucketCount - 1) else { return DistanceBuckets.bucketCount - 1 }
            return d > 0 ? Int(d) : 0
        }

        @inline(__always)
        func buckets(_ v: VectorMath.Vector) -> SIMD16<Int32> {
            let last = Float(DistanceBuckets.bucketCount - 1)
            var d = (VectorMath.Vector(repeating: maximum) - v) * scale
            d = d.replacing(with: last, where: .!(d .< last))  // NaN and -inf too
            d = d.replacing(with: 0, where: d .< 0)
            return VectorMath.truncatedIntegers(d)
        }
    }

    /// The tokens vLLM's top-p keeps: walking from the most likely, a token survives while the
    /// probability mass before it is below `topP` (equivalently, its ascending cumulative sum is
    /// above 1 - top_p); the most likely token always survives. Sums are in `Double`.
    mutating func nucleus(_ logits: UnsafeBufferPointer<Float>, topP: Float, into out: inout [Candidate]) {
        out.removeAll(keepingCapacity: true)
        guard !logits.isEmpty else { return }
        let g = Geometry(logits)
        if probabilities.count < logits.count { probabilities = [Float](repeating: 0, count: logits.count) }
        var total: Double = 0
        mass.withUnsafeMutableBufferPointer { mass in
            probabilities.withUnsafeMutableBufferPointer { probs in
                let n = logits.count, base = logits.baseAddress!, w = VectorMath.width
                var i = 0
                var acc = VectorMath.Vector(repeating: 0)
                while i + w <= n {
                    let v = VectorMath.load(base, i)
                    let p = VectorMath.exp(v - g.maximum)
                    UnsafeMutableRawPointer(probs.baseAddress! + i).storeBytes(of: p, as: VectorMath.Vector.self)
                    acc += p
                    if i % VectorMath.chunk == 0 {
                        total += Double(acc.sum())
                        acc = VectorMath.Vector(repeating: 0)
                    }
                    let b = g.buckets(v)
                    for lane in 0 ..< w { mass[Int(b[lane])] += Double(p[lane]) }
                    i += w
                }
                total += Double(acc.sum())
                var tail: Float = 0
                while i < n {
                    let p = VectorMath.exp(base[i] - g.maximum)
                    probs[i] = p
                    tail += p
                    mass[g.bucket(base[i])] += Double(p)
                    i += 1
                }
                total += Double(tail)
            }
        }
        let target = Double(topP) * total
        var before: Double = 0
        var boundary = Self.bucketCount - 1
        for b in 0 ..< Self.bucketCount {
            if before + mass[b] >= target {
                boundary = b
                break
            }
            before += mass[b]
        }
        collect(logits, g, boundary: boundary, into: &out)
        // Inside the boundary bucket, most likely first, while the mass before stays below target.
        probabilities.withUnsafeBufferPointer { probs in
            for c in band {
                guard before < target || out.isEmpty else { break }
                out.append(c)
                before += Double(probs[Int(c.id)])
            }
        }
        for b in 0 ..< Self.bucketCount { mass[b] = 0 }
    }

    /// The tokens whose logit is at least the `k`-th largest (ties at the k-th value all kept).
    mutating func largest(_ logits: UnsafeBufferPointer<Float>, k: Int, into out: inout [Candidate]) {
        out.removeAll(keepingCapacity: true)
        guard !logits.isEmpty, k > 0 else { return }
        let g = Geometry(logits)
        counts.withUnsafeMutableBufferPointer { counts in
            let n = logits.count, base = logits.baseAddress!, w = VectorMath.width
            var i = 0
            while i + w <= n {
                let b = g.buckets(VectorMath.load(base, i))
                for lane in 0 ..< w { counts[Int(b[lane])] += 1 }
                i += w
            }
            while i < n {
                counts[g.bucket(base[i])] += 1
                i += 1
            }
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
        collect(logits, g, boundary: boundary, into: &out)
        let needed = k - before
        if needed > 0, needed <= band.count {
            let kth = band[needed - 1].logit
            for c in band where c.logit >= kth { out.append(c) }
        } else {
            out.append(contentsOf: band)
        }
        for b in 0 ..< Self.bucketCount { counts[b] = 0 }
    }

    /// Appends every token of a bucket before `boundary` to `out`, and leaves the boundary
    /// bucket's tokens in `band`, ranked.
    private mutating func collect(_ logits: UnsafeBufferPointer<Float>, _ g: Geometry, boundary: Int, into out: inout [Candidate]) {
        band.removeAll(keepingCapacity: true)
        let n = logits.count, base = logits.baseAddress!, w = VectorMath.width
        let limit = SIMD16<Int32>(repeating: Int32(boundary))
        var i = 0
        while i + w <= n {
            let v = VectorMath.load(base, i)
            let b = g.buckets(v)
            if any(b .<= limit) {
                for lane in 0 ..< w where b[lane] <= Int32(boundary) {
                    let c = Candidate(id: i + lane, logit: v[lane])
                    if b[lane] < Int32(boundary) { out.append(c) } else { band.append(c) }
                }
            }
            i += w
        }
        while i < n {
            let b = g.bucket(base[i])
            if b < boundary { out.append(Candidate(id: i, logit: base[i])) } else if b == boundary { band.append(Candidate(id: i, logit: base[i])) }
            i += 1
        }
        band.withUnsafeMutableBufferPointer { CandidateSort.sort($0) }
    }
}
