/// jinja2's built-in filters that chat templates use, with Hugging Face's `tojson`.
extension Interpreter {
    /// Every filter `filter(_:_:_:)` knows; the parser rejects other names, as jinja2 does when it compiles.
    static let filterNames: Set<String> = ["trim", "length", "count", "upper", "lower", "capitalize", "title", "string", "safe", "escape", "e", "tojson", "default", "d", "first", "last", "join", "replace", "int", "float", "list", "items", "reverse", "abs", "indent", "map", "select", "reject", "selectattr", "rejectattr", "unique", "sort", "dictsort", "sum", "min", "max", "wordcount", "center"]

    func filter(_ name: String, _ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        try step()
        try charge(v)
        switch name {
        case "trim":
            let chars: String?
            if case let .string(c)? = args.argument(0, "chars") { chars = c } else { chars = nil }
            return .string(StringOps.strip(try str(v), chars, leading: true, trailing: true))
        case "length", "count":
            return .int(try length(v))
        case "upper": return .string(StringOps.upper(try str(v)))
        case "lower": return .string(StringOps.lower(try str(v)))
        case "capitalize": return .string(StringOps.capitalize(try str(v)))
        case "title": return .string(titleFilter(try str(v)))
        case "string": return .string(try str(v))
        case "safe": return v
        case "escape", "e": return .string(htmlEscape(try str(v)))
        case "tojson": return .string(try toJSON(v, try jsonOptions(args)))
        case "default", "d":
            let fallback = args.argument(0, "default_value") ?? .string("")
            let boolean = args.argument(1, "boolean")?.isTruthy ?? false
            if v.isUndefined || (boolean && !v.isTruthy) { return fallback }
            return v
        case "first":
            return try iterate(v).first ?? .undefined(Undefined(message: "No first item, sequence was empty."))
        case "last":
            return try iterate(v).last ?? .undefined(Undefined(message: "No last item, sequence was empty."))
        case "join":
            var items = try iterate(v)
            if let attr = args.argument(1, "attribute") { items = try items.map { (x) throws(TemplateError) in try attributePath(x, attr) } }
            let sep = try str(args.argument(0, "d") ?? .string(""))
            var out = ""
            for (i, x) in items.enumerated() {
                let piece = try str(x)
                try checkSize(out.utf8.count + sep.utf8.count + piece.utf8.count, what: "a joined string")
                if i > 0 { out += sep }
                out += piece
            }
            try step(out.utf8.count / 64)
            return .string(out)
        case "replace":
            let s = try str(v)
            let old = try str(args.argument(0, "old") ?? .string(""))
            let new = try str(args.argument(1, "new") ?? .string(""))
            var count = -1
            if let c = args.argument(2, "count"), case let .int(n)? = Python.number(c) { count = n }
            return .string(try StringOps.replace(s, old, new, count: count, self))
        case "int", "float":
            // int(Undefined) raises in jinja2, before the default can apply.
            if case let .undefined(u) = v { throw .undefined(message: u.message) }
            return name == "int" ? try intFilter(v, args) : try floatFilter(v, args)
        case "list":
            let items = try iterate(v)
            return .list(items)
        case "items":
            if case .undefined = v { return .list([]) }
            guard case let .dict(d) = v else { throw .type(message: "Can only get item pairs from a mapping.") }
            return .list(d.items)
        case "reverse":
            if case let .string(s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try iterate(v).reversed())
        case "abs":
            switch v {
            case let .int(i):
                guard i != Int.min else { throw overflow() }
                return .int(abs(i))
            case let .bool(b): return .int(b ? 1 : 0)
            case let .float(d): return .float(abs(d))
            default: throw .type(message: "bad operand type for abs(): '\(v.pythonTypeName)'")
            }
        case "indent":
            // jinja2's indent appends to its argument: only a string works.
            if case let .undefined(u) = v { throw .undefined(message: u.message) }
            guard case let .string(s) = v else { throw .type(message: "indent needs a string, not '\(v.pythonTypeName)'") }
            return .string(try indent(s, args))
        case "map", "select", "reject", "selectattr", "rejectattr":
            // jinja2 yields nothing for a falsy value without iterating it.
            guard v.isTruthy else { return .list([]) }
            return .list(name == "map" ? try mapFilter(v, args) : try selectFilter(name, v, args))
        case "unique": return .list(try uniqueFilter(v, args))
        case "sort": return .list(try sortFilter(v, args))
        case "dictsort":
            // dictsort(case_sensitive=False, by='key', reverse=False): the (key, value) pairs, sorted.
            if case let .undefined(u) = v { throw .undefined(message: u.message) }
            guard case let .dict(d) = v else { throw .type(message: "'\(v.pythonTypeName)' object has no attribute 'items'") }
            let byValue = args.argument(1, "by").map { Python.equal($0, .string("value")) } ?? false
            var sortArgs = EvaluatedArguments()
            sortArgs.keyword = [("reverse", args.argument(2, "reverse") ?? .bool(false)),
                                ("case_sensitive", args.argument(0, "case_sensitive") ?? .bool(false)),
                                ("attribute", .int(byValue ? 1 : 0))]
            return .list(try sortFilter(.list(d.items), sortArgs))
        case "sum":
            var total: Value = args.argument(1, "start") ?? .int(0)
            for x in try iterate(v) {
                let item = try args.argument(0, "attribute").map { (a) throws(TemplateError) in try attributePath(x, a) } ?? x
                total = try binary(.add, total, item)
            }
            return total
        case "min", "max":
            var items = try iterate(v)
            let caseSensitive = args.argument(0, "case_sensitive")?.isTruthy ?? false
            if let attr = args.argument(1, "attribute") { items = try items.map { (x) throws(TemplateError) in try attributePath(x, attr) } }
            guard var best = items.first else {
                return .undefined(Undefined(message: name == "min" ? "No smallest item, sequence was empty." : "No largest item, sequence was empty."))
            }
            for x in items.dropFirst() {
                let c = try sortOrder(sortKey(x, caseSensitive), sortKey(best, caseSensitive))
                if name == "min" ? c < 0 : c > 0 { best = x }
            }
            return best
        case "wordcount":
            // len(re.findall(r"\w+", str(value))): runs of letters, digits and underscores.
            var count = 0
            var inWord = false
            for u in try str(v).unicodeScalars {
                let word = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if word && !inWord { count += 1 }
                inWord = word
            }
            return .int(count)
        case "center":
            let s = try str(v)
            let width = try intValue(args.argument(0, "width") ?? .int(80))
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            try reserve(width, what: "a string")
            let left = (width - n) / 2 + ((width - n) & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: width - n - left))
        default:
            throw .runtime(message: "No filter named '\(name)'.")
        }
    }

    func length(_ v: Value) throws(TemplateError) -> Int {
        switch v {
        case let .string(s): return s.unicodeScalars.count
        case let .list(a), let .tuple(a), let .dictView(_, a): return a.count
        case let .dict(d): return d.count
        case let .range(start, stop, step): return Python.rangeCount(start, stop, step)
        case .undefined: return 0
        default: throw .type(message: "object of type '\(v.pythonTypeName)' has no len()")
        }
    }

    private func intValue(_ v: Value) throws(TemplateError) -> Int {
        guard case let .int(i)? = Python.number(v) else { throw .type(message: "an integer is required, got \(v.pythonTypeName)") }
        return i
    }

    /// jinja2's `title` filter (not `str.title`): the text is split at runs of `-`, whitespace, `(`,
    /// `{`, `[`, `<`, and each piece becomes `piece[0].upper() + piece[1:].lower()`.
    private func titleFilter(_ s: String) -> String {
        func boundary(_ u: Unicode.Scalar) -> Bool {
            Python.isWhitespace(u) || u == "-" || u == "(" || u == "{" || u == "[" || u == "<"
        }
        var out = ""
        var piece: [Unicode.Scalar] = []
        func flush() {
            guard let first = piece.first else { return }
            out += first.properties.uppercaseMapping
            out += StringOps.lower(String(String.UnicodeScalarView(piece.dropFirst())))
            piece = []
        }
        for u in s.unicodeScalars {
            if boundary(u) {
                flush()
                out.unicodeScalars.append(u)
            } else {
                piece.append(u)
            }
        }
        flush()
        return out
    }

    private func htmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// `tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, in that order.
    private func jsonOptions(_ args: EvaluatedArguments) throws(TemplateError) -> JSONOptions {
        var o = JSONOptions()
        o.ensureASCII = args.argument(0, "ensure_ascii")?.isTruthy ?? false
        switch args.argument(1, "indent") {
        case nil, .none?: break
        case let .string(s)?: o.indent = s
        case let other?:
            guard case let .int(n)? = Python.number(other) else { throw .type(message: "indent must be an int or a string") }
            try reserve(max(0, n), what: "an indent")
            o.indent = String(repeating: " ", count: max(0, n))
        }
        if o.indent != nil { o.itemSeparator = "," }
        switch args.argument(2, "separators") {
        case nil, .none?: break
        case let .list(a)?, let .tuple(a)?:
            guard a.count == 2, case let .string(item) = a[0], case let .string(key) = a[1] else {
                throw .type(message: "separators must be a pair of strings")
            }
            o.itemSeparator = item
            o.keySeparator = key
        default: throw .type(message: "separators must be a pair of strings")
        }
        o.sortKeys = args.argument(3, "sort_keys")?.isTruthy ?? false
        return o
    }

    private func intFilter(_ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        let fallback = args.argument(0, "default") ?? .int(0)
        switch v {
        case let .int(i): return .int(i)
        case let .bool(b): return .int(b ? 1 : 0)
        case let .float(d):
            guard d.isFinite, abs(d) < 9.2e18 else { return fallback }
            return .int(Int(d))
        case let .string(s):
            let t = StringOps.strip(s, nil, leading: true, trailing: true).replacingOccurrences("_", "")
            if let i = Int(t) { return .int(i) }
            if let d = Double(t), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private func floatFilter(_ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        let fallback = args.argument(0, "default") ?? .float(0)
        switch v {
        case let .int(i): return .float(Double(i))
        case let .bool(b): return .float(b ? 1 : 0)
        case .float: return v
        case let .string(s):
            if let d = Double(StringOps.strip(s, nil, leading: true, trailing: true)) { return .float(d) }
            return fallback
        default: return fallback
        }
    }

    /// jinja2 3.1's `indent(width=4, first=False, blank=False)`.
    private func indent(_ s: String, _ args: EvaluatedArguments) throws(TemplateError) -> String {
        let prefix: String
        switch args.argument(0, "width") ?? .int(4) {
        case let .string(p): prefix = p
        case let w:
            let n = try intValue(w)
            try reserve(max(0, n), what: "an indent")
            prefix = String(repeating: " ", count: max(0, n))
        }
        let first = args.argument(1, "first")?.isTruthy ?? false
        let blank = args.argument(2, "blank")?.isTruthy ?? false
        let lines = StringOps.splitLines(s + "\n")
        try reserve(s.utf8.count + lines.count * (prefix.utf8.count + 1), what: "an indented string")
        var out: String
        if blank {
            out = lines.joined(separator: "\n" + prefix)
        } else {
            out = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                out += "\n" + rest.map { $0.isEmpty ? $0 : prefix + $0 }.joined(separator: "\n")
            }
        }
        return first ? prefix + out : out
    }

    /// jinja2's attribute getter: `a.b.0` looks up `a['b'][0]` step by step.
    func attributePath(_ v: Value, _ path: Value) throws(TemplateError) -> Value {
        guard case let .string(p) = path else { return try item(v, path) }
        var current = v
        for part in StringOps.split(p, on: ".") {
            let key: Value = Int(part).map { .int($0) } ?? .string(part)
            current = try item(current, key)
        }
        return current
    }

    private func mapFilter(_ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> [Value] {
        let items = try iterate(v)
        if let attr = args.keywordValue("attribute") {
            let fallback = args.keywordValue("default")
            var out: [Value] = []
            for x in items {
                try step()
                let r = try attributePath(x, attr)
                out.append(r.isUndefined ? (fallback ?? r) : r)
            }
            return out
        }
        guard case let .string(filterName)? = args.positional.first else {
            throw .runtime(message: "map requires a filter name or attribute=")
        }
        var rest = args
        rest.positional.removeFirst()
        var out: [Value] = []
        for x in items { out.append(try filter(filterName, x, rest)) }
        return out
    }

    private func selectFilter(_ name: String, _ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> [Value] {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var positional = args.positional
        var attribute: Value?
        if byAttribute {
            guard !positional.isEmpty else { throw .runtime(message: "Missing parameter for attribute name") }
            attribute = positional.removeFirst()
        }
        var testName: String?
        if !positional.isEmpty {
            guard case let .string(t) = positional.removeFirst() else { throw .runtime(message: "test name must be a string") }
            testName = t
        }
        let testArgs = EvaluatedArguments(positional: positional, keyword: [])
        var out: [Value] = []
        for x in try iterate(v) {
            try step()
            let subject = try attribute.map { (a) throws(TemplateError) in try attributePath(x, a) } ?? x
            let passed = try testName.map { (t) throws(TemplateError) in try test(t, subject, testArgs) } ?? subject.isTruthy
            if passed == keep { out.append(x) }
        }
        return out
    }

    private func sortKey(_ v: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case let .string(s) = v { return .string(StringOps.lower(s)) }
        return v
    }

    /// Python's ordering for sort, min and max: a TypeError for incomparable values.
    private func sortOrder(_ a: Value, _ b: Value) throws(TemplateError) -> Int {
        guard let c = try order(a, b) else {
            throw .type(message: "'<' not supported between instances of '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
        }
        return c
    }

    private func sortFilter(_ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> [Value] {
        let reverse = args.argument(0, "reverse")?.isTruthy ?? false
        let caseSensitive = args.argument(1, "case_sensitive")?.isTruthy ?? false
        let attr = args.argument(2, "attribute")
        var keyed: [(key: Value, value: Value)] = []
        for x in try iterate(v) {
            let k = try attr.map { (a) throws(TemplateError) in try attributePath(x, a) } ?? x
            keyed.append((sortKey(k, caseSensitive), x))
        }
        // A stable bottom-up merge sort whose comparisons can throw on incomparable keys, as
        // Python's sorted does; each comparison is a step.
        var items = keyed
        var buffer = keyed
        var width = 1
        while width < items.count {
            var start = 0
            while start < items.count {
                let mid = min(start + width, items.count), end = min(start + 2 * width, items.count)
                var i = start, j = mid, k = start
                while i < mid && j < end {
                    try step()
                    let c = try sortOrder(items[j].key, items[i].key)
                    // Take from the right run only when strictly before, which keeps equal keys in order.
                    if reverse ? c > 0 : c < 0 { buffer[k] = items[j]; j += 1 } else { buffer[k] = items[i]; i += 1 }
                    k += 1
                }
                while i < mid { buffer[k] = items[i]; i += 1; k += 1 }
                while j < end { buffer[k] = items[j]; j += 1; k += 1 }
                start = end
            }
            swap(&items, &buffer)
            width *= 2
        }
        return items.map(\.value)
    }

    private func uniqueFilter(_ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> [Value] {
        let caseSensitive = args.argument(0, "case_sensitive")?.isTruthy ?? false
        let attr = args.argument(1, "attribute")
        // jinja2 keeps the seen keys in a set: scalars are hashed here, tuples (rare) compared.
        var seenKeys = Set<DictKey>()
        var seenOther: [Value] = []
        var out: [Value] = []
        for x in try iterate(v) {
            try step()
            let k = sortKey(try attr.map { (a) throws(TemplateError) in try attributePath(x, a) } ?? x, caseSensitive)
            try charge(k)
            if let key = DictKey(k) {
                if seenKeys.insert(key).inserted { out.append(x) }
                continue
            }
            guard k.isHashableContainer || k.isUndefined else { throw .type(message: "unhashable type: '\(k.pythonTypeName)'") }
            try step(seenOther.count)
            var seen = false
            for s in seenOther where try equal(s, k) { seen = true; break }
            if !seen {
                seenOther.append(k)
                out.append(x)
            }
        }
        return out
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String { StringOps.split(self, on: a).joined(separator: b) }
}
