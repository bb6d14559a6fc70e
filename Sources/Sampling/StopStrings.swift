/// The request's stop strings as UTF-8, matched on a sequence's text as it grows.
///
/// Matching bytes of valid UTF-8 finds exactly the matches a code-point search finds (vLLM
/// searches Python strings), since UTF-8 is self-synchronising.
struct StopStrings: Sendable {
    let patterns: [[UInt8]]
    let strings: [String]
    /// The longest pattern's length: no match can start further back than this before new text.
    let longest: Int

    init(_ strings: [String]) {
        self.strings = strings
        patterns = strings.map { Array($0.utf8) }
        longest = patterns.map(\.count).max() ?? 0
    }

    /// The match vLLM 0.4's `StopChecker._check_stop_strings` finds once `text[newFrom...]` has
    /// been added: the strings are tried in list order, and the first one found anywhere in the
    /// new text (a match may begin before it) wins, at its earliest position there, even when a
    /// later string of the list matches earlier in the text. An empty string matches at once, at
    /// the start of the new text (Python's `find("")`), so it drops that text.
    func firstMatch(in text: [UInt8], newFrom: Int) -> (start: Int, string: String)? {
        for (p, pattern) in patterns.enumerated() {
            if pattern.isEmpty { return (newFrom, strings[p]) }
            guard pattern.count <= text.count else { continue }
            var start = max(0, newFrom - pattern.count + 1)
            let lastStart = text.count - pattern.count
            while start <= lastStart {
                if text[start] == pattern[0], text[start ..< start + pattern.count].elementsEqual(pattern) {
                    return (start, strings[p])
                }
                start += 1
            }
        }
        return nil
    }

    /// How many trailing bytes of `text[from...]` could still begin a stop string: they are held
    /// back, so that text once reported is never taken back by a later match.
    func heldBack(in text: [UInt8], from: Int) -> Int {
        let available = text.count - from
        var length = min(longest - 1, available)
        while length > 0 {
            let suffix = text[(text.count - length)...]
            for pattern in patterns where pattern.count > length && pattern[0 ..< length].elementsEqual(suffix) {
                return length
            }
            length -= 1
        }
        return 0
    }
}

/// A sequence's text: every byte the detokenizer produced up to a stop string's start, and how
/// much of it has been reported.
struct OutputText: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var reported = 0

    /// Adds `delta`; on a stop string, cuts the text at its start and returns the string.
    mutating func append(_ delta: String, stops: StopStrings) -> String? {
        guard !delta.isEmpty else { return nil }
        let newFrom = bytes.count
        bytes.append(contentsOf: delta.utf8)
        guard !stops.patterns.isEmpty, let match = stops.firstMatch(in: bytes, newFrom: newFrom) else { return nil }
        bytes.removeLast(bytes.count - max(match.start, reported))
        return match.string
    }

    /// The text not yet reported that no stop string can take back: all of it once the sequence
    /// has finished.
    mutating func takeFinal(finished: Bool, stops: StopStrings) -> String {
        let end = finished ? bytes.count : bytes.count - stops.heldBack(in: bytes, from: reported)
        guard end > reported else { return "" }
        let text = String(decoding: bytes[reported ..< end], as: UTF8.self)
        reported = end
        return text
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
