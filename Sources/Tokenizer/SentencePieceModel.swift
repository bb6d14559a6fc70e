/// SentencePiece BPE with byte fallback, as llama.cpp's `llm_tokenizer_spm` runs it.
///
/// A fragment becomes symbols, one per UTF-8 character, after spaces are escaped to "▁" (U+2581)
/// and, at the start of the input or after a special token, a dummy-prefix space is added. Adjacent
/// pairs whose concatenation is a token go into a priority queue keyed by that token's score; the
/// best pair (highest score, then leftmost) is merged and its new neighbours are queued, until no
/// pair forms a token. Each remaining symbol is its token, or its bytes as `<0xNN>` tokens.
///
/// The queue and a linked list of symbols make this O(n log n); stale queue entries (a side already
/// merged elsewhere) are recognised by their recorded byte length and skipped, as llama.cpp does.
struct SentencePieceModel: TokenizerModel {
    private let table: TokenTextTable
    private let scores: [Float]
    private let texts: [String]
    /// The token for each byte value when a symbol has no token: `<0xNN>`, else the one-byte text,
    /// else -1.
    private let byteFallback: [Int]
    /// For a character with neither a token nor byte tokens; without one the character is dropped.
    private let unknownID: Int?
    private let addSpacePrefix: Bool
    private let spacePrefixPlacement: SpacePrefixPlacement
    /// True when no token has a "▁" right after another character (SentencePiece's usual
    /// split-by-whitespace vocabularies: "▁" only leads a piece, or pieces are all "▁"). Then no
    /// pair across such a position can ever form a token, so the text can be processed in chunks
    /// cut there with exactly the same result: the merge order inside a chunk does not depend on
    /// other chunks.
    private let splitsAtWords: Bool

    /// - Parameter chunking: allow the word-chunked processing when the vocabulary permits it (tests
    ///   turn it off to check that both give the same ids).
    init(vocabulary v: Vocabulary, chunking: Bool = true) throws(TokenizerError) {
        table = TokenTextTable(texts: v.tokens)
        scores = v.scores.isEmpty ? Array(repeating: 0, count: v.tokens.count) : v.scores
        texts = v.tokens
        addSpacePrefix = v.addSpacePrefix
        spacePrefixPlacement = v.spacePrefixPlacement
        splitsAtWords = chunking && !v.tokens.contains { token in
            var afterOther = false
            for scalar in token.unicodeScalars {
                if scalar == "\u{2581}" {
                    if afterOther { return true }
                } else {
                    afterOther = true
                }
            }
            return false
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var fallback = [Int](repeating: -1, count: 256)
        for b in 0 ..< 256 {
            let name = String(decoding: [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E], as: UTF8.self)
            if let id = table.id(of: name) {
                fallback[b] = id
            } else if b < 0x80, let id = table.id(of: String(UnicodeScalar(UInt8(b)))) {
                // llama.cpp's `byte_to_token` tries the byte itself next; bytes >= 0x80 alone are
                // not valid UTF-8, so no token text can be one.
                fallback[b] = id
            }
        }
        unknownID = v.unknownID
        byteFallback = fallback
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Bigram {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// Heap order: higher score first; equal scores, leftmost first (llama.cpp's comparator).
        @inline(__always)
        func outranks(_ o: Bigram) -> Bool {
            score > o.score || (score == o.score && left < o.left)
        }
    }

    /// Whether the dummy prefix goes in front of `fragment` (see ``SpacePrefixPlacement``).
    private func prefixes(_ fragment: Substring, followsSpecial: Bool) -> Bool {
        let startsWithSpace = fragment.first == " " || fragment.first == "\u{2581}"
        switch spacePrefixPlacement {
        case .startAndAfterTokens: return followsSpecial
        case .everyFragmentUnlessSpace: return !startsWithSpace
        case .textStartUnlessSpace: return fragment.startIndex == fragment.base.startIndex && !startsWithSpace
        }
    }

    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int]) {
        // Escape spaces ("▁") and add the dummy prefix, working on bytes.
        var text: [UInt8] = []
        text.reserveCapacity(fragment.utf8.count + 8)
        if addSpacePrefix && prefixes(fragment, followsSpecial: followsSpecial) { text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for b in fragment.utf8 {
            if b == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(b) }
        }
        guard !text.isEmpty else { return }
        var symbols: [Symbol] = []
        var heap: [Bigram] = []
        text.withUnsafeBufferPointer { buf in
            guard splitsAtWords else {
                encodeEscaped(buf, symbols: &symbols, heap: &heap, into: &ids)
                return
            }
            // Independent chunks, each starting at a "▁" that follows something else (see
            // `splitsAtWords`): same ids, but small working sets instead of one heap for 1 MB.
            var start = 0
            var i = 3
            while i + 3 <= buf.count {
                if buf[i] == 0xE2, buf[i + 1] == 0x96, buf[i + 2] == 0x81,
                    !(buf[i - 3] == 0xE2 && buf[i - 2] == 0x96 && buf[i - 1] == 0x81) {
                    encodeEscaped(UnsafeBufferPointer(rebasing: buf[start ..< i]), symbols: &symbols, heap: &heap, into: &ids)
                    start = i
                    i += 3
                } else {
                    i += 1
                }
            }
            encodeEscaped(UnsafeBufferPointer(rebasing: buf[start...]), symbols: &symbols, heap: &heap, into: &ids)
        }
    }

