/// A set of scalars that one of llama.cpp's simple regexes matches: `\p{N}`, `[\r\n]`,
/// `[\p{P}\$\+<=>\^~\|]`, or a bracket of literal ranges such as DeepSeek's `[一-龥ࠀ-一가-퟿]`.
///
/// llama.cpp runs these through `std::regex`: with a `\p{..}` category on a "collapsed" copy of the
/// text (each non-ASCII scalar replaced by one byte standing for its category, non-ASCII whitespace
/// by `\v`), without one on the text itself with non-ASCII whitespace replaced by `\v`. Either way a
/// non-ASCII whitespace scalar never matches a literal range (U+3000 is not in `[　-。]` there), and a
/// category matches exactly the scalars of that class.
struct ScalarSet: Sendable {
    /// Classes that match (`CharClass` bits).
    var classes: UInt8 = 0
    /// ASCII scalars that match, as a 128-bit set.
    var asciiLow: UInt64 = 0
    var asciiHigh: UInt64 = 0
    /// Non-ASCII ranges that match.
    var ranges: [ClosedRange<UInt32>] = []

    init(classes: UInt8 = 0, ascii: String = "", ranges: [ClosedRange<UInt32>] = []) {
        self.classes = classes
        for scalar in ascii.unicodeScalars { insertASCII(scalar.value) }
        for range in ranges {
            // ASCII parts of a range go to the bit set, the rest stays a range.
            if range.lowerBound < 0x80 {
                for v in range.lowerBound ... min(range.upperBound, 0x7F) { insertASCII(v) }
            }
            if range.upperBound >= 0x80 { self.ranges.append(max(range.lowerBound, 0x80) ... range.upperBound) }
        }
    }

    private mutating func insertASCII(_ v: UInt32) {
        if v < 64 { asciiLow |= 1 << UInt64(v) } else if v < 128 { asciiHigh |= 1 << UInt64(v - 64) }
    }

    @inline(__always)
    func contains(_ value: UInt32, _ cls: UInt8) -> Bool {
        if cls & classes != 0 { return true }
        if value < 64 { return asciiLow & (1 << UInt64(value)) != 0 }
        if value < 128 { return asciiHigh & (1 << UInt64(value - 64)) != 0 }
        if ranges.isEmpty || cls & CharClass.whitespace != 0 { return false }
        for r in ranges where r.contains(value) { return true }
        return false
    }
}

/// One regex of a pre-tokenizer, as a hand-written scanner. Each splits one segment of the text
/// into pieces the way llama.cpp's `unicode_regex_split` does: every match is a piece, and so is
/// every stretch between matches. A family applies its rules one after another, each to every piece
/// the previous one produced; a rule never looks past the end of its segment.
enum SplitRule: Sendable {
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    /// (llama.cpp's `unicode_regex_split_custom_gpt2`).
    case gpt2
    /// Llama-3's regex (digits in groups of up to `maxDigits`: 3 for `\p{N}{1,3}`); with
    /// `maxDigits` 1 it is Qwen2's (`\p{N}`). llama.cpp's `unicode_regex_split_custom_llama3`/`_qwen2`.
    case llama3(maxDigits: Int)
    /// `[set]`: every matching scalar alone.
    case each(ScalarSet)
    /// `[set]+`: maximal runs of matching scalars.
    case runs(ScalarSet)
    /// `\s?[set]+`: a run, with one whitespace scalar before it if there is one.
    case spacedRuns(ScalarSet)
    /// `\s+$`: the whitespace at the end of the segment.
    case trailingWhitespace
    /// `[0-9][0-9][0-9]`: ASCII digits three at a time, from the left.
    case asciiDigitTriples

    /// Appends to `ends` the end offset of each piece of `segment` (the last one is `segment.upperBound`).
    func split(_ text: ScalarText, _ segment: Range<Int>, into ends: inout [Int]) {
        switch self {
        case .gpt2: GPT2Rule.split(text, segment, into: &ends)
        case let .llama3(maxDigits): Llama3Rule.split(text, segment, maxDigits: maxDigits, into: &ends)
        case let .each(set): Self.splitMatches(text, segment, into: &ends) { p in
                set.contains(text.scalars[p], text.classes[p]) ? p + 1 : nil
            }
        case let .runs(set): Self.splitMatches(text, segment, into: &ends) { p in
                guard set.contains(text.scalars[p], text.classes[p]) else { return nil }
                return Self.runEnd(text, set, from: p + 1, limit: segment.upperBound)
            }
        case let .spacedRuns(set): Self.splitMatches(text, segment, into: &ends) { p in
                // ECMAScript tries the whitespace first and falls back to no whitespace.
                let end = segment.upperBound
                if text.classes[p] & CharClass.whitespace != 0, p + 1 < end,
                   set.contains(text.scalars[p + 1], text.classes[p + 1]) {
                    return Self.runEnd(text, set, from: p + 2, limit: end)
                }
                guard set.contains(text.scalars[p], text.classes[p]) else { return nil }
                return Self.runEnd(text, set, from: p + 1, limit: end)
            }
        case .trailingWhitespace:
            // The leftmost match of `\s+$` starts where the trailing whitespace does; scanning back
            // from the end finds it without retrying the regex at every position.
            var start = segment.upperBound
            while start > segment.lowerBound, text.classes[start - 1] & CharClass.whitespace != 0 { start -= 1 }
            if start > segment.lowerBound, start < segment.upperBound { ends.append(start) }
            ends.append(segment.upperBound)
        case .asciiDigitTriples: Self.splitMatches(text, segment, into: &ends) { p in
                let s = text.scalars
                guard p + 2 < segment.upperBound, Self.isDigit(s[p]), Self.isDigit(s[p + 1]), Self.isDigit(s[p + 2])
                else { return nil }
                return p + 3
            }
        }
    }

    @inline(__always)
    private static func isDigit(_ v: UInt32) -> Bool { v &- 0x30 < 10 }

    @inline(__always)
    private static func runEnd(_ text: ScalarText, _ set: ScalarSet, from start: Int, limit: Int) -> Int {
        var p = start
        while p < limit, set.contains(text.scalars[p], text.classes[p]) { p += 1 }
        return p
    }

    /// `std::regex_iterator` over the segment: `match(p)` gives the end of the match that starts at
    /// `p`, if any; matches and the gaps between them become pieces.
    @inline(__always)
    private static func splitMatches(
        _ text: ScalarText, _ segment: Range<Int>, into ends: inout [Int], match: (Int) -> Int?
    ) {
        var p = segment.lowerBound
        var gapStart = p
        while p < segment.upperBound {
            if let end = match(p) {
                if p > gapStart { ends.append(p) }
                ends.append(end)
                p = end
                gapStart = end
            } else {
                p += 1
            }
        }
        if segment.upperBound > gapStart { ends.append(segment.upperBound) }
    }
}

/// Where the closing alternatives shared by the GPT-2 and Llama-3 regexes end a match at `pos`:
/// `\s+(?!\S)` (a whitespace run minus its last scalar when something follows inside the segment,
/// so that scalar can start the next piece), then `\s+`, then — nothing matched — one scalar alone.
/// `whitespace` is the length of the whitespace run starting at `pos`.
@inline(__always)
func whitespaceAlternativesEnd(pos: Int, whitespace: Int, end: Int) -> Int {
    if whitespace > 1, pos + whitespace < end { return pos + whitespace - 1 }
    if whitespace > 0 { return pos + whitespace }
    return pos + 1
}
