/// Llama-3's pre-tokenizer regex, scanned by hand:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// and, with single digits (`\p{N}` for `\p{N}{1,3}`), Qwen2's.
///
/// This follows llama.cpp's `unicode_regex_split_custom_llama3` and `_qwen2`. Where they differ from
/// a regex engine, llama.cpp wins: the case-insensitive contractions fold ASCII letters only (Python's
/// `regex` also folds U+017F "ſ" to "s", so `'ſ` is a contraction there and not here).
enum Llama3Rule {
    static func split(_ text: ScalarText, _ segment: Range<Int>, maxDigits: Int, into ends: inout [Int]) {
        let s = text.scalars
        let cls = text.classes
        let end = segment.upperBound
        let wordClasses = CharClass.whitespace | CharClass.letter | CharClass.number
        var pos = segment.lowerBound
        var prevEnd = pos

        @inline(__always) func emit(_ to: Int) {
            if to > prevEnd { ends.append(to) }
            prevEnd = to
        }
        @inline(__always) func isNewline(_ v: UInt32) -> Bool { v == 0x0A || v == 0x0D }
        // ASCII lowercase: no other scalar lowercases to one of the contraction letters.
        @inline(__always) func lower(_ v: UInt32) -> UInt32 { v &- 0x41 < 26 ? v | 0x20 : v }

        while pos < end {
            let c = s[pos]
            let f = cls[pos]

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == 0x27, pos + 1 < end {
                let next = lower(s[pos + 1])
                if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {  // s t m d
                    emit(pos + 2); pos += 2
                    continue
                }
                if pos + 2 < end {
                    let next2 = lower(s[pos + 2])
                    if (next == 0x72 && next2 == 0x65) || (next == 0x76 && next2 == 0x65)
                        || (next == 0x6C && next2 == 0x6C) {  // re ve ll
                        emit(pos + 3); pos += 3
                        continue
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, with any one non-newline, non-number scalar
            // (space, punctuation, symbol, ...) before it.
            if !(isNewline(c) || f & CharClass.number != 0) {
                if f & CharClass.letter != 0 || (pos + 1 < end && cls[pos + 1] & CharClass.letter != 0) {
                    pos += 1
                    while pos < end, cls[pos] & CharClass.letter != 0 { pos += 1 }
                    emit(pos)
                    continue
                }
            }

            // \p{N}{1,maxDigits}: a run of numbers cut into groups from the left.
            if f & CharClass.number != 0 {
                var groupStart = pos
                while pos < end, cls[pos] & CharClass.number != 0 {
                    pos += 1
                    if pos - groupStart >= maxDigits {
                        emit(pos)
                        groupStart = pos
                    }
                }
                emit(pos)
                continue
            }

            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            // llama.cpp tests the scalar after the space (no class past the segment, so a final lone
            // space qualifies and becomes a piece by itself, as `\s+` would make it).
            let f2: UInt8 = c == 0x20 ? (pos + 1 < end ? cls[pos + 1] : 0) : f
            if f2 & wordClasses == 0 {
                pos += c == 0x20 ? 1 : 0
                while pos < end, cls[pos] & wordClasses == 0 { pos += 1 }
                while pos < end, isNewline(s[pos]) { pos += 1 }
                emit(pos)
                continue
            }

            // Whitespace run, remembering where its last \r or \n ends.
            var whitespace = 0
            var lastNewlineEnd: Int? = nil
            while pos + whitespace < end, cls[pos + whitespace] & CharClass.whitespace != 0 {
                if isNewline(s[pos + whitespace]) { lastNewlineEnd = pos + whitespace + 1 }
                whitespace += 1
            }
            // \s*[\r\n]+
            if let lastNewlineEnd {
                pos = lastNewlineEnd
                emit(pos)
                continue
            }
            pos = whitespaceAlternativesEnd(pos: pos, whitespace: whitespace, end: end)
            emit(pos)
        }
    }
}
