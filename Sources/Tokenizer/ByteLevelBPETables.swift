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

    /// Appends the bytes that byte-mapped UTF-8 text stands for; false (with `out` partly written)
    /// when a character is outside the map, such as DeepSeek's "<｜end▁of▁sentence｜>". Every mapped
    /// character is below U+0144, so one or two UTF-8 bytes; a longer sequence is never mapped.
    static func appendBytes(ofMappedUTF8 utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        let inverse = byteOfScalar
        var i = 0
        let n = utf8.count
        while i < n {
            let b0 = utf8[i]
            let scalar: Int
            if b0 < 0x80 {
                scalar = Int(b0)
                i += 1
            } else if b0 & 0xE0 == 0xC0, i + 1 < n {
                scalar = Int(b0 & 0x1F) << 6 | Int(utf8[i + 1] & 0x3F)
                i += 2
            } else {
                return false
            }
            guard scalar < inverse.count, inverse[scalar] >= 0 else { return false }
            out.append(UInt8(truncatingIfNeeded: inverse[scalar]))
        }
        return true
    }
}

extension GPT2ByteMap {
    /// Writes the bytes that byte-mapped UTF-8 text stands for to `out` from `n` on (advancing `n`);
    /// false when a character is outside the map or `out` is full. `inverse` is `byteOfScalar`,
    /// passed in so that loops over a whole vocabulary read the global table once.
    @inline(__always)
    static func map(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at n: inout Int,
                    inverse: UnsafeBufferPointer<Int16>) -> Bool {
        var i = 0
        while i < utf8.count {
            let b0 = utf8[i]
            let scalar: Int
            if b0 < 0x80 {
                scalar = Int(b0)
                i += 1
            } else if b0 & 0xE0 == 0xC0, i + 1 < utf8.count {
                scalar = Int(b0 & 0x1F) << 6 | Int(utf8[i + 1] & 0x3F)
                i += 2
            } else {
                return false
            }
            guard scalar < inverse.count, n < out.count else { return false }
            let byte = inverse[scalar]
            guard byte >= 0 else { return false }
            out[n] = UInt8(truncatingIfNeeded: byte)
            n += 1
        }
        return true
    }
}

/// Byte string to token id: open addressing with the bytes of short keys stored in the slot itself,
/// so a lookup needs neither a `String` nor Swift's Unicode-aware string hashing (which would also
/// treat canonically equivalent texts as equal), and usually touches one cache line.
///
/// Loading a large vocabulary does hundreds of thousands of lookups (one or more per merge rule), so
/// memory latency, not arithmetic, is what costs: keys of up to 8 bytes (most merge sides) live in
/// the slot; longer ones in a flat byte buffer.
struct ByteStringTable: Sendable {
    /// All keys back to back.
    private let bytes: [UInt8]
    /// Per id: start in `bytes` << 32 | length; `UInt64.max` for ids without a key.
    private let entries: [UInt64]
    /// Slot i: word 2i is the key packed little-endian (length <= 8) or its start in `bytes`; word
    /// 2i + 1 is tag << 48 | length << 32 | id, `UInt64.max` when the slot is empty.
    private var cells: [UInt64]
    private let mask: Int
    private let shift: UInt64
    static let empty = UInt64.max
    /// The first id found whose key an earlier id already has, with that earlier id.
    private(set) var firstDuplicate: (id: Int, earlier: Int)?

