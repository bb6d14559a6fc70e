import Foundation

/// Python's `str` methods, on code points (never on Swift's grapheme clusters, and never with
/// Swift's canonical-equivalence matching): `len('é')` is 2 when the accent is combining.
enum StringOps {
    /// The code-point offset of the first occurrence of `needle` in `haystack` at or after
    /// code point `from`, or nil.
    static func find(_ needle: String, in haystack: String, from: Int = 0) -> Int? {
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        guard let byteOffset = findBytes(n, in: h, from: byteOffset(ofScalar: from, in: h)) else { return nil }
        return scalarCount(h[0..<byteOffset])
    }

    /// Knuth–Morris–Pratt: linear in both lengths, so a hostile needle such as `'a' * 500000 + 'b'`
    /// cannot make a search quadratic.
    static func findBytes(_ n: [UInt8], in h: [UInt8], from: Int = 0) -> Int? {
        guard from >= 0, from <= h.count else { return nil }
        if n.isEmpty { return from }
        guard n.count <= h.count - from else { return nil }
        var fail = [Int](repeating: 0, count: n.count)
        var k = 0
        for i in 1..<n.count {
            while k > 0 && n[i] != n[k] { k = fail[k - 1] }
            if n[i] == n[k] { k += 1 }
            fail[i] = k
        }
        k = 0
        for i in from..<h.count {
            while k > 0 && h[i] != n[k] { k = fail[k - 1] }
            if h[i] == n[k] { k += 1 }
            if k == n.count { return i - n.count + 1 }
        }
        return nil
    }

    static func scalarCount(_ bytes: ArraySlice<UInt8>) -> Int {
        var c = 0
        for b in bytes where b & 0xC0 != 0x80 { c += 1 }
        return c
    }

    static func byteOffset(ofScalar index: Int, in h: [UInt8]) -> Int {
        var seen = 0, i = 0
        while i < h.count {
            if h[i] & 0xC0 != 0x80 {
                if seen == index { return i }
                seen += 1
            }
            i += 1
        }
        return h.count
    }

    /// Splits on every occurrence of a non-empty separator.
    static func split(_ s: String, on sep: String, maxSplit: Int = -1) -> [String] {
        let h = Array(s.utf8), n = Array(sep.utf8)
        var parts: [String] = []
        var start = 0
        while maxSplit < 0 || parts.count < maxSplit, let at = findBytes(n, in: h, from: start) {
            parts.append(String(decoding: h[start..<at], as: UTF8.self))
            start = at + n.count
        }
        parts.append(String(decoding: h[start...], as: UTF8.self))
        return parts
    }

