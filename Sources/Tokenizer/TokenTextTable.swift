import Foundation

/// Token text to id, looked up by raw UTF-8 bytes without building a `String`.
///
/// The SentencePiece merge loop asks "is this byte range a token?" for every candidate pair, so this
/// is the hot path of encoding: open addressing over one flat byte buffer, with each slot's hash kept
/// beside its id so that most probes are settled without touching the token bytes. The storage is
/// allocated once and never mutated after `init`, which is why sharing it across threads is safe.
final class TokenTextTable: @unchecked Sendable {
    /// All token texts back to back; `offsets[id] ..< offsets[id + 1]` is token `id`.
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let offsets: UnsafeMutableBufferPointer<Int>
    /// Open-addressed slots (a power of two of them): the id, or -1 when empty, and its hash.
    private let slotIDs: UnsafeMutableBufferPointer<Int32>
    private let slotHashes: UnsafeMutableBufferPointer<UInt32>
    private let mask: Int
    /// The longest text in bytes: longer keys are rejected without hashing.
    private let maxLength: Int
    /// The first id whose text repeats an earlier token's text, if any.
    let firstDuplicate: Int?

    /// Builds the table. Texts are compared as bytes: `String` equality (and so a `[String: Int]`)
    /// would merge canonically equivalent texts such as "ί" (U+1F77) and "ί" (U+03AF), which are
    /// distinct tokens. When two tokens have the same bytes the later id wins (llama.cpp's
    /// `token_to_id` before duplicates were rejected); `Tokenizer` rejects duplicates anyway.
    init(texts: [String]) {
        var total = 0
        var longest = 0
        for t in texts {
            total += t.utf8.count
            longest = max(longest, t.utf8.count)
        }
        maxLength = longest
        bytes = .allocate(capacity: max(total, 1))
        offsets = .allocate(capacity: texts.count + 1)
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        slotIDs = .allocate(capacity: capacity)
        slotIDs.initialize(repeating: -1)
        slotHashes = .allocate(capacity: capacity)
        slotHashes.initialize(repeating: 0)
        mask = capacity - 1

        var at = 0
        offsets[0] = 0
        for (id, t) in texts.enumerated() {
            for b in t.utf8 {
                bytes[at] = b
                at += 1
            }
            offsets[id + 1] = at
        }
        var duplicate: Int? = nil
        for id in texts.indices {
            let key = UnsafeBufferPointer(rebasing: bytes[offsets[id] ..< offsets[id + 1]])
            let h = Self.hash(key)
            var slot = Int(h) & mask
            while slotIDs[slot] >= 0 {
                let other = Int(slotIDs[slot])
                if slotHashes[slot] == h, offsets[other + 1] - offsets[other] == key.count,
                    bytes[offsets[other] ..< offsets[other + 1]].elementsEqual(key) {
                    if duplicate == nil { duplicate = id }
                    break
                }
                slot = (slot + 1) & mask
            }
            slotIDs[slot] = Int32(truncatingIfNeeded: id)
            slotHashes[slot] = h
        }
        firstDuplicate = duplicate
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
        slotIDs.deallocate()
        slotHashes.deallocate()
    }

    @inline(__always)
    private func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = offsets[id], end = offsets[id + 1]
        guard end - start == key.count else { return false }
        guard let a = bytes.baseAddress, let b = key.baseAddress else { return key.isEmpty }
        return memcmp(a + start, b, key.count) == 0
    }

    /// The id whose text is exactly `key`, or nil.
    func id(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard key.count <= maxLength else { return nil }
        let h = Self.hash(key)
        var slot = Int(h) & mask
        while true {
            let id = Int(slotIDs[slot])
            if id < 0 { return nil }
            if slotHashes[slot] == h, equals(id, key) { return id }
            slot = (slot + 1) & mask
        }
    }

    /// The id whose text is `text`, or nil.
    func id(of text: String) -> Int? {
        var copy = text
        return copy.withUTF8 { id(of: $0) }
    }

    /// FNV-1a, folded to 32 bits: short keys, no need for anything stronger.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}
