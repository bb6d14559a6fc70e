/// One lexical token of a template, with its 1-based position in the (newline-normalised) source.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// Literal text between tags, already trimmed by whitespace control.
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }

    let kind: Kind
    let line: Int
    let column: Int
}

/// Splits a template into text and tag tokens with jinja2's rules as Hugging Face configures them
/// (`trim_blocks`, `lstrip_blocks`, `keep_trailing_newline=False`):
///
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all whitespace after.
/// - lstrip_blocks: spaces and tabs (any whitespace but newlines) between the start of a line and a
///   `{%` or `{#` tag are removed, unless the tag is written `{%+`. Never for `{{`.
/// - trim_blocks: the first newline after `%}` or `#}` is removed, unless written `+%}`. Never after `}}`.
/// - `\r\n` and `\r` become `\n`, and one trailing newline of the template is dropped.
struct TemplateLexer {
    private let src: [UInt8]
    private var pos = 0
    private var tokens: [Token] = []
    private var lineStarts: [Int] = [0]

    static let operators2: Set<String> = ["//", "**", "==", "!=", ">=", "<="]
    static let operators1: Set<UInt8> = Set("+-*/%~[](){}<>=.:|,;".utf8)

    init(source: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(source.utf8.count)
        var it = source.utf8.makeIterator()
        var pending = it.next()
        while let b = pending {
            pending = it.next()
            if b == 0x0D {
                bytes.append(0x0A)
                if pending == 0x0A { pending = it.next() }
            } else {
                bytes.append(b)
            }
        }
        if bytes.last == 0x0A { bytes.removeLast() }
        src = bytes
        for (i, b) in src.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
    }