    /// `str.split()` without a separator: runs of whitespace, no empty parts.
    static func splitWhitespace(_ s: String, maxSplit: Int = -1) -> [String] {
        var parts: [String] = []
        var scalars = Substring(s).unicodeScalars[...]
        while true {
            while let f = scalars.first, Python.isWhitespace(f) { scalars.removeFirst() }
            if scalars.isEmpty { break }
            if maxSplit >= 0 && parts.count >= maxSplit {
                var rest = scalars
                while let l = rest.last, Python.isWhitespace(l) { rest.removeLast() }
                parts.append(String(rest))
                break
            }
            var word = String.UnicodeScalarView()
            while let f = scalars.first, !Python.isWhitespace(f) { word.append(f); scalars.removeFirst() }
            parts.append(String(word))
        }
        return parts
    }

    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let set: Set<Unicode.Scalar>? = chars.map { Set($0.unicodeScalars) }
        func strippable(_ u: Unicode.Scalar) -> Bool { set.map { $0.contains(u) } ?? Python.isWhitespace(u) }
        var v = Substring(s).unicodeScalars[...]
        if leading { while let f = v.first, strippable(f) { v.removeFirst() } }
        if trailing { while let l = v.last, strippable(l) { v.removeLast() } }
        return String(v)
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int, _ interpreter: Interpreter) throws(TemplateError) -> String {
        if old.isEmpty {
            // Python inserts `new` before every code point and at the end.
            let scalars = Array(s.unicodeScalars)
            let times = count < 0 ? scalars.count + 1 : min(count, scalars.count + 1)
            try interpreter.reserve(s.utf8.count + times * new.utf8.count, what: "a string")
            var out = ""
            for (i, u) in scalars.enumerated() {
                if i < times { out += new }
                out.unicodeScalars.append(u)
            }
            if times > scalars.count { out += new }
            return out
        }
        let parts = split(s, on: old, maxSplit: count)
        let (extra, o) = (parts.count - 1).multipliedReportingOverflow(by: new.utf8.count)
        try interpreter.reserve(o ? -1 : s.utf8.count + extra, what: "a string")
        return parts.joined(separator: new)
    }

    static func upper(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars { out += u.properties.uppercaseMapping }
        return out
    }

    static func lower(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var out = ""
        for i in scalars.indices { out += lower(scalars, at: i) }
        return out
    }

    /// The lower case of `scalars[i]` as Python's `lower_ucs4` makes it: a capital sigma at the end
    /// of a word (after a cased letter, not before one, case-ignorable characters skipped) becomes
    /// the final form ς.
    static func lower(_ scalars: [Unicode.Scalar], at i: Int) -> String {
        let u = scalars[i]
        guard u == "\u{03A3}" else { return u.properties.lowercaseMapping }
        var j = i - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        var k = i + 1
        while k < scalars.count, scalars[k].properties.isCaseIgnorable { k += 1 }
        let final = j >= 0 && isCased(scalars[j]) && !(k < scalars.count && isCased(scalars[k]))
        return final ? "\u{03C2}" : "\u{03C3}"
    }

    /// Python's `_PyUnicode_IsCased`: the Unicode Cased property.
    static func isCased(_ u: Unicode.Scalar) -> Bool { u.properties.isCased }

    /// `str.title()`: after a cased character lower case, otherwise title case.
    static func title(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var out = ""
        var previousCased = false
        for (i, u) in scalars.enumerated() {
            out += previousCased ? lower(scalars, at: i) : u.properties.titlecaseMapping
            previousCased = isCased(u)
        }
        return out
    }

    /// `str.capitalize()`: the first code point in title case, the rest lower case.
    static func capitalize(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var out = ""
        for (i, u) in scalars.enumerated() { out += i == 0 ? u.properties.titlecaseMapping : lower(scalars, at: i) }
        return out
    }

    /// `str.splitlines(keepends)`.
    static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let u = scalars[i]
            if Python.isLineBreak(u) {
                var end = String.UnicodeScalarView([u])
                if u == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { end.append("\n"); i += 1 }
                if keepEnds { line.append(contentsOf: end) }
                lines.append(String(line))
                line = String.UnicodeScalarView()
            } else {
                line.append(u)
            }
            i += 1
        }
        if !line.isEmpty { lines.append(String(line)) }
        return lines
    }

    private static func stringArgument(_ v: Value?, _ method: String) throws(TemplateError) -> String? {
        switch v {
        case nil, .none?: return nil
        case let .string(s)?: return s
        case let .undefined(u)?: throw .undefined(message: u.message)
        case let other?: throw .type(message: "\(method) arg must be None or str, not \(other.pythonTypeName)")
        }
    }

    private static func intArgument(_ v: Value?, default d: Int) throws(TemplateError) -> Int {
        guard let v else { return d }
        guard case let .int(i)? = Python.number(v) else { throw .type(message: "an integer is required, got \(v.pythonTypeName)") }
        return i
    }

    /// Prefixes for `startswith` / `endswith`: a string or a tuple of strings.
    private static func affixes(_ v: Value?, _ method: String) throws(TemplateError) -> [String] {
        switch v {
        case let .string(s)?: return [s]
        case let .tuple(a)?, let .list(a)?:
            var out: [String] = []
            for x in a {
                guard case let .string(s) = x else { throw .type(message: "tuple for \(method) must only contain str, not \(x.pythonTypeName)") }
                out.append(s)
            }
            return out
        case let other?: throw .type(message: "\(method) first arg must be str or a tuple of str, not \(other.pythonTypeName)")
        case nil: throw .type(message: "\(method)() takes at least 1 argument (0 given)")
        }
    }

    static func method(_ name: String, _ s: String, _ args: EvaluatedArguments, _ interpreter: Interpreter) throws(TemplateError) -> Value {
        let a0 = args.positional.first
        switch name {
        case "strip": return .string(strip(s, try stringArgument(a0, name), leading: true, trailing: true))
        case "lstrip": return .string(strip(s, try stringArgument(a0, name), leading: true, trailing: false))
        case "rstrip": return .string(strip(s, try stringArgument(a0, name), leading: false, trailing: true))
        case "upper": return .string(upper(s))
        case "lower": return .string(lower(s))
        case "title": return .string(title(s))
        case "capitalize": return .string(capitalize(s))
        case "startswith":
            return .bool(try affixes(a0, name).contains { s.utf8.starts(with: $0.utf8) })
        case "endswith":
            return .bool(try affixes(a0, name).contains { s.utf8.reversed().starts(with: $0.utf8.reversed()) })
        case "split", "rsplit":
            let sep = try stringArgument(args.argument(0, "sep"), name)
            let maxSplit = try intArgument(args.argument(1, "maxsplit"), default: -1)
            if sep == "" { throw .runtime(message: "empty separator") }
            var parts: [String]
            if name == "split" {
                parts = sep.map { split(s, on: $0, maxSplit: maxSplit) } ?? splitWhitespace(s, maxSplit: maxSplit)
            } else {
                // rsplit: split the reversed text with the reversed separator, then reverse back.
                let r = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
                let rsep = sep.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
                parts = rsep.map { split(r, on: $0, maxSplit: maxSplit) } ?? splitWhitespace(r, maxSplit: maxSplit)
                parts = parts.reversed().map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
            }
            try interpreter.reserveElements(parts.count, what: "a list")
            return .list(parts.map { .string($0) })
        case "splitlines":
            let keep = args.argument(0, "keepends")?.isTruthy ?? false
            return .list(splitLines(s, keepEnds: keep).map { .string($0) })
        case "replace":
            guard case let .string(old)? = args.argument(0, "old"), case let .string(new)? = args.argument(1, "new") else {
                throw .type(message: "replace() arguments must be str")
            }
            let count = try intArgument(args.argument(2, "count"), default: -1)
            return .string(try replace(s, old, new, count: count, interpreter))
        case "find", "index", "rfind":
            guard case let .string(n)? = a0 else { throw .type(message: "\(name)() argument must be str") }
            var found: Int?
            if name == "rfind" {
                // The last occurrence is the first one in the reversed bytes: one linear search.
                let h = Array(s.utf8)
                if let r = findBytes(Array(n.utf8.reversed()), in: h.reversed()) {
                    found = scalarCount(h[0..<(h.count - r - n.utf8.count)])
                }
            } else {
                found = find(n, in: s)
            }
            if found == nil && name == "index" { throw .runtime(message: "substring not found") }
            return .int(found ?? -1)
        case "count":
            guard case let .string(n)? = a0 else { throw .type(message: "count() argument must be str") }
            if n.isEmpty { return .int(s.unicodeScalars.count + 1) }
            return .int(split(s, on: n).count - 1)
        case "join":
            guard let a0 else { throw .type(message: "join() takes exactly one argument (0 given)") }
            var pieces: [String] = []
            var size = 0
            for (i, item) in try interpreter.iterate(a0).enumerated() {
                guard case let .string(p) = item else {
                    throw .type(message: "sequence item \(i): expected str instance, \(item.pythonTypeName) found")
                }
                size += p.utf8.count + s.utf8.count
                try interpreter.checkSize(size, what: "a joined string")
                pieces.append(p)
            }
            try interpreter.step(size / 64)
            return .string(pieces.joined(separator: s))
        case "removeprefix", "removesuffix":
            guard case let .string(a)? = a0 else { throw .type(message: "\(name)() argument must be str") }
            let scalars = Array(s.unicodeScalars), affix = Array(a.unicodeScalars)
            if name == "removeprefix", scalars.starts(with: affix) {
                return .string(String(String.UnicodeScalarView(scalars.dropFirst(affix.count))))
            }
            if name == "removesuffix", !affix.isEmpty, scalars.reversed().starts(with: affix.reversed()) {
                return .string(String(String.UnicodeScalarView(scalars.dropLast(affix.count))))
            }
            return .string(s)
        case "isdigit":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .digit || $0.properties.numericType == .decimal })
        case "isalpha":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(Python.isWhitespace))
        case "isupper":
            return .bool(s.unicodeScalars.contains(where: isCased) && upper(s).utf8.elementsEqual(s.utf8))
        case "islower":
            return .bool(s.unicodeScalars.contains(where: isCased) && lower(s).utf8.elementsEqual(s.utf8))
        default:
            throw .type(message: "'str' object has no method '\(name)'")
        }
    }

    /// Hugging Face's `strftime_now(format)`: the local time formatted with C's strftime, as
    /// Python's `datetime.now().strftime` does for the common directives.
    static func strftimeNow(_ format: String) -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [Int8](repeating: 0, count: 512)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
