/// Attribute and item access with jinja2's rules: `a.b` tries the attribute (a method of a str,
/// dict or list) and falls back to the item `a['b']`; `a['b']` tries the item and falls back to the
/// attribute. What is not found is an `Undefined` carrying jinja2's hint; only using it raises.
extension Interpreter {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "replace", "title", "capitalize", "find", "rfind", "count", "join", "isdigit", "isalpha", "isalnum",
        "isspace", "isupper", "islower", "removeprefix", "removesuffix", "index",
    ]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    static let listMethods: Set<String> = ["index", "count"]

    func attribute(_ object: Value, _ name: String) throws(TemplateError) -> Value {
        switch object {
        case let .undefined(u):
            throw .undefined(message: u.message)
        case let .dict(d):
            if Self.dictMethods.contains(name) { return .method(object, name) }
            if let v = d.get(name) { return v }
        case let .namespace(ns):
            if let v = ns.attributes.get(name) { return v }
        case let .loop(l):
            if let v = l.attribute(name) { return v }
        case .string:
            if Self.stringMethods.contains(name) { return .method(object, name) }
        case .list, .tuple:
            if Self.listMethods.contains(name) { return .method(object, name) }
        default:
            break
        }
        return .undefined(.member(of: object, key: .string(name)))
    }

    func item(_ object: Value, _ key: Value) throws(TemplateError) -> Value {
        if case let .undefined(u) = object { throw .undefined(message: u.message) }
        try charge(key)
        switch (object, key) {
        case let (.dict(d), _):
            // An unhashable key is a TypeError in Python, which jinja2's getitem turns into undefined.
            if let v = d.get(key) { return v }
        case let (.list(a), _), let (.tuple(a), _):
            if case let .int(i)? = Python.number(key) {
                let j = i < 0 ? i + a.count : i
                if j >= 0 && j < a.count { return a[j] }
            }
        case let (.string(s), _):
            if case let .int(i)? = Python.number(key) {
                try charge(object)
                let scalars = Array(s.unicodeScalars)
                let j = i < 0 ? i + scalars.count : i
                if j >= 0 && j < scalars.count { return .string(String(scalars[j])) }
            }
        case let (.range(start, stop, step), _):
            if case let .int(i)? = Python.number(key) {
                let n = Python.rangeCount(start, stop, step)
                let j = i < 0 ? i + n : i
                if j >= 0 && j < n { return .int(start + j * step) }
            }
        default:
            break
        }
        if case let .string(name) = key { return try attribute(object, name) }
        return .undefined(.member(of: object, key: key))
    }

    /// Python's slice semantics (`slice.indices`): clamped bounds, negative indices and steps.
    func slice(_ object: Value, _ start: Value?, _ stop: Value?, _ stride: Value?) throws(TemplateError) -> Value {
        if case let .undefined(u) = object { throw .undefined(message: u.message) }
        try charge(object)
        func bound(_ v: Value?) throws(TemplateError) -> Int? {
            guard let v else { return nil }
            if case .none = v { return nil }
            guard case let .int(i)? = Python.number(v) else {
                throw .type(message: "slice indices must be integers or None")
            }
            return i
        }
        let by = try bound(stride) ?? 1
        guard by != 0 else { throw .runtime(message: "slice step cannot be zero") }
        let elements: [Value]
        var scalars: [Unicode.Scalar] = []
        let count: Int
        switch object {
        case let .list(a), let .tuple(a): elements = a; count = a.count
        case let .string(s): scalars = Array(s.unicodeScalars); elements = []; count = scalars.count
        case .range:
            elements = try iterate(object); count = elements.count
        default:
            // jinja2 compiles slices to Python's own `x[a:b]`, bypassing its getitem, so this is
            // Python's TypeError. (Only a slice of a constant is folded at compile time into an
            // undefined value; templates do not slice constants.)
            throw .type(message: "'\(object.pythonTypeName)' object is not subscriptable")
        }
        func clamp(_ v: Int?, _ defaultValue: Int) -> Int {
            guard var i = v else { return defaultValue }
            if i < 0 { i += count }
            if by > 0 { return min(max(i, 0), count) }
            return min(max(i, -1), count - 1)
        }
        let lo = clamp(try bound(start), by > 0 ? 0 : count - 1)
        let hi = clamp(try bound(stop), by > 0 ? count : -1)
        var indices: [Int] = []
        var i = lo
        while by > 0 ? i < hi : i > hi {
            indices.append(i)
            let (n, o) = i.addingReportingOverflow(by)
            if o { break }
            i = n
        }
        try step(indices.count / 16)
        switch object {
        case .string:
            var out = String.UnicodeScalarView()
            for j in indices { out.append(scalars[j]) }
            return .string(String(out))
        case .tuple: return .tuple(indices.map { elements[$0] })
        default: return .list(indices.map { elements[$0] })
        }
    }

    // MARK: calls

    func call(_ callee: Value, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        switch callee {
        case let .undefined(u): throw .undefined(message: u.message)
        case let .macro(m): return try call(m, args)
        case let .function(f): return try callBuiltin(f, args)
        case let .method(receiver, name): return try callMethod(receiver, name, args)
        default: throw .type(message: "'\(callee.pythonTypeName)' object is not callable")
        }
    }

    private func intArgument(_ v: Value, _ what: String) throws(TemplateError) -> Int {
        guard case let .int(i)? = Python.number(v) else {
            throw .type(message: "'\(v.pythonTypeName)' object cannot be interpreted as an integer (\(what))")
        }
        return i
    }

    func callBuiltin(_ f: Builtin, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        switch f {
        case .raiseException:
            throw .raised(message: try str(args.argument(0, "message") ?? .none))
        case .range:
            let p = args.positional
            guard (1...3).contains(p.count) else { throw .type(message: "range expected 1 to 3 arguments, got \(p.count)") }
            let start = p.count == 1 ? 0 : try intArgument(p[0], "range")
            let stop = try intArgument(p.count == 1 ? p[0] : p[1], "range")
            let step = p.count == 3 ? try intArgument(p[2], "range") : 1
            guard step != 0 else { throw .runtime(message: "range() arg 3 must not be zero") }
            // jinja2's sandbox refuses ranges longer than MAX_RANGE; so do we, without building it.
            guard Python.rangeCount(start, stop, step) <= 100_000 else {
                throw .limitExceeded(limit: .valueSize, message: "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
            }
            return .range(start: start, stop: stop, step: step)
        case .namespace, .dict:
            var d = Dict()
            for p in args.positional {
                if case let .dict(initial) = p {
                    for (k, v) in zip(initial.keys, initial.values) { d.set(k, v) }
                } else if case let .namespace(ns) = p {
                    for (k, v) in zip(ns.attributes.keys, ns.attributes.values) { d.set(k, v) }
                } else {
                    for pair in try iterate(p) {
                        let kv = try iterate(pair)
                        guard kv.count == 2 else { throw .runtime(message: "dictionary update sequence element has length \(kv.count); 2 is required") }
                        guard d.set(kv[0], kv[1]) else { throw .type(message: "unhashable type: '\(kv[0].pythonTypeName)'") }
                    }
                }
            }
            for (k, v) in args.keyword { d.set(.string(k), v) }
            try checkDepth(.dict(d))
            if case .dict = f { return .dict(d) }
            for case let .string(name) in d.keys { try Self.checkNamespaceAttribute(name) }
            let ns = Namespace()
            ns.attributes = d
            return .namespace(ns)
        case .strftimeNow:
            guard case let .string(format)? = args.argument(0, "format") else {
                throw .type(message: "strftime_now() needs a format string")
            }
            return .string(StringOps.strftimeNow(format))
        }
    }

    /// transformers' `TemplateNamespace` refuses underscore-prefixed attributes (a sandbox guard).
    static func checkNamespaceAttribute(_ name: String) throws(TemplateError) {
        if name.hasPrefix("_") {
            throw .runtime(message: "Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(Python.stringRepr(name)). Please rename the attribute.")
        }
    }

    func callMethod(_ receiver: Value, _ name: String, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        try charge(receiver)
        for a in args.positional { try charge(a) }
        switch receiver {
        case let .string(s): return try StringOps.method(name, s, args, self)
        case let .dict(d):
            switch name {
            case "items": return .dictView("items", d.items)
            case "keys": return .dictView("keys", d.keys)
            case "values": return .dictView("values", d.values)
            default:
                guard let key = args.argument(0, "key") else { throw .type(message: "get expected at least 1 argument, got 0") }
                return d.get(key) ?? args.argument(1, "default") ?? .none
            }
        case let .list(a), let .tuple(a):
            guard let needle = args.positional.first else { throw .type(message: "\(name)() takes exactly one argument (0 given)") }
            var matches: [Int] = []
            for (i, x) in a.enumerated() where try equal(x, needle) {
                matches.append(i)
                if name != "count" { break }
            }
            if name == "count" { return .int(matches.count) }
            guard let i = matches.first else {
                throw .runtime(message: "\(Python.repr(needle)) is not in list")
            }
            return .int(i)
        case let .loop(l):
            // loop.cycle(a, b, ...)
            guard !args.positional.isEmpty else { throw .runtime(message: "no items for cycling given") }
            return args.positional[l.index0 % args.positional.count]
        default:
            throw .type(message: "'\(receiver.pythonTypeName)' object has no method '\(name)'")
        }
    }
}