    /// Indexes the keys `entries` describe in `bytes` (`entries[id]` = start << 32 | length, or
    /// `empty` for an id without a key). Keys longer than 65535 bytes are stored but never found.
    init(bytes: [UInt8], entries: [UInt64]) {
        self.bytes = bytes
        self.entries = entries
        var capacity = 16
        var bits: UInt64 = 4
        while capacity < entries.count * 2 { capacity <<= 1; bits += 1 }
        cells = [UInt64](repeating: Self.empty, count: 2 * capacity)
        mask = capacity - 1
        shift = 64 - bits
        var duplicate: (id: Int, earlier: Int)?
        bytes.withUnsafeBufferPointer { store in
            for (id, entry) in entries.enumerated() where entry != Self.empty {
                let start = Int(entry >> 32), length = Int(entry & 0xFFFF_FFFF)
                guard start + length <= store.count, length <= 0xFFFF else { continue }
                let key = UnsafeBufferPointer(rebasing: store[start ..< start + length])
                let (h, packed) = Self.hash(key)
                let (slot, existing) = find(key, hash: h, packed: packed, firstInfo: homeInfo(h))
                if let existing {
                    if duplicate == nil { duplicate = (id, existing) }
                    continue
                }
                cells[2 * slot] = length <= 8 ? packed : UInt64(start)
                cells[2 * slot + 1] = (h & 0xFFFF) << 48 | UInt64(length) << 32 | UInt64(UInt32(truncatingIfNeeded: id))
            }
        }
        firstDuplicate = duplicate
    }

    /// A 64-bit hash of the bytes, eight at a time, with a final avalanche, and the key packed into a
    /// word when it has at most 8 bytes. The slot comes from the top bits, the tag from the low 16.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> (hash: UInt64, packed: UInt64) {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        let raw = UnsafeRawBufferPointer(key)
        var i = 0
        var last: UInt64 = 0
        while i + 8 <= key.count {
            last = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ last) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < key.count {
            tail |= UInt64(key[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        return (h ^ (h >> 29), key.count == 8 ? last : tail)
    }

    subscript(key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    /// The id whose key is exactly `key`.
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        let (h, packed) = Self.hash(key)
        return find(key, hash: h, packed: packed, firstInfo: homeInfo(h)).id
    }

    /// The id whose key is exactly `key`, given its `hash(_:)` and the word `homeInfo(_:)` read.
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64, packed: UInt64, homeInfo: UInt64) -> Int? {
        find(key, hash: h, packed: packed, firstInfo: homeInfo).id
    }

    /// `homeInfo` for `count` hashes at once, written to `infos`: a loop of independent loads and
    /// nothing else, so that their cache misses overlap.
    func loadHomeInfos(_ hashes: UnsafePointer<UInt64>, count: Int, into infos: UnsafeMutablePointer<UInt64>) {
        let shift = self.shift
        cells.withUnsafeBufferPointer { cells in
            guard let base = cells.baseAddress else { return }
            for k in 0 ..< count {
                // The slot is below the capacity by construction (the top bits of the hash).
                infos[k] = base[2 &* Int(truncatingIfNeeded: hashes[k] >> shift) &+ 1]
            }
        }
    }

    /// The first word a lookup of a key with hash `h` reads (its home slot's tag, length and id).
    /// Loading this word for a batch of keys back to back, before looking them up, lets the memory
    /// system fetch all their cache lines at once instead of waiting for one miss after another.
    @inline(__always)
    func homeInfo(_ h: UInt64) -> UInt64 { cells[2 * Int(truncatingIfNeeded: h >> shift) + 1] }

    /// Token `id`'s key, or an empty slice when it has none.
    func key(of id: Int) -> ArraySlice<UInt8> {
        guard id >= 0, id < entries.count, entries[id] != Self.empty else { return [] }
        let start = Int(entries[id] >> 32)
        return bytes[start ..< start + Int(entries[id] & 0xFFFF_FFFF)]
    }

    /// Whether token `id`'s key is exactly `key` (a direct check, for guessed ids).
    @inline(__always)
    func hasKey(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard id >= 0, id < entries.count else { return false }
        let entry = entries[id]
        guard entry != Self.empty, Int(entry & 0xFFFF_FFFF) == key.count else { return false }
        return bytes.withUnsafeBufferPointer { Self.equal($0, Int(entry >> 32), key) }
    }

    /// The slot holding `key` with its id, or the empty slot where it would go. `h` and `packed` are
    /// `hash(key)`; `firstInfo` is what the home slot's info word holds now (`homeInfo(h)`).
    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64, packed: UInt64, firstInfo: UInt64)
        -> (slot: Int, id: Int?) {
        // Keys longer than 65535 bytes never match a stored length (no such token is stored).
        let meta = (h & 0xFFFF) << 48 | UInt64(key.count & 0xFFFF) << 32
        var slot = Int(truncatingIfNeeded: h >> shift)
        var info = firstInfo
        while true {
            if info == Self.empty { return (slot, nil) }
            if info & 0xFFFF_FFFF_0000_0000 == meta, key.count <= 0xFFFF {
                let word = cells[2 * slot]
                let id = Int(info & 0xFFFF_FFFF)
                if key.count <= 8 {
                    if word == packed { return (slot, id) }
                } else if bytes.withUnsafeBufferPointer({ Self.equal($0, Int(word), key) }) {
                    return (slot, id)
                }
            }
            slot = (slot + 1) & mask
            info = cells[2 * slot + 1]
        }
    }

