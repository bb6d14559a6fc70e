/// Incremental detokenization for streaming generated text.
///
/// Feed ids one at a time with `append(_:)`; each call returns the text that became complete. A
/// UTF-8 sequence split across tokens (byte-fallback tokens, byte-level BPE pieces) is held back
/// until its last byte arrives, so no delta ends in a broken character, and `finish()` returns
/// whatever is left. The concatenation of all deltas equals `Tokenizer.decode` of the same ids,
/// including SentencePiece's leading-space rule and U+FFFD for bytes that never form a character.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecial: Bool
    /// Bytes not yet returned: at most the start of one unfinished UTF-8 sequence (< 4 bytes).
    private var pending: [UInt8] = []
    private var isFirstToken = true

    init(tokenizer: Tokenizer, skipSpecial: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one id and returns the text it completes (possibly empty).
    /// - Throws: `TokenizerError.idOutOfRange`; the decoder is unchanged then.
    public mutating func append(_ id: Int) throws(TokenizerError) -> String {
        var bytes = pending
        try tokenizer.appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: isFirstToken, to: &bytes)
        isFirstToken = false
        let cut = Self.completePrefixLength(bytes)
        pending = Array(bytes[cut...])
        return String(decoding: bytes[..<cut], as: UTF8.self)
    }

    /// Adds several ids and returns the text they complete.
    public mutating func append(contentsOf ids: [Int]) throws(TokenizerError) -> String {
        var out = ""
        for id in ids { out += try append(id) }
        return out
    }

    /// Returns the bytes still held back (an unfinished sequence becomes U+FFFD) and resets the
    /// decoder for a new text.
    public mutating func finish() -> String {
        let rest = String(decoding: pending, as: UTF8.self)
        pending = []
        isFirstToken = true
        return rest
    }

    /// The length of the longest prefix of `bytes` that can be decoded now without changing the
    /// result: everything except a trailing sequence that is valid so far but incomplete. A trailing
    /// sequence that is already invalid is released, since later bytes cannot repair it and the
    /// decoder's replacement of it does not depend on them.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // A sequence is at most 4 bytes, so an unfinished one starts within the last 3.
        var start = n - 1
        while start >= 0, start >= n - 3, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, start >= n - 3 else { return n }
        let lead = bytes[start]
        let need: Int
        switch lead {
        case 0xC2 ... 0xDF: need = 2
        case 0xE0 ... 0xEF: need = 3
        case 0xF0 ... 0xF4: need = 4
        default: return n  // ASCII, or a byte that can never start a sequence
        }
        let have = n - start
        guard have < need else { return n }  // complete (or overlong junk): nothing to wait for
        // The second byte's range is narrower for some leads (no overlongs, no surrogates, <= U+10FFFF);
        // if it is already out of range the sequence is invalid and waiting would not help.
        if have >= 2 {
            let second = bytes[start + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0 ... 0xBF).contains(second)
            case 0xED: ok = (0x80 ... 0x9F).contains(second)
            case 0xF0: ok = (0x90 ... 0xBF).contains(second)
            case 0xF4: ok = (0x80 ... 0x8F).contains(second)
            default: ok = true
            }
            if !ok { return n }
        }
        return start
    }
}
