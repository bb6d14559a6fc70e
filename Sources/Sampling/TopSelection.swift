/// The k-th largest of a vocabulary-sized vector for small k: one scan keeping a min-heap of the
/// k best, where a block of 16 whose maximum cannot enter the heap costs one comparison. For
/// random order the heap changes about k·ln(n/k) times, so k = 40 over 128k costs a scan.
struct TopSelection {
    private var heap: [Float] = []

    /// The `k`-th largest value (1 ≤ k ≤ count), NaN ignored.
    mutating func kthLargest(_ values: UnsafeBufferPointer<Float>, k: Int) -> Float {
        guard let base = values.baseAddress, k >= 1, k <= values.count else { return -.infinity }
        heap.removeAll(keepingCapacity: true)
        for i in 0 ..< k { heap.append(base[i].isNaN ? -.infinity : base[i]) }
        return heap.withUnsafeMutableBufferPointer { h -> Float in
            var start = k / 2 - 1
            while start >= 0 {
                Self.siftDown(h, start)
                start -= 1
            }
            let n = values.count, w = VectorMath.width
            var i = k
            while i < n, i % w != 0 {
                Self.offer(h, base[i])
                i += 1
            }
            while i + w <= n {
                let v = VectorMath.load(base, i)
                if any(v .> h[0]) {
                    for lane in 0 ..< w { Self.offer(h, v[lane]) }
                }
                i += w
            }
            while i < n {
                Self.offer(h, base[i])
                i += 1
            }
            return h[0]
        }
    }

    @inline(__always)
    private static func offer(_ h: UnsafeMutableBufferPointer<Float>, _ v: Float) {
        if v > h[0] {
            h[0] = v
            siftDown(h, 0)
        }
    }

    private static func siftDown(_ h: UnsafeMutableBufferPointer<Float>, _ start: Int) {
        let n = h.count
        var root = start
        while true {
            var child = 2 * root + 1
            if child >= n { return }
            if child + 1 < n, h[child + 1] < h[child] { child += 1 }
            if h[child] < h[root] {
                h.swapAt(root, child)
                root = child
            } else {
                return
            }
        }
    }
}