    @inline(__always)
    private static func equal(_ store: UnsafeBufferPointer<UInt8>, _ start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard start + key.count <= store.count else { return false }
        for i in 0 ..< key.count where store[start + i] != key[i] { return false }
        return true
    }
}

/// Merge rules by pair of token ids: (left, right) to (rank, merged id). Open addressing with key and
/// value side by side (one cache line per probe); the BPE loop asks for every adjacent pair, so this
/// is the hot lookup.
struct MergeTable: Sendable {
    /// A rule as the table stores it: key left << 32 | right, value rank << 32 | merged id.
    struct Rule {
        var key: UInt64
        var value: UInt64

        init(left: Int, right: Int, rank: Int, merged: Int) {
            key = UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
            value = UInt64(UInt32(truncatingIfNeeded: rank)) << 32 | UInt64(UInt32(truncatingIfNeeded: merged))
        }
    }

    /// Slot i: key at 2i, value at 2i + 1.
    private var cells: [UInt64]
    private let shift: UInt64
    private let mask: Int
    private static let empty = UInt64.max

    /// Builds the table from rules in rank order. When a pair has several rules the first (lowest
    /// rank) wins, as with llama.cpp's `bpe_ranks.emplace`.
    ///
    /// Inserting hundreds of thousands of rules at random slots of a table far larger than the CPU
    /// caches costs a memory miss each; sorting the rules by slot first (a stable radix sort, which
    /// keeps the rank order of a repeated pair) turns the inserts into a sequential sweep.
    init(rules: [Rule]) {
        var capacity = 16
        var bits = 4
        while capacity < rules.count * 3 / 2 + 1 { capacity <<= 1; bits += 1 }
        shift = UInt64(64 - bits)
        mask = capacity - 1
        cells = [UInt64](repeating: Self.empty, count: 2 * capacity)

        var sorted = rules
        var buffer = rules
        let lowBits = bits / 2
        for (digitShift, digitBits) in [(0, lowBits), (lowBits, bits - lowBits)] {
            let digitMask = (1 << digitBits) - 1
            var starts = [Int](repeating: 0, count: (1 << digitBits) + 1)
            for rule in sorted { starts[((home(rule.key) >> digitShift) & digitMask) + 1] += 1 }
            for d in 0 ..< (1 << digitBits) { starts[d + 1] += starts[d] }
            for rule in sorted {
                let d = (home(rule.key) >> digitShift) & digitMask
                buffer[starts[d]] = rule
                starts[d] += 1
            }
            swap(&sorted, &buffer)
        }
        for rule in sorted {
            var s = home(rule.key)
            while cells[2 * s] != Self.empty, cells[2 * s] != rule.key { s = (s + 1) & mask }
            if cells[2 * s] == rule.key { continue }
            cells[2 * s] = rule.key
            cells[2 * s + 1] = rule.value
        }
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)  // Fibonacci hashing
    }

    /// The rule for (left, right) as rank << 32 | merged id, or nil. Ids below 0 have no rules.
    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> UInt64? {
        guard left >= 0, right >= 0 else { return nil }
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var s = home(key)
        while true {
            let k = cells[2 * s]
            if k == key { return cells[2 * s + 1] }
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
