/// GPT-2's pre-tokenizer regex, scanned by hand:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///
/// This follows llama.cpp's `unicode_regex_split_custom_gpt2` step by step, including its trailing
/// `\s+` (llama.cpp's regex string for this family leaves it out, but its scanner implements it, and
/// a stretch the regex leaves unmatched would become its own piece anyway). The contractions are
/// case-sensitive here, unlike Llama-3's.
enum GPT2Rule {
    static func split(_ text: ScalarText, _ segment: Range<Int>, into ends: inout [Int]) {
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

        while pos < end {
            let c = s[pos]
            let f = cls[pos]

            // 's|'t|'re|'ve|'m|'ll|'d
            if c == 0x27, pos + 1 < end {
                let next = s[pos + 1]
                if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {  // s t m d
                    emit(pos + 2); pos += 2
                    continue
                }
                if pos + 2 < end {
                    let next2 = s[pos + 2]
                    if (next == 0x72 && next2 == 0x65) || (next == 0x76 && next2 == 0x65)
                        || (next == 0x6C && next2 == 0x6C) {  // re ve ll
                        emit(pos + 3); pos += 3
                        continue
                    }
                }
            }

            // The optional leading space: look at the scalar after it. `nil` = past the segment,
            // which has no class at all (llama.cpp's zero flags), so nothing below matches it.
            let isSpace = c == 0x20
            let f2: UInt8? = isSpace ? (pos + 1 < end ? cls[pos + 1] : nil) : f

            if let f2 {
                //  ?\p{L}+
                if f2 & CharClass.letter != 0 {
                    pos += isSpace ? 1 : 0
                    while pos < end, cls[pos] & CharClass.letter != 0 { pos += 1 }
                    emit(pos)
                    continue
                }
                //  ?\p{N}+
                if f2 & CharClass.number != 0 {
                    pos += isSpace ? 1 : 0
                    while pos < end, cls[pos] & CharClass.number != 0 { pos += 1 }
                    emit(pos)
                    continue
                }
                //  ?[^\s\p{L}\p{N}]+
                if f2 & wordClasses == 0 {
                    pos += isSpace ? 1 : 0
                    while pos < end, cls[pos] & wordClasses == 0 { pos += 1 }
                    emit(pos)
                    continue
                }
            }

            var whitespace = 0
            while pos + whitespace < end, cls[pos + whitespace] & CharClass.whitespace != 0 { whitespace += 1 }
            pos = whitespaceAlternativesEnd(pos: pos, whitespace: whitespace, end: end)
            emit(pos)
        }
    }
}
