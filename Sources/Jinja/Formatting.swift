import JSON

/// Printing values (`{{ x }}`, `~`, `string`) and `tojson`, bounded: a list holding one large
/// string a million times would print terabytes, so writers stop at `maxValueSize` bytes.
extension Interpreter {
    /// Python's `str(x)`; undefined prints as "".
    func str(_ v: Value) throws(TemplateError) -> String {
        switch v {
        case .undefined: return ""
        case let .string(s): return s
        case .none, .bool, .int, .float: return Python.repr(v)
        default:
            var w = BoundedWriter(limit: limits.maxValueSize)
            try repr(v, into: &w)
            try step(w.out.utf8.count / 64)
            return w.out
        }
    }

    private func repr(_ v: Value, into w: inout BoundedWriter) throws(TemplateError) {
        switch v {
        case let .list(a):
            try w.append("[")
            try reprItems(a, into: &w)
            try w.append("]")
        case let .tuple(a):
            try w.append("(")
            try reprItems(a, into: &w)
            try w.append(a.count == 1 ? ",)" : ")")
        case let .dictView(kind, a):
            try w.append("dict_\(kind)([")
            try reprItems(a, into: &w)
            try w.append("])")
        case let .dict(d):
            try reprDict(d, into: &w)
        case let .string(s):
            // The repr is at least the text and its quotes: refuse before escaping a huge string.
            try w.reserve(s.utf8.count + 2)
            try w.append(Python.stringRepr(s))
        case let .namespace(ns):
            try w.append("<Namespace ")
            try reprDict(ns.attributes, into: &w)
            try w.append(">")
        default:
            try w.append(Python.repr(v))
        }
    }

    private func reprItems(_ a: [Value], into w: inout BoundedWriter) throws(TemplateError) {
        for (i, x) in a.enumerated() {
            if i > 0 { try w.append(", ") }
            try repr(x, into: &w)
        }
    }

    private func reprDict(_ d: Dict, into w: inout BoundedWriter) throws(TemplateError) {
        try w.append("{")
        for (i, (k, v)) in zip(d.keys, d.values).enumerated() {
            if i > 0 { try w.append(", ") }
            try repr(k, into: &w)
            try w.append(": ")
            try repr(v, into: &w)
        }
        try w.append("}")
    }

    /// The options of Hugging Face's `tojson` filter, which is
    /// `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`
    /// (not jinja2's HTML-escaping `tojson`).
    struct JSONOptions {
        var ensureASCII = false
        var indent: String?
        var itemSeparator = ", "
        var keySeparator = ": "
        var sortKeys = false
    }

    func toJSON(_ v: Value, _ options: JSONOptions) throws(TemplateError) -> String {
        var w = BoundedWriter(limit: limits.maxValueSize)
        try json(v, options, level: 0, into: &w)
        try step(w.out.utf8.count / 64)
        return w.out
    }

    private func json(_ v: Value, _ o: JSONOptions, level: Int, into w: inout BoundedWriter) throws(TemplateError) {
        switch v {
        case .none: try w.append("null")
        case let .bool(b): try w.append(b ? "true" : "false")
        case let .int(i): try w.append(String(i))
        case let .float(d):
            if d.isNaN { try w.append("NaN") }
            else if d.isInfinite { try w.append(d < 0 ? "-Infinity" : "Infinity") }
            else { try w.append(Python.float(d)) }
        case let .string(s): try w.append(JSONValue.quoted(s, asciiOnly: o.ensureASCII))
        case let .list(a), let .tuple(a):
            if a.isEmpty { try w.append("[]"); return }
            try w.append("[")
            for (i, x) in a.enumerated() {
                try w.append(i == 0 ? "" : o.itemSeparator)
                if let ind = o.indent { try w.newline(ind, level + 1) }
                try json(x, o, level: level + 1, into: &w)
            }
            if let ind = o.indent { try w.newline(ind, level) }
            try w.append("]")
        case let .dict(d):
            if d.count == 0 { try w.append("{}"); return }
            var pairs: [(String, Value)] = []
            for (k, x) in zip(d.keys, d.values) {
                let key: String
                switch k {
                case let .string(s): key = s
                case .none: key = "null"
                case let .bool(b): key = b ? "true" : "false"
                case let .int(i): key = String(i)
                case let .float(f): key = f.isNaN ? "NaN" : f.isInfinite ? (f < 0 ? "-Infinity" : "Infinity") : Python.float(f)
                default: throw .type(message: "keys must be str, int, float, bool or None, not \(k.pythonTypeName)")
                }
                pairs.append((key, x))
            }
            if o.sortKeys {
                pairs.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            }
            try w.append("{")
            for (i, (k, x)) in pairs.enumerated() {
                try w.append(i == 0 ? "" : o.itemSeparator)
                if let ind = o.indent { try w.newline(ind, level + 1) }
                try w.append(JSONValue.quoted(k, asciiOnly: o.ensureASCII))
                try w.append(o.keySeparator)
                try json(x, o, level: level + 1, into: &w)
            }
            if let ind = o.indent { try w.newline(ind, level) }
            try w.append("}")
        case .undefined:
            throw .type(message: "Object of type Undefined is not JSON serializable")
        default:
            throw .type(message: "Object of type \(v.pythonTypeName) is not JSON serializable")
        }
    }
}

/// A string builder that throws once it would exceed `limit` bytes.
struct BoundedWriter {
    var out = ""
    private var size = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func reserve(_ bytes: Int) throws(TemplateError) {
        guard size + bytes <= limit else {
            throw .limitExceeded(limit: .valueSize, message: "a printed value longer than \(limit) bytes")
        }
    }

    /// A newline and `level` copies of `indent`, refused before the indentation is built.
    mutating func newline(_ indent: String, _ level: Int) throws(TemplateError) {
        let (n, o) = indent.utf8.count.multipliedReportingOverflow(by: level)
        guard !o else { throw .limitExceeded(limit: .valueSize, message: "a printed value longer than \(limit) bytes") }
        try reserve(n + 1)
        try append("\n" + String(repeating: indent, count: level))
    }

    mutating func append(_ s: String) throws(TemplateError) {
        size += s.utf8.count
        guard size <= limit else {
            throw .limitExceeded(limit: .valueSize, message: "a printed value longer than \(limit) bytes")
        }
        out += s
    }
}
