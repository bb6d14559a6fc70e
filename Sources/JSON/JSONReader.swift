extension JSONValue {
    /// The nesting limit of ``init(parsing:maxDepth:)`` when its caller gives none.
    package static let defaultMaxDepth = 256

    /// Reads one JSON text (RFC 8259): a value with optional whitespace (space, tab, LF, CR) around
    /// it, UTF-8 without a byte order mark.
    ///
    /// Strict where RFC 8259 lets a reader choose: no `NaN`/`Infinity`, comments, trailing commas or
    /// leading zeros; a `\u` escape of a lone surrogate is refused (a `String` cannot hold one),
    /// and every string must be well-formed UTF-8. At most `maxDepth` arrays and objects may be
    /// open at once.
    ///
    /// Memory: the input is read in place (contiguous collections such as `[UInt8]`, `Data` and a
    /// `String`'s `utf8` are not copied). Besides the value it returns, the reader holds one buffer
    /// for the string it is decoding and a call stack of at most `maxDepth` frames, however large
    /// the text.
    /// - Throws: ``JSONError`` with the offset of the first byte at fault.
    package init(parsing bytes: some Collection<UInt8>, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONError) {
        func read(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONError> {
            var reader = JSONReader(bytes: buffer, maxDepth: maxDepth)
            do { return .success(try reader.document()) } catch { return .failure(error) }
        }
        let result = bytes.withContiguousStorageIfAvailable(read) ?? Array(bytes).withUnsafeBufferPointer(read)
        self = try result.get()
    }
}

/// The reader behind ``JSONValue/init(parsing:maxDepth:)``. Every access to `bytes` is preceded by a
/// check of `at` against `bytes.count`.
private struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var at = 0
    var depth = 0
    /// The decoded bytes of a string with escapes, reused from string to string.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ reason: JSONError.Reason, at offset: Int? = nil) -> JSONError {
        JSONError(offset: offset ?? at, reason: reason)
    }

    /// The byte at `at`, or an "unexpected end" error.
    func current() throws(JSONError) -> UInt8 {
        guard at < bytes.count else { throw fail(.unexpectedEnd) }
        return bytes[at]
    }

    mutating func document() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try value()
        skipWhitespace()
        guard at == bytes.count else { throw fail(.trailingData) }
        return value
    }

    mutating func skipWhitespace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    mutating func value() throws(JSONError) -> JSONValue {
        switch try current() {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try number())
        case let byte: throw fail(.unexpectedByte(byte))
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in expected {
            let found = try current()
            guard found == byte else { throw fail(.unexpectedByte(found)) }
            at += 1
        }
    }

    /// Steps into an array or object, `at` on its opening bracket.
    mutating func enterContainer() throws(JSONError) {
        guard depth < maxDepth else { throw fail(.nestedTooDeeply(limit: maxDepth)) }
        depth += 1
        at += 1
        skipWhitespace()
    }

    /// After an element or member: true (and out of the container) at its closing bracket, false
    /// after a comma, which must be followed by another element.
    mutating func closes(with closing: Character) throws(JSONError) -> Bool {
        skipWhitespace()
        let byte = try current()
        at += 1
        if byte == UInt8(ascii: ",") {
            skipWhitespace()
            return false
        }
        guard byte == closing.asciiValue else { throw fail(.expectedCommaOr(closing: closing), at: at - 1) }
        depth -= 1
        return true
    }

    mutating func object() throws(JSONError) -> JSONValue {
        try enterContainer()
        var members: [(key: String, value: JSONValue)] = []
        if try current() == UInt8(ascii: "}"), try closes(with: "}") { return .object(members) }
        repeat {
            guard try current() == UInt8(ascii: "\"") else { throw fail(.expectedMemberName) }
            let key = try string()
            skipWhitespace()
            guard try current() == UInt8(ascii: ":") else { throw fail(.expectedColon) }
            at += 1
            skipWhitespace()
            members.append((key, try value()))
        } while try !closes(with: "}")
        return .object(members)
    }

    mutating func array() throws(JSONError) -> JSONValue {
        try enterContainer()
        var items: [JSONValue] = []
        if try current() == UInt8(ascii: "]"), try closes(with: "]") { return .array(items) }
        repeat {
            items.append(try value())
        } while try !closes(with: "]")
        return .array(items)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// At least one digit, then all that follow.
    mutating func digits() throws(JSONError) {
        guard Self.isDigit(try current()) else { throw fail(.missingDigits) }
        while at < bytes.count, Self.isDigit(bytes[at]) { at += 1 }
    }

    mutating func number() throws(JSONError) -> JSONNumber {
        let start = at
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        if try current() == UInt8(ascii: "0") {
            at += 1
            if at < bytes.count, Self.isDigit(bytes[at]) { throw fail(.leadingZero) }
        } else {
            try digits()
        }
        var isInteger = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            isInteger = false
            at += 1
            try digits()
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            isInteger = false
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            try digits()
        }
        return JSONNumber(text: String(decoding: UnsafeBufferPointer(rebasing: bytes[start ..< at]), as: UTF8.self), isInteger: isInteger)
    }

    /// A string token, `at` on its opening quote. Runs without escapes are validated in place and
    /// copied once, into the `String`.
    mutating func string() throws(JSONError) -> String {
        at += 1
        let start = at
        while true {
            let byte = try current()
            if byte == UInt8(ascii: "\"") {
                at += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start ..< at - 1]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            try skipCharacter(byte)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start ..< at]))
        while true {
            let byte = try current()
            if byte == UInt8(ascii: "\"") {
                at += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                try escape()
            } else {
                let characterStart = at
                try skipCharacter(byte)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[characterStart ..< at]))
            }
        }
    }

    /// Steps over one unescaped character of a string, `byte` its first byte: refuses control
    /// characters and ill-formed UTF-8 (RFC 3629's table of well-formed sequences).
    mutating func skipCharacter(_ byte: UInt8) throws(JSONError) {
        if byte < 0x20 { throw fail(.controlCharacter) }
        if byte < 0x80 {
            at += 1
            return
        }
        let second: ClosedRange<UInt8>
        let length: Int
        switch byte {
        case 0xC2 ... 0xDF: (second, length) = (0x80 ... 0xBF, 2)
        case 0xE0: (second, length) = (0xA0 ... 0xBF, 3)
        case 0xE1 ... 0xEC, 0xEE ... 0xEF: (second, length) = (0x80 ... 0xBF, 3)
        case 0xED: (second, length) = (0x80 ... 0x9F, 3)
        case 0xF0: (second, length) = (0x90 ... 0xBF, 4)
        case 0xF1 ... 0xF3: (second, length) = (0x80 ... 0xBF, 4)
        case 0xF4: (second, length) = (0x80 ... 0x8F, 4)
        default: throw fail(.invalidUTF8)
        }
        guard at + length <= bytes.count, second.contains(bytes[at + 1]) else { throw fail(.invalidUTF8) }
        for i in 2 ..< length where !(0x80 ... 0xBF).contains(bytes[at + i]) { throw fail(.invalidUTF8) }
        at += length
    }

    /// What the escapes other than `\u` stand for, by the letter after the backslash.
    static func shortEscape(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): letter
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// One escape, `at` on its backslash; appends what it stands for to `scratch`.
    mutating func escape() throws(JSONError) {
        let start = at
        at += 1
        let letter = try current()
        at += 1
        if let byte = Self.shortEscape(letter) {
            scratch.append(byte)
            return
        }
        guard letter == UInt8(ascii: "u") else { throw fail(.unknownEscape, at: start) }
        var scalar = try hex4()
        if (0xD800 ..< 0xDC00).contains(scalar) {
            // A high surrogate must be followed at once by an escaped low one.
            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                throw fail(.loneSurrogate, at: start)
            }
            at += 2
            let low = try hex4()
            guard (0xDC00 ..< 0xE000).contains(low) else { throw fail(.loneSurrogate, at: start) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00 ..< 0xE000).contains(scalar) {
            throw fail(.loneSurrogate, at: start)
        }
        appendUTF8(scalar)
    }

    /// Four hexadecimal digits, either case.
    mutating func hex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            let c = try current()
            let lower = c | 0x20  // ASCII letters to lower case; digits keep their value
            guard Self.isDigit(c) || (UInt8(ascii: "a") ... UInt8(ascii: "f")).contains(lower) else { throw fail(.badUnicodeEscape) }
            value = value << 4 | UInt32(Self.isDigit(c) ? c - 0x30 : lower - UInt8(ascii: "a") + 10)
            at += 1
        }
        return value
    }

    /// The UTF-8 form of a scalar value (never a surrogate: `escape()` refuses those).
    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
