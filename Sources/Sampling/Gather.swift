/// Collects the tokens a vector predicate selects, quickly: each block's selected lanes become a
/// bit mask walked bit by bit, and matches are written through a pointer into a scratch buffer
/// sized to the vocabulary, then appended to the destination in one copy. (Appending to an array
/// lane by lane, or extracting all 16 lanes, costs several times the scan itself.)
struct Gather {
    private var storage: [Candidate] = []
    private static let laneBits = SIMD16<Int32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)

    /// Appends to `out`, in token order, every token whose logit the predicates select:
    /// `select` for blocks of 16 and `scalar` (the same test) for the tail.
    @inline(__always)
    mutating func collect(
        _ values: UnsafeBufferPointer<Float>, into out: inout [Candidate],
        _ select: (VectorMath.Vector) -> SIMDMask<SIMD16<Int32>>, scalar: (Float) -> Bool
    ) {
        guard let base = values.baseAddress else { return }
        let n = values.count, w = VectorMath.width
        if storage.count < n { storage = [Candidate](repeating: Candidate(id: 0, logit: 0), count: n) }
        let found = storage.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let o = buffer.baseAddress else { return 0 }
            let none = SIMD16<Int32>(repeating: 0)
            var count = 0
            var i = 0
            while i + w <= n {
                let v = VectorMath.load(base, i)
                let selected = select(v)
                guard any(selected) else {
                    i += w
                    continue
                }
                var bits = Int(none.replacing(with: Self.laneBits, where: selected).wrappedSum())
                while bits != 0 {
                    let lane = bits.trailingZeroBitCount
                    bits &= bits - 1
                    o[count] = Candidate(id: i + lane, logit: base[i + lane])
                    count += 1
                }
                i += w
            }
            while i < n {
                if scalar(base[i]) {
                    o[count] = Candidate(id: i, logit: base[i])
                    count += 1
                }
                i += 1
            }
            return count
        }
        out.append(contentsOf: storage[0 ..< found])
    }

    /// ``collect(_:into:_:scalar:)`` for the common test `logit >= threshold`, with the vector
    /// comparison inline rather than behind a closure.
    mutating func collect(_ values: UnsafeBufferPointer<Float>, into out: inout [Candidate], atLeast threshold: Float) {
        guard let base = values.baseAddress else { return }
        let n = values.count, w = VectorMath.width
        if storage.count < n { storage = [Candidate](repeating: Candidate(id: 0, logit: 0), count: n) }
        let limit = VectorMath.Vector(repeating: threshold)
        let found = storage.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let o = buffer.baseAddress else { return 0 }
            let none = SIMD16<Int32>(repeating: 0)
            var count = 0
            var i = 0
            while i + w <= n {
                let v = VectorMath.load(base, i)
                let selected = v .>= limit
                if any(selected) {
                    var bits = Int(none.replacing(with: Self.laneBits, where: selected).wrappedSum())
                    while bits != 0 {
                        let lane = bits.trailingZeroBitCount
                        bits &= bits - 1
                        o[count] = Candidate(id: i + lane, logit: base[i + lane])
                        count += 1
                    }
                }
                i += w
            }
            while i < n {
                if base[i] >= threshold {
                    o[count] = Candidate(id: i, logit: base[i])
                    count += 1
                }
                i += 1
            }
            return count
        }
        out.append(contentsOf: storage[0 ..< found])
    }
}
