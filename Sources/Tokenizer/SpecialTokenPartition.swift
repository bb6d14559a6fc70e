/// A piece of the input after special-token splitting: ordinary text for the model, or one token.
enum Fragment: Equatable {
    case text(Range<String.Index>)
    case token(Int)
}

/// The tokens `encode` splits out of the text before the model sees it, in llama.cpp's order
/// (`cache_special_tokens`: control, user-defined and unknown tokens, longest text first).
struct SpecialTokenTable: Sendable {
    struct Entry: Sendable {
        let id: Int
        let bytes: [UInt8]
        /// Control and unknown tokens are matched only with `parseSpecial`; user-defined ones always
        /// (as Hugging Face's tokenizers do for added tokens).
        let needsParseSpecial: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    let entries: [Entry]
    /// Whether any entry is matched without `parseSpecial` (skips the scan for most vocabularies).
    let hasAlwaysMatched: Bool

    init(texts: [String], types: [TokenType], rstrip: Set<Int> = [], lstrip: Set<Int> = []) {
        var list: [Entry] = []
        for (id, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let bytes = Array(texts[id].utf8)
            // An empty text would match everywhere; llama.cpp's `find` would loop on it.
            guard !bytes.isEmpty else { continue }
            list.append(Entry(
                id: id, bytes: bytes, needsParseSpecial: type != .userDefined,
                lstrip: lstrip.contains(id), rstrip: rstrip.contains(id)))
        }
        // Longest first, as llama.cpp sorts; ties by id so the order does not depend on the sort
        // algorithm (llama.cpp's `std::sort` leaves the order of equal lengths unspecified).
        list.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        entries = list
        hasAlwaysMatched = list.contains { !$0.needsParseSpecial }
    }

    /// Splits `text` like llama.cpp's `tokenizer_st_partition`: each special token in turn (longest
    /// first) is searched in every fragment still made of ordinary text, left to right, and every
    /// occurrence becomes a token fragment. Text fragments are never empty.
    func partition(_ text: String, parseSpecial: Bool) -> [Fragment] {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { return [] }
        guard parseSpecial || hasAlwaysMatched else { return [.text(text.startIndex ..< text.endIndex)] }
        let bytes = Array(utf8)
        // Byte offsets while splitting; String indices only at the end.
        enum Piece { case text(Int, Int), token(Int) }
        var pieces: [Piece] = [.text(0, bytes.count)]
        bytes.withUnsafeBufferPointer { buf in
            for entry in entries where parseSpecial || !entry.needsParseSpecial {
                var next: [Piece] = []
                next.reserveCapacity(pieces.count)
                var changed = false
                for piece in pieces {
                    guard case .text(var start, let end) = piece else { next.append(piece); continue }
                    while start < end, let match = Self.find(entry.bytes, in: buf, from: start, to: end) {
                        changed = true
                        var leftEnd = match
                        if entry.lstrip { while leftEnd > start, Self.isSpace(buf[leftEnd - 1]) { leftEnd -= 1 } }
                        if leftEnd > start { next.append(.text(start, leftEnd)) }
                        next.append(.token(entry.id))
                        start = match + entry.bytes.count
                        if entry.rstrip { while start < end, Self.isSpace(buf[start]) { start += 1 } }
                    }
                    if start < end { next.append(.text(start, end)) }
                }
                if changed { pieces = next }
            }
        }
        return pieces.map { piece in
            switch piece {
            case let .token(id): return .token(id)
            case let .text(a, b): return .text(utf8.index(utf8.startIndex, offsetBy: a) ..< utf8.index(utf8.startIndex, offsetBy: b))
            }
        }
    }

    /// C's `isspace` in the "C" locale, which llama.cpp uses for lstrip/rstrip.
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }

    /// The first offset in `from ..< to` where `needle` occurs entirely inside that range.
    static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        let n = needle.count
        guard n > 0, to - from >= n else { return nil }
        return needle.withUnsafeBufferPointer { nd -> Int? in
            let first = nd[0]
            var i = from
            let last = to - n
            while i <= last {
                if hay[i] == first {
                    var k = 1
                    while k < n, hay[i + k] == nd[k] { k += 1 }
                    if k == n { return i }
                }
                i += 1
            }
            return nil
        }
    }
}
