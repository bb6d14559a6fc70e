/// GPT-2's byte-to-unicode table: every byte gets a printable character, so that byte-level BPE
/// vocabularies can be stored as text. Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand
/// for themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) take U+0100 upwards
/// in byte order, so a space is "Ġ" (U+0120) and a newline "Ċ" (U+010A).
enum GPT2ByteMap {
    /// The character (scalar value) that stands for each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for byte in 0 ..< 256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The inverse, for scalars below U+0144; -1 where a scalar stands for no byte.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarOfByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21 ... 0x7E).contains(byte) || (0xA1 ... 0xAC).contains(byte) || (0xAE ... 0xFF).contains(byte)
    }

    /// The bytes that a byte-mapped text stands for, or nil when it has a character outside the map
    /// (special tokens such as DeepSeek's "<｜end▁of▁sentence｜>").
    static func bytes<S: Sequence>(ofMapped scalars: S, into out: inout [UInt8]) -> Bool
    where S.Element == Unicode.Scalar {
        let inverse = byteOfScalar
        for scalar in scalars {
            let v = Int(scalar.value)
            guard v < inverse.count, inverse[v] >= 0 else { return false }
            out.append(UInt8(truncatingIfNeeded: inverse[v]))
        }
        return true
    }
}

/// Byte string to token id: open addressing over one flat byte buffer, so looking up a piece needs
/// neither a `String` nor Swift's Unicode-aware string hashing (which would also treat canonically
/// equivalent texts as equal).
struct ByteStringTable: Sendable {
    private var bytes: [UInt8] = []
    /// Per id: where its key starts in `bytes` and its length; ids without a key have length -1.
    private var starts: [UInt32]
    private var lengths: [Int32]
    private var slots: [Int32]
    private let mask: Int

    init(idCount: Int, expectedKeys: Int) {
        starts = [UInt32](repeating: 0, count: idCount)
        lengths = [Int32](repeating: -1, count: idCount)
        var capacity = 16
        while capacity < expectedKeys * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Adds `key` for `id`; returns the id that already has this key, if any (and then adds nothing).
    mutating func insert(_ key: [UInt8], id: Int) -> Int? {
        if let existing = self[key] { return existing }
        starts[id] = UInt32(bytes.count)
        lengths[id] = Int32(key.count)
        bytes.append(contentsOf: key)
        var slot = key.withUnsafeBufferPointer { Self.hash($0) } & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(id)
        return nil
    }

    subscript(key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    /// The id whose key is exactly `key`.
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = Self.hash(key) & mask
        return bytes.withUnsafeBufferPointer { store in
            while true {
                let id = Int(slots[slot])
                if id < 0 { return nil }
                let length = Int(lengths[id])
                if length == key.count {
                    let start = Int(starts[id])
                    if Self.equal(store, start, key) { return id }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private static func equal(_ store: UnsafeBufferPointer<UInt8>, _ start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0 ..< key.count where store[start + i] != key[i] { return false }
        return true
    }
}

/// Merge rules by pair of token ids: (left, right) to (rank, merged id). Open addressing over
/// `UInt64` keys; the BPE loop asks for every adjacent pair, so this is the hot lookup.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private let shift: UInt64
    private static let empty = UInt64.max

    init(expectedCount: Int) {
        var capacity = 16
        var bits: UInt64 = 4
        while capacity < expectedCount * 2 { capacity <<= 1; bits += 1 }
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        shift = 64 - bits
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)  // Fibonacci hashing
    }

    /// Adds a rule unless the pair already has one: the first (lowest-ranked) rule for a pair wins,
    /// as with llama.cpp's `bpe_ranks.emplace`.
    mutating func insert(left: Int, right: Int, rank: Int, merged: Int) {
        let key = UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
        var s = slot(key)
        while keys[s] != Self.empty {
            if keys[s] == key { return }
            s = (s + 1) & mask
        }
        keys[s] = key
        values[s] = UInt64(UInt32(truncatingIfNeeded: rank)) << 32 | UInt64(UInt32(truncatingIfNeeded: merged))
    }

    /// The rule for (left, right) as rank << 32 | merged id, or nil. Ids below 0 have no rules.
    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> UInt64? {
        guard left >= 0, right >= 0 else { return nil }
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var s = slot(key)
        while true {
            let k = keys[s]
            if k == key { return values[s] }
            if k == Self.empty { return nil }
            s = (s + 1) & mask
        }
    }
}

/// A binary min-heap of `UInt64` (rank << 32 | position): the lowest rank first, and among equal
/// ranks the leftmost position, the order of llama.cpp's `llm_bigram_bpe` queue.
struct MinHeap {
    private(set) var items: [UInt64] = []

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ item: UInt64) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if items[parent] <= item { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = item
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard let top = items.first else { return last }
        let n = items.count
        var i = 0
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n, items[child + 1] < items[child] { child += 1 }
            if last <= items[child] { break }
            items[i] = items[child]
            i = child
        }
        items[i] = last
        return top
    }
}
