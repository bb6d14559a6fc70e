/// Token text to id, looked up by raw UTF-8 bytes without building a `String`.
///
/// The SentencePiece merge loop asks "is this byte range a token?" for every candidate pair; hashing
/// the bytes in place (open addressing over one flat byte buffer) keeps that cheap.
struct TokenTextTable: Sendable {
    /// All token texts back to back; `offsets[id] ..< offsets[id + 1]` is token `id`.
    private let bytes: [UInt8]
    private let offsets: [Int]
    /// Open-addressed slots holding ids (-1 = empty); the count is a power of two.
    private let slots: [Int32]
    private let mask: Int
    /// The first id whose text repeats an earlier token's text, if any.
    let firstDuplicate: Int?

    /// Builds the table. Texts are compared as bytes: `String` equality (and so a `[String: Int]`)
    /// would merge canonically equivalent texts such as "ί" (U+1F77) and "ί" (U+03AF), which are
    /// distinct tokens. When two tokens have the same bytes the later id wins (llama.cpp's
    /// `token_to_id` before duplicates were rejected); `Tokenizer` rejects duplicates anyway.
    init(texts: [String]) {
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        offsets.reserveCapacity(texts.count + 1)
        for t in texts {
            bytes.append(contentsOf: t.utf8)
            offsets.append(bytes.count)
        }
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        var duplicate: Int? = nil
        bytes.withUnsafeBufferPointer { buf in
            for id in texts.indices {
                let start = offsets[id], end = offsets[id + 1]
                var slot = Self.hash(UnsafeBufferPointer(rebasing: buf[start ..< end])) & mask
                while slots[slot] >= 0 {
                    let other = Int(slots[slot])
                    if buf[offsets[other] ..< offsets[other + 1]].elementsEqual(buf[start ..< end]) {
                        if duplicate == nil { duplicate = id }
                        break
                    }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id)
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
        self.firstDuplicate = duplicate
    }

    /// The id whose text is exactly `key`, or nil.
    func id(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = Self.hash(key) & mask
        return bytes.withUnsafeBufferPointer { buf -> Int? in
            while true {
                let id = Int(slots[slot])
                if id < 0 { return nil }
                let start = offsets[id], end = offsets[id + 1]
                if end - start == key.count {
                    var equal = true
                    var i = 0
                    while i < key.count {
                        if buf[start + i] != key[i] { equal = false; break }
                        i += 1
                    }
                    if equal { return id }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The id whose text is `text`, or nil.
    func id(of text: String) -> Int? {
        var copy = text
        return copy.withUTF8 { id(of: $0) }
    }

    /// FNV-1a, folded: short keys, no need for anything stronger.
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
