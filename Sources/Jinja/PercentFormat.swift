import Foundation

/// Python's printf-style `format % args` (`PyUnicode_Format`): `%s %r %a %d %i %u %f %F %e %E %g %G
/// %x %X %o %c %%` with `%(key)`, flags `-+ #0`, width and precision (`*` included).
extension Interpreter {
    func percentFormat(_ format: String, _ args: Value) throws(TemplateError) -> String {
        // A tuple supplies positional arguments; anything else is one argument, and a mapping-like
        // value (dict, list, range, undefined: whatever has __getitem__, but not str) may also be
        // used for %(key)s and need not be consumed.
        var positional: [Value]
        var isTuple = false
        switch args {
        case let .tuple(a): positional = a; isTuple = true
        default: positional = [args]
        }
        let mapping: Value?
        switch args {
        case .dict, .list, .range, .undefined, .dictView: mapping = args
        default: mapping = nil
        }
        var next = 0
        func nextArgument() throws(TemplateError) -> Value {
            guard next < positional.count else { throw .type(message: "not enough arguments for format string") }
            next += 1
            return positional[next - 1]
        }
        let u = Array(format.unicodeScalars)
        var out = ""
        var i = 0
        while i < u.count {
            guard u[i] == "%" else {
                out.unicodeScalars.append(u[i])
                i += 1
                continue
            }
            i += 1
            guard i < u.count else { throw .runtime(message: "incomplete format") }
            var value: Value?
            if u[i] == "(" {
                guard let mapping else { throw .type(message: "format requires a mapping") }
                var depth = 1, j = i + 1
                var key = String.UnicodeScalarView()
                while j < u.count {
                    if u[j] == "(" { depth += 1 } else if u[j] == ")" { depth -= 1; if depth == 0 { break } }
                    key.append(u[j])
                    j += 1
                }
                guard j < u.count else { throw .runtime(message: "incomplete format key") }
                value = try item(mapping, .string(String(key)))
                if case let .undefined(missing) = value, case .dict = mapping { throw .runtime(message: "KeyError: \(missing.message)") }
                i = j + 1
            }
            var flags = Set<Unicode.Scalar>()
            while i < u.count, "-+ #0".unicodeScalars.contains(u[i]) { flags.insert(u[i]); i += 1 }
            func number() throws(TemplateError) -> Int? {
                if i < u.count, u[i] == "*" {
                    i += 1
                    guard case let .int(n)? = Python.number(try nextArgument()) else { throw .type(message: "* wants int") }
                    return n
                }
                var n: Int?
                while i < u.count, let d = u[i].properties.numericType == .decimal ? Int(String(u[i])) : nil {
                    guard (n ?? 0) <= min(limits.maxValueSize, 1 << 40) / 10 else {
                        throw .limitExceeded(limit: .valueSize, message: "format width too large")
                    }
                    n = (n ?? 0) * 10 + d
                    i += 1
                }
                return n
            }
            var width = try number() ?? 0
            if width < 0 { flags.insert("-"); width = -width }
            var precision: Int?
            if i < u.count, u[i] == "." {
                i += 1
                precision = max(0, try number() ?? 0)
            }
            while i < u.count, u[i] == "h" || u[i] == "l" || u[i] == "L" { i += 1 }
            guard i < u.count else { throw .runtime(message: "incomplete format") }
            let conversion = u[i]
            i += 1
            if conversion == "%" { out += "%"; continue }
            let v: Value
            if let value { v = value } else { v = try nextArgument() }
            var body: String
            var numeric = false
            var negative = false
            switch conversion {
            case "s", "r", "a":
                body = conversion == "s" ? try str(v) : Python.repr(v)
                if let p = precision { body = String(String.UnicodeScalarView(body.unicodeScalars.prefix(p))) }
            case "d", "i", "u", "x", "X", "o":
                let n: Int
                switch Python.number(v) {
                case let .int(k)?: n = k
                case let .float(d)? where conversion == "d" || conversion == "i" || conversion == "u":
                    guard d.isFinite, d.magnitude < 9.2e18 else { throw overflow() }
                    n = Int(d)
                default:
                    let kind = "dui".unicodeScalars.contains(conversion) ? "a real number" : "an integer"
                    throw .type(message: "%\(conversion) format: \(kind) is required, not \(v.pythonTypeName)")
                }
                numeric = true
                negative = n < 0
                let radix = conversion == "x" || conversion == "X" ? 16 : conversion == "o" ? 8 : 10
                body = String(n.magnitude, radix: radix, uppercase: conversion == "X")
                if flags.contains("#") && radix != 10 { body = (radix == 16 ? "0" + String(conversion) : "0o") + body }
                if let p = precision, body.count < p { body = String(repeating: "0", count: p - body.count) + body }
            case "f", "F", "e", "E", "g", "G":
                guard let x = Python.number(v)?.double else {
                    throw .type(message: "must be real number, not \(v.pythonTypeName)")
                }
                numeric = true
                negative = x.sign == .minus && !x.isNaN
                let p = min(precision ?? 6, 200)
                if x.isNaN { body = conversion.properties.isUppercase ? "NAN" : "nan" }
                else if x.isInfinite { body = conversion.properties.isUppercase ? "INF" : "inf" }
                else { body = String(format: "%\(flags.contains("#") ? "#" : "").\(p)\(Character(conversion))", x.magnitude) }
            case "c":
                switch v {
                case let .string(s) where s.unicodeScalars.count == 1: body = s
                case let .int(k): guard let sc = Unicode.Scalar(UInt32(clamping: max(0, k))) else { throw .runtime(message: "%c arg not in range") }
                    body = String(Character(sc))
                default: throw .type(message: "%c requires int or char")
                }
            default:
                throw .runtime(message: "unsupported format character '\(Character(conversion))'")
            }
            var sign = ""
            if numeric { sign = negative ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : "" }
            let length = sign.unicodeScalars.count + body.unicodeScalars.count
            try checkSize(width + out.utf8.count, what: "a formatted string")
            if width > length {
                let pad = width - length
                if flags.contains("-") { body = sign + body + String(repeating: " ", count: pad) }
                else if numeric && flags.contains("0") { body = sign + String(repeating: "0", count: pad) + body }
                else { body = String(repeating: " ", count: pad) + sign + body }
            } else {
                body = sign + body
            }
            try checkSize(out.utf8.count + body.utf8.count, what: "a formatted string")
            out += body
        }
        if next < positional.count && mapping == nil && !(isTuple && positional.isEmpty) {
            throw .type(message: "not all arguments converted during string formatting")
        }
        try step(out.utf8.count / 64)
        return out
    }
}