    /// The merge loop on one piece of escaped text. `symbols` and `heap` are scratch space, reused
    /// between calls.
    private func encodeEscaped(
        _ text: UnsafeBufferPointer<UInt8>, symbols: inout [Symbol], heap: inout [Bigram], into ids: inout [Int]
    ) {
        guard !text.isEmpty else { return }
        // Symbol offsets are 32-bit. A single unbroken piece of 1 GiB or more is cut at a character
        // boundary (the only case where the result may differ from llama.cpp's) rather than trap.
        if text.count >= 1 << 30 {
            var cut = 1 << 29
            while cut < text.count, text[cut] & 0xC0 == 0x80 { cut += 1 }
            encodeEscaped(UnsafeBufferPointer(rebasing: text[..<cut]), symbols: &symbols, heap: &heap, into: &ids)
            encodeEscaped(UnsafeBufferPointer(rebasing: text[cut...]), symbols: &symbols, heap: &heap, into: &ids)
            return
        }
        // One symbol per UTF-8 character (lead byte decides the length, clamped at the end).
        symbols.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let len = min(Self.utf8Length(text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            offset += len
            symbols.append(Symbol(
                start: Int32(offset - len), length: Int32(len), prev: index - 1,
                next: offset == text.count ? -1 : index + 1))
        }

        func tryAdd(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(symbols[Int(left)].start)
            let size = Int(symbols[Int(left)].length + symbols[Int(right)].length)
            guard let id = table.id(of: UnsafeBufferPointer(rebasing: text[start ..< start + size])) else { return }
            push(&heap, Bigram(score: scores[id], left: left, right: right, size: Int32(size)))
        }
        for i in 1 ..< max(symbols.count, 1) { tryAdd(Int32(i - 1), Int32(i)) }

        while let bigram = pop(&heap) {
            let l = Int(bigram.left), r = Int(bigram.right)
            // Skip pairs made stale by an earlier merge of either side.
            if symbols[l].length == 0 || symbols[r].length == 0
                || symbols[l].length + symbols[r].length != bigram.size { continue }
            symbols[l].length += symbols[r].length
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[Int(symbols[r].next)].prev = bigram.left }
            tryAdd(symbols[l].prev, bigram.left)
            tryAdd(bigram.left, symbols[l].next)
        }

        // A symbol is a token unless it is a single character with no token of its own: merged
        // symbols always are (a merge needs the token). llama.cpp's reverse-merge lookup therefore
        // never applies, and such a character falls back to its bytes.
        var i: Int32 = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            let s = symbols[Int(i)]
            let range = Int(s.start) ..< Int(s.start + s.length)
            if let id = table.id(of: UnsafeBufferPointer(rebasing: text[range])) {
                ids.append(id)
            } else if text[range].allSatisfy({ byteFallback[Int($0)] >= 0 }) {
                for b in text[range] { ids.append(byteFallback[Int(b)]) }
            } else if let unk = unknownID {
                // No byte tokens to spell it: one <unk> for the character, as SentencePiece does
                // (llama.cpp would throw here).
                ids.append(unk)
            }
            i = s.next
        }
    }

    func appendBytes(of id: Int, to bytes: inout [UInt8]) {
        // "▁" (E2 96 81) back to a space (`llama_unescape_whitespace`); everything else as stored.
        var text = texts[id]
        text.withUTF8 { t in
            var i = 0
            while i < t.count {
                if t[i] == 0xE2, i + 2 < t.count, t[i + 1] == 0x96, t[i + 2] == 0x81 {
                    bytes.append(0x20)
                    i += 3
                } else {
                    bytes.append(t[i])
                    i += 1
                }
            }
        }
    }

    /// llama.cpp's `unicode_len_utf8`: the sequence length announced by a lead byte (1 for
    /// continuation bytes, which only occur in broken input).
    @inline(__always)
    static func utf8Length(_ b: UInt8) -> Int {
        switch b >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    // A binary max-heap on `outranks`.
    private func push(_ heap: inout [Bigram], _ item: Bigram) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].outranks(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop(_ heap: inout [Bigram]) -> Bigram? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        let n = heap.count
        while true {
            let l = 2 * parent + 1, r = l + 1
            var best = parent
            if l < n, heap[l].outranks(heap[best]) { best = l }
            if r < n, heap[r].outranks(heap[best]) { best = r }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