    static func tokenize(_ source: String) throws(TemplateError) -> [Token] {
        var lexer = TemplateLexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private func position(_ offset: Int) -> (line: Int, column: Int) {
        // Binary search for the line holding `offset`.
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo] + 1)
    }

    private func error(_ message: String, at offset: Int) -> TemplateError {
        let p = position(offset)
        return .syntax(message: message, line: p.line, column: p.column)
    }

    private mutating func emit(_ kind: Token.Kind, at offset: Int) {
        let p = position(offset)
        tokens.append(Token(kind: kind, line: p.line, column: p.column))
    }

    /// The code point starting at `i` and its length in bytes (invalid bytes cannot occur: the
    /// source came from a `String`).
    private func scalar(at i: Int) -> (Unicode.Scalar, Int) {
        let b0 = src[i]
        var value: UInt32
        var length: Int
        switch b0 {
        case 0..<0x80: return (Unicode.Scalar(b0), 1)
        case 0xC0..<0xE0: value = UInt32(b0 & 0x1F); length = 2
        case 0xE0..<0xF0: value = UInt32(b0 & 0x0F); length = 3
        default: value = UInt32(b0 & 0x07); length = 4
        }
        guard i + length <= src.count else { return ("\u{FFFD}", 1) }
        for k in 1..<length { value = value << 6 | UInt32(src[i + k] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    private func skipWhitespace(from i: Int) -> Int {
        var j = i
        while j < src.count {
            let (u, n) = scalar(at: j)
            guard Python.isWhitespace(u) else { break }
            j += n
        }
        return j
    }

    private func startsWith(_ s: String, at i: Int) -> Bool {
        var j = i
        for b in s.utf8 {
            guard j < src.count, src[j] == b else { return false }
            j += 1
        }
        return true
    }

    private mutating func run() throws(TemplateError) {
        var lineStarting = true
        while pos < src.count {
            // The next tag opener.
            var open = pos
            var kind: UInt8 = 0
            while open + 1 < src.count {
                if src[open] == UInt8(ascii: "{") {
                    let c = src[open + 1]
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") { kind = c; break }
                }
                open += 1
            }
            guard kind != 0 else {
                emitText(pos, src.count)
                return
            }
            var sign: UInt8 = 0
            if open + 2 < src.count, src[open + 2] == UInt8(ascii: "-") || src[open + 2] == UInt8(ascii: "+") {
                sign = src[open + 2]
            }
            var textEnd = open
            if sign == UInt8(ascii: "-") {
                textEnd = trimTrailingWhitespace(pos, open)
            } else if sign != UInt8(ascii: "+") && kind != UInt8(ascii: "{") {
                // lstrip_blocks: only whitespace between the line start and the tag.
                var lineStart = open
                while lineStart > pos, src[lineStart - 1] != 0x0A { lineStart -= 1 }
                if (lineStart > pos || lineStarting) && lineStart < open && skipWhitespace(from: lineStart) == open {
                    textEnd = lineStart
                }
            }
            emitText(pos, textEnd)
            let inner = open + 2 + (sign != 0 ? 1 : 0)
            if kind == UInt8(ascii: "%"), let rawStart = rawBegin(inner) {
                pos = try raw(from: rawStart, opener: open)
                lineStarting = pos > 0 && src[pos - 1] == 0x0A
                continue
            }
            switch kind {
            case UInt8(ascii: "#"): pos = try comment(from: inner, opener: open)
            case UInt8(ascii: "%"):
                emit(.blockBegin, at: open)
                pos = try tag(from: inner, opener: open, isBlock: true)
            default:
                emit(.variableBegin, at: open)
                pos = try tag(from: inner, opener: open, isBlock: false)
            }
            lineStarting = pos > 0 && src[pos - 1] == 0x0A
        }
    }

    /// When the tag starting at `inner` is `raw` (`{% raw %}` or `{% raw -%}`), the offset where the
    /// raw text starts. No trim_blocks newline removal here, as in jinja2.
    private func rawBegin(_ inner: Int) -> Int? {
        let j = skipWhitespace(from: inner)
        guard startsWith("raw", at: j) else { return nil }
        let k = skipWhitespace(from: j + 3)
        if startsWith("-%}", at: k) { return skipWhitespace(from: k + 3) }
        if startsWith("%}", at: k) { return k + 2 }
        return nil
    }

    /// Literal text up to `{% endraw %}` (with the usual whitespace control on the end tag).
    private mutating func raw(from start: Int, opener: Int) throws(TemplateError) -> Int {
        var p = start
        while p + 1 < src.count {
            defer { p += 1 }
            guard src[p] == UInt8(ascii: "{"), src[p + 1] == UInt8(ascii: "%") else { continue }
            var q = p + 2
            var sign: UInt8 = 0
            if q < src.count, src[q] == UInt8(ascii: "-") || src[q] == UInt8(ascii: "+") { sign = src[q]; q += 1 }
            q = skipWhitespace(from: q)
            guard startsWith("endraw", at: q) else { continue }
            q = skipWhitespace(from: q + 6)
            var closeSign: UInt8 = 0
            if q < src.count, src[q] == UInt8(ascii: "-") || src[q] == UInt8(ascii: "+") { closeSign = src[q]; q += 1 }
            guard startsWith("%}", at: q) else { continue }
            var textEnd = p
            if sign == UInt8(ascii: "-") {
                textEnd = trimTrailingWhitespace(start, p)
            } else if sign != UInt8(ascii: "+") {
                var lineStart = p
                while lineStart > start, src[lineStart - 1] != 0x0A { lineStart -= 1 }
                let lineStarting = start > 0 && src[start - 1] == 0x0A
                if (lineStart > start || lineStarting) && lineStart < p && skipWhitespace(from: lineStart) == p { textEnd = lineStart }
            }
            emitText(start, textEnd)
            return afterClose(q + 2, sign: closeSign, trimNewline: true)
        }
        throw error("Missing end of raw directive", at: opener)
    }

    private mutating func emitText(_ from: Int, _ to: Int) {
        guard to > from else { return }
        emit(.text(String(decoding: src[from..<to], as: UTF8.self)), at: from)
    }

    /// The end of `src[from..<to]` with trailing whitespace (Python's `rstrip()`) removed.
    private func trimTrailingWhitespace(_ from: Int, _ to: Int) -> Int {
        let text = String(decoding: src[from..<to], as: UTF8.self)
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, Python.isWhitespace(last) { scalars.removeLast() }
        return from + String(scalars).utf8.count
    }

    /// After a tag's closing delimiter: `-` strips all whitespace, `+` nothing, otherwise
    /// trim_blocks removes one newline (block and comment tags only).
    private func afterClose(_ i: Int, sign: UInt8, trimNewline: Bool) -> Int {
        if sign == UInt8(ascii: "-") { return skipWhitespace(from: i) }
        if sign != UInt8(ascii: "+"), trimNewline, i < src.count, src[i] == 0x0A { return i + 1 }
        return i
    }

    private mutating func comment(from inner: Int, opener: Int) throws(TemplateError) -> Int {
        var q = inner
        while q + 1 < src.count, !(src[q] == UInt8(ascii: "#") && src[q + 1] == UInt8(ascii: "}")) { q += 1 }
        guard q + 1 < src.count else { throw error("Missing end of comment tag", at: opener) }
        let sign: UInt8 = q > inner && (src[q - 1] == UInt8(ascii: "-") || src[q - 1] == UInt8(ascii: "+")) ? src[q - 1] : 0
        return afterClose(q + 2, sign: sign, trimNewline: true)
    }

    /// Tokens inside `{% %}` or `{{ }}` up to the closing delimiter; returns the offset after it.
    private mutating func tag(from inner: Int, opener: Int, isBlock: Bool) throws(TemplateError) -> Int {
        var i = inner
        var balance: [UInt8] = []
        let close: UInt8 = isBlock ? UInt8(ascii: "%") : UInt8(ascii: "}")
        while true {
            guard i < src.count else {
                throw error(isBlock ? "unexpected end of template: missing '%}'" : "unexpected end of template: missing '}}'", at: opener)
            }
            // The closing delimiter counts only outside brackets, as in jinja2.
            if balance.isEmpty {
                var sign: UInt8 = 0
                var at = i
                if src[i] == UInt8(ascii: "-") || (isBlock && src[i] == UInt8(ascii: "+")) { sign = src[i]; at = i + 1 }
                if at + 1 < src.count, src[at] == close, src[at + 1] == UInt8(ascii: "}") {
                    emit(isBlock ? .blockEnd : .variableEnd, at: i)
                    return afterClose(at + 2, sign: sign, trimNewline: isBlock)
                }
            }
            let c = src[i]
            if c >= 0x80 || c == 0x20 || (0x09...0x0D).contains(c) {
                let (u, n) = scalar(at: i)
                guard Python.isWhitespace(u) else { throw error("unexpected char '\(Character(u))'", at: i) }
                i += n
                continue
            }
            if c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z")) {
                let start = i
                while i < src.count, src[i] == UInt8(ascii: "_") || isAlnum(src[i]) { i += 1 }
                emit(.name(String(decoding: src[start..<i], as: UTF8.self)), at: start)
                continue
            }
            if isDigit(c) {
                i = try number(from: i)
                continue
            }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                i = try string(from: i)
                continue
            }
            if i + 1 < src.count {
                let two = String(decoding: src[i..<i + 2], as: UTF8.self)
                if Self.operators2.contains(two) {
                    emit(.op(two), at: i)
                    i += 2
                    continue
                }
            }
            guard Self.operators1.contains(c) else { throw error("unexpected char '\(Character(Unicode.Scalar(c)))'", at: i) }
            switch c {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                balance.append(c == UInt8(ascii: "(") ? UInt8(ascii: ")") : c == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}"))
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                guard let expected = balance.popLast() else { throw error("unexpected '\(Character(Unicode.Scalar(c)))'", at: i) }
                guard expected == c else {
                    throw error("unexpected '\(Character(Unicode.Scalar(c)))', expected '\(Character(Unicode.Scalar(expected)))'", at: i)
                }
            default: break
            }
            emit(.op(String(Character(Unicode.Scalar(c)))), at: i)
            i += 1
        }
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z")) }

    /// Digits with single underscores between them: `(\d+_)*\d+`. Returns the end offset.
    private func digits(from i: Int) -> Int {
        var j = i
        while j < src.count, isDigit(src[j]) {
            j += 1
            if j + 1 < src.count, src[j] == UInt8(ascii: "_"), isDigit(src[j + 1]) { j += 1 }
        }
        return j
    }

    private mutating func number(from start: Int) throws(TemplateError) -> Int {
        var i = digits(from: start)
        var isFloat = false
        if i + 1 < src.count, src[i] == UInt8(ascii: "."), isDigit(src[i + 1]) {
            isFloat = true
            i = digits(from: i + 1)
        }
        if i < src.count, src[i] | 0x20 == UInt8(ascii: "e") {
            var j = i + 1
            if j < src.count, src[j] == UInt8(ascii: "+") || src[j] == UInt8(ascii: "-") { j += 1 }
            if j < src.count, isDigit(src[j]) {
                isFloat = true
                i = digits(from: j)
            }
        }
        let text = String(decoding: src[start..<i].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        if isFloat {
            guard let d = Double(text) else { throw error("invalid number '\(text)'", at: start) }
            emit(.float(d), at: start)
        } else {
            guard let n = Int(text) else {
                let p = position(start)
                throw .limitExceeded(limit: .valueSize, message: "integer literal \(text.prefix(30))… at line \(p.line) does not fit in 64 bits")
            }
            emit(.integer(n), at: start)
        }
        return i
    }

    /// A quoted string with Python's escapes (jinja2 decodes literals with `unicode-escape`).
    private mutating func string(from start: Int) throws(TemplateError) -> Int {
        let quote = src[start]
        var i = start + 1
        var out: [UInt8] = []
        while true {
            guard i < src.count else { throw error("unterminated string", at: start) }
            let c = src[i]
            if c == quote { break }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < src.count else { throw error("unterminated string", at: start) }
            let e = src[i + 1]
            i += 2
            switch e {
            case 0x0A: break  // line continuation
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 0x30)
                var k = 0
                while k < 2, i < src.count, src[i] >= UInt8(ascii: "0"), src[i] <= UInt8(ascii: "7") {
                    v = v * 8 + UInt32(src[i] - 0x30)
                    i += 1
                    k += 1
                }
                appendScalar(v, to: &out)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let width = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
                var v: UInt32 = 0
                for _ in 0..<width {
                    guard i < src.count, let d = hexDigit(src[i]) else { throw error("truncated \\\(Character(Unicode.Scalar(e))) escape in string", at: start) }
                    v = v << 4 | d
                    i += 1
                }
                guard Unicode.Scalar(v) != nil else { throw error("invalid \\\(Character(Unicode.Scalar(e))) escape in string", at: start) }
                appendScalar(v, to: &out)
            case UInt8(ascii: "N"): throw error("\\N{...} escapes are not supported", at: start)
            default:
                // Python keeps unknown escapes as they are.
                out.append(UInt8(ascii: "\\"))
                out.append(e)
            }
        }
        emit(.string(String(decoding: out, as: UTF8.self)), at: start)
        return i + 1
    }

    private func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    private func appendScalar(_ v: UInt32, to out: inout [UInt8]) {
        out.append(contentsOf: String(Character(Unicode.Scalar(v) ?? "\u{FFFD}")).utf8)
    }
}
