/// Python's printing and comparison rules, which decide jinja2's output byte for byte.
enum Python {
    /// `repr(x)` of a scalar (containers are printed by `Interpreter.str`, which bounds their size).
    static func repr(_ v: Value) -> String {
        switch v {
        case .undefined: return "Undefined"
        case .none: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .float(d): return float(d)
        case let .string(s): return stringRepr(s)
        case let .range(start, stop, step): return step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))"
        case .loop: return "<LoopContext>"
        case let .macro(m): return "<Macro '\(m.definition.name)'>"
        case let .function(f): return "<function \(f.rawValue)>"
        case let .method(_, name): return "<built-in method \(name)>"
        case .list, .tuple, .dict, .namespace, .dictView: return "<\(v.pythonTypeName) object>"
        }
    }

    /// `repr(float)`: the shortest round-tripping digits (Swift finds the same ones), laid out as
    /// Python does: exponent form when the decimal exponent is below -4 or at least 16. Swift's own
    /// `description` switches at 2^53 instead, so 9999999999999998.0 would print differently.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        let sign = d.sign == .minus ? "-" : ""
        if d == 0 { return sign + "0.0" }
        let text = d.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = Array(mantissa.filter { $0 != "." })
        // value = 0.d1d2d3... × 10^point
        var point = (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) + exponent
        while let f = digits.first, f == "0", digits.count > 1 { digits.removeFirst(); point -= 1 }
        while let l = digits.last, l == "0", digits.count > 1 { digits.removeLast() }
        let scientific = point - 1
        if scientific < -4 || scientific >= 16 {
            let rest = digits.count > 1 ? "." + String(digits.dropFirst()) : ""
            let e = abs(scientific)
            return sign + String(digits[0]) + rest + "e" + (scientific < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// `repr(str)`: single quotes unless the text holds a single quote and no double quote.
    static func stringRepr(_ s: String) -> String {
        // Fast path: printable ASCII without quotes or backslashes prints as it is.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x27 && $0 != 0x5C }) { return "'" + s + "'" }
        let hasSingle = s.utf8.contains(UInt8(ascii: "'"))
        let hasDouble = s.utf8.contains(UInt8(ascii: "\""))
        let quote: Character = hasSingle && !hasDouble ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote {
                    out += "\\" + String(quote)
                } else if isPrintable(u) {
                    out.unicodeScalars.append(u)
                } else if u.value < 0x100 {
                    out += "\\x" + hex(u.value, width: 2)
                } else if u.value < 0x10000 {
                    out += "\\u" + hex(u.value, width: 4)
                } else {
                    out += "\\U" + hex(u.value, width: 8)
                }
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one character: not a control, format, surrogate, private-use,
    /// unassigned or separator character other than the ASCII space.
    static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Python's `str.isspace` for one code point (what `strip()`, `split()` and `\s` use).
    static func isWhitespace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's line boundaries (`str.splitlines`).
    static func isLineBreak(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x0A...0x0D, 0x1C...0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func rangeCount(_ start: Int, _ stop: Int, _ step: Int) -> Int {
        if step > 0 {
            guard start < stop else { return 0 }
            let (span, o) = stop.subtractingReportingOverflow(start)
            return o ? Int.max : (span - 1) / step + 1
        }
        guard step < 0, start > stop else { return 0 }
        let (span, o) = start.subtractingReportingOverflow(stop)
        guard !o else { return Int.max }
        // -step overflows for Int.min; dividing by the magnitude as a UInt does not.
        return Int(UInt(span - 1) / step.magnitude) + 1
    }

    /// `a == b` in Python: numbers across int/float/bool, strings by code points, containers
    /// element by element. Undefined equals only undefined.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var work = 0
        return equal(a, b, work: &work)
    }

    /// `equal`, adding the elements and string bytes it looked at to `work`, so the interpreter
    /// can charge a comparison of large values after the fact.
    static func equal(_ a: Value, _ b: Value, work: inout Int) -> Bool {
        work += 1
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)):
            work += min(x.utf8.count, y.utf8.count) >> 6
            return x.utf8.elementsEqual(y.utf8)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where !equal(p, q, work: &work) { return false }
            return true
        case let (.dict(x), .dict(y)):
            guard x.count == y.count else { return false }
            for (k, v) in zip(x.keys, x.values) {
                guard let w = y.get(k), equal(v, w, work: &work) else { return false }
            }
            return true
        case let (.namespace(x), .namespace(y)): return x === y
        case let (.range(a0, a1, a2), .range(b0, b1, b2)): return a0 == b0 && a1 == b1 && a2 == b2
        default:
            if let x = number(a), let y = number(b) {
                switch (x, y) {
                case let (.int(i), .int(j)): return i == j
                default: return x.double == y.double
                }
            }
            return false
        }
    }

    enum Number {
        case int(Int)
        case float(Double)
        var double: Double {
            switch self {
            case let .int(i): return Double(i)
            case let .float(d): return d
            }
        }
    }

    /// The value as a number when Python would treat it as one (bool is an int).
    static func number(_ v: Value) -> Number? {
        switch v {
        case let .bool(b): return .int(b ? 1 : 0)
        case let .int(i): return .int(i)
        case let .float(d): return .float(d)
        default: return nil
        }
    }

    /// `a < b` (negative), equal (zero) or greater, or nil when Python raises TypeError.
    static func compare(_ a: Value, _ b: Value) -> Int? {
        var work = 0
        return compare(a, b, work: &work)
    }

    static func compare(_ a: Value, _ b: Value, work: inout Int) -> Int? {
        work += 1
        if let x = number(a), let y = number(b) {
            if case let .int(i) = x, case let .int(j) = y { return i < j ? -1 : (i == j ? 0 : 1) }
            let (p, q) = (x.double, y.double)
            if p.isNaN || q.isNaN { return nil }
            return p < q ? -1 : (p == q ? 0 : 1)
        }
        switch (a, b) {
        case let (.string(x), .string(y)):
            // UTF-8 byte order is code point order.
            work += min(x.utf8.count, y.utf8.count) >> 6
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : (x.utf8.elementsEqual(y.utf8) ? 0 : 1)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            for (p, q) in zip(x, y) where !equal(p, q, work: &work) { return compare(p, q, work: &work) }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            return nil
        }
    }
}
