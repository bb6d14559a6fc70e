/// Insertion orders for the load-time hash tables.
///
/// Loading a large vocabulary inserts hundreds of thousands of keys into tables larger than the CPU
/// caches; at random slots, each insert waits for a memory miss. Inserting in order of home slot
/// instead sweeps the table once, front to back, which the hardware prefetcher streams.
enum SlotOrder {
    /// The indices of `homes` ordered by value (every value below `1 << bits`), equal values in index
    /// order: a stable two-pass radix sort, so that among keys with the same home slot (and so among
    /// duplicates of one key) the lowest index is still inserted first.
    static func sorted(_ homes: [UInt32], bits: Int) -> [Int] {
        let n = homes.count
        let lowBits = max(1, bits / 2), highBits = max(1, bits - lowBits)
        var order = [Int](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0 ..< n { buffer[i] = i }
            count = n
        }
        var spare = [Int](repeating: 0, count: n)
        for (digitShift, digitBits) in [(0, lowBits), (lowBits, highBits)] {
            let digitMask = UInt32((1 << digitBits) - 1)
            var starts = [Int](repeating: 0, count: (1 << digitBits) + 1)
            for i in order { starts[Int((homes[i] >> UInt32(digitShift)) & digitMask) + 1] += 1 }
            for d in 0 ..< (1 << digitBits) { starts[d + 1] += starts[d] }
            for i in order {
                let d = Int((homes[i] >> UInt32(digitShift)) & digitMask)
                spare[starts[d]] = i
                starts[d] += 1
            }
            swap(&order, &spare)
        }
        return order
    }
}
