import Foundation

extension Interpreter {
    func evaluate(_ e: Expr, _ scope: Scope) throws(TemplateError) -> Value {
        try step()
        try enter()
        defer { leave() }
        switch e {
        case let .constant(c):
            switch c {
            case .none: return .none
            case let .bool(b): return .bool(b)
            case let .int(i): return .int(i)
            case let .float(d): return .float(d)
            case let .string(s): return .string(s)
            }
        case let .name(n):
            if let v = scope.lookup(n) { return v }
            if let f = Builtin(rawValue: n) { return .function(f) }
            return .undefined(.name(n))
        case let .list(items):
            let v = Value.list(try evaluateAll(items, scope))
            try checkDepth(v)
            return v
        case let .tuple(items):
            let v = Value.tuple(try evaluateAll(items, scope))
            try checkDepth(v)
            return v
        case let .dict(pairs):
            var d = Dict()
            for (k, v) in pairs {
                let key = try evaluate(k, scope)
                try charge(key)
                guard d.set(key, try evaluate(v, scope)) else { throw .type(message: "unhashable type: '\(key.pythonTypeName)'") }
            }
            try checkDepth(.dict(d))
            return .dict(d)
        case let .attribute(object, name):
            return try attribute(try evaluate(object, scope), name)
        case let .item(object, key):
            return try item(try evaluate(object, scope), try evaluate(key, scope))
        case let .slice(object, start, stop, stride):
            let target = try evaluate(object, scope)
            let a = try start.map { (x) throws(TemplateError) in try evaluate(x, scope) }
            let b = try stop.map { (x) throws(TemplateError) in try evaluate(x, scope) }
            let c = try stride.map { (x) throws(TemplateError) in try evaluate(x, scope) }
            return try slice(target, a, b, c)
        case let .call(callee, arguments):
            let f = try evaluate(callee, scope)
            return try call(f, try evaluateArguments(arguments, scope))
        case let .filter(value, name, arguments):
            let v = try evaluate(value, scope)
            return try filter(name, v, try evaluateArguments(arguments, scope))
        case let .test(value, name, arguments, negated):
            let v = try evaluate(value, scope)
            let result = try test(name, v, try evaluateArguments(arguments, scope))
            return .bool(result != negated)
        case let .negate(operand):
            let v = try evaluate(operand, scope)
            switch v {
            case let .bool(b): return .int(b ? -1 : 0)
            case let .int(i):
                guard i != Int.min else { throw overflow() }
                return .int(-i)
            case let .float(d): return .float(-d)
            case let .undefined(u): throw .undefined(message: u.message)
            default: throw .type(message: "bad operand type for unary -: '\(v.pythonTypeName)'")
            }
        case let .plus(operand):
            let v = try evaluate(operand, scope)
            switch v {
            case let .bool(b): return .int(b ? 1 : 0)
            case .int, .float: return v
            case let .undefined(u): throw .undefined(message: u.message)
            default: throw .type(message: "bad operand type for unary +: '\(v.pythonTypeName)'")
            }
        case let .binary(op, left, right):
            return try binary(op, try evaluate(left, scope), try evaluate(right, scope))
        case let .concat(parts):
            var s = ""
            for p in parts {
                let piece = try str(try evaluate(p, scope))
                try checkSize(s.utf8.count + piece.utf8.count, what: "a string")
                s += piece
            }
            try step(s.utf8.count / 64)
            return .string(s)
        case let .compare(first, rest):
            var left = try evaluate(first, scope)
            for (op, operandExpr) in rest {
                let right = try evaluate(operandExpr, scope)
                guard try compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .and(a, b):
            let x = try evaluate(a, scope)
            return x.isTruthy ? try evaluate(b, scope) : x
        case let .or(a, b):
            let x = try evaluate(a, scope)
            return x.isTruthy ? x : try evaluate(b, scope)
        case let .not(a):
            return .bool(!(try evaluate(a, scope).isTruthy))
        case let .conditional(condition, then, otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            if let otherwise { return try evaluate(otherwise, scope) }
            return .undefined(Undefined(message: "the inline if-expression evaluated to false and no else section was defined."))
        }
    }

    func evaluateAll(_ items: [Expr], _ scope: Scope) throws(TemplateError) -> [Value] {
        var out: [Value] = []
        out.reserveCapacity(items.count)
        for x in items { out.append(try evaluate(x, scope)) }
        return out
    }

    func evaluateArguments(_ a: Arguments, _ scope: Scope) throws(TemplateError) -> EvaluatedArguments {
        var out = EvaluatedArguments()
        out.positional = try evaluateAll(a.positional, scope)
        for (name, e) in a.keyword { out.keyword.append((name, try evaluate(e, scope))) }
        return out
    }

    func overflow() -> TemplateError {
        .limitExceeded(limit: .valueSize, message: "integer result does not fit in 64 bits")
    }

    // MARK: operators

    func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws(TemplateError) -> Value {
        try charge(a)
        try charge(b)
        // str % anything is Python's string formatting (an undefined right side included).
        if case .modulo = op, case let .string(format) = a { return .string(try percentFormat(format, b)) }
        if case let .undefined(u) = a { throw .undefined(message: u.message) }
        if case let .undefined(u) = b { throw .undefined(message: u.message) }
        if let x = Python.number(a), let y = Python.number(b) { return try arithmetic(op, x, y) }
        switch (op, a, b) {
        case let (.add, .string(x), .string(y)):
            try reserve(x.utf8.count + y.utf8.count, what: "a string")
            return .string(x + y)
        case let (.add, .list(x), .list(y)):
            try reserveElements(x.count + y.count, what: "a list")
            return .list(x + y)
        case let (.add, .tuple(x), .tuple(y)):
            try reserveElements(x.count + y.count, what: "a tuple")
            return .tuple(x + y)
        case (.multiply, .string, _), (.multiply, .list, _), (.multiply, .tuple, _):
            return try repeated(a, b)
        case (.multiply, _, .string), (.multiply, _, .list), (.multiply, _, .tuple):
            return try repeated(b, a)
        default:
            if case .add = op, case .string = a {
                throw .type(message: "can only concatenate str (not \"\(b.pythonTypeName)\") to str")
            }
            if case .add = op, case .list = a {
                throw .type(message: "can only concatenate list (not \"\(b.pythonTypeName)\") to list")
            }
            throw .type(message: "unsupported operand type(s) for \(op.rawValue): '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
        }
    }

    /// `'ab' * 3`, `[x] * n`: the size is checked before anything is built.
    private func repeated(_ sequence: Value, _ count: Value) throws(TemplateError) -> Value {
        guard case let .int(n)? = Python.number(count) else {
            throw .type(message: "can't multiply sequence by non-int of type '\(count.pythonTypeName)'")
        }
        let times = max(0, n)
        switch sequence {
        case let .string(s):
            let (size, o) = s.utf8.count.multipliedReportingOverflow(by: times)
            try reserve(o ? -1 : size, what: "a repeated string")
            return .string(String(repeating: s, count: times))
        case let .list(a), let .tuple(a):
            let (size, o) = a.count.multipliedReportingOverflow(by: times)
            try reserveElements(o ? -1 : size, what: "a repeated list")
            var out: [Value] = []
            out.reserveCapacity(size)
            for _ in 0..<times { out += a }
            if case .tuple = sequence { return .tuple(out) }
            return .list(out)
        default:
            throw .type(message: "can't multiply sequence by non-int of type '\(count.pythonTypeName)'")
        }
    }

    private func arithmetic(_ op: BinaryOperator, _ x: Python.Number, _ y: Python.Number) throws(TemplateError) -> Value {
        if case let .int(i) = x, case let .int(j) = y {
            switch op {
            case .add:
                let (r, o) = i.addingReportingOverflow(j)
                guard !o else { throw overflow() }
                return .int(r)
            case .subtract:
                let (r, o) = i.subtractingReportingOverflow(j)
                guard !o else { throw overflow() }
                return .int(r)
            case .multiply:
                let (r, o) = i.multipliedReportingOverflow(by: j)
                guard !o else { throw overflow() }
                return .int(r)
            case .divide:
                guard j != 0 else { throw .runtime(message: "division by zero") }
                return .float(Double(i) / Double(j))
            case .floorDivide:
                guard j != 0 else { throw .runtime(message: "integer division or modulo by zero") }
                let (q, o) = i.dividedReportingOverflow(by: j)
                guard !o else { throw overflow() }
                return .int(i % j != 0 && (i < 0) != (j < 0) ? q - 1 : q)
            case .modulo:
                guard j != 0 else { throw .runtime(message: "integer division or modulo by zero") }
                let (r, o) = i.remainderReportingOverflow(dividingBy: j)
                guard !o else { return .int(0) }
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case .power:
                if j < 0 {
                    guard i != 0 else { throw .runtime(message: "0.0 cannot be raised to a negative power") }
                    return .float(Foundation.pow(Double(i), Double(j)))
                }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        guard !o else { throw overflow() }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        guard !o else { throw overflow() }
                        base = b2
                    }
                }
                return .int(result)
            }
        }
        let (p, q) = (x.double, y.double)
        switch op {
        case .add: return .float(p + q)
        case .subtract: return .float(p - q)
        case .multiply: return .float(p * q)
        case .divide:
            guard q != 0 else { throw .runtime(message: "float division by zero") }
            return .float(p / q)
        case .floorDivide:
            guard q != 0 else { throw .runtime(message: "float floor division by zero") }
            return .float(Self.pythonDivMod(p, q).quotient)
        case .modulo:
            guard q != 0 else { throw .runtime(message: "float modulo") }
            return .float(Self.pythonDivMod(p, q).remainder)
        case .power:
            if p == 0 && q < 0 { throw .runtime(message: "0.0 cannot be raised to a negative power") }
            return .float(Foundation.pow(p, q))
        }
    }

    /// CPython's float divmod: the remainder takes the divisor's sign (a zero one too), and the
    /// quotient is computed from the exact remainder, so `1 // 0.1` is 9.0 as in Python, not
    /// floor(1 / 0.1) = 10.0.
    static func pythonDivMod(_ x: Double, _ y: Double) -> (quotient: Double, remainder: Double) {
        var mod = Foundation.fmod(x, y)
        var div = (x - mod) / y
        if mod != 0 {
            if (y < 0) != (mod < 0) {
                mod += y
                div -= 1
            }
        } else {
            mod = Foundation.copysign(0, y)
        }
        var floorDiv: Double
        if div != 0 {
            floorDiv = Foundation.floor(div)
            if div - floorDiv > 0.5 { floorDiv += 1 }
        } else {
            floorDiv = Foundation.copysign(0, x / y)
        }
        return (floorDiv, mod)
    }

    func compare(_ op: CompareOperator, _ a: Value, _ b: Value) throws(TemplateError) -> Bool {
        try charge(a)
        try charge(b)
        switch op {
        case .equal: return try equal(a, b)
        case .notEqual: return !(try equal(a, b))
        case .in: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        default:
            if case let .undefined(u) = a { throw .undefined(message: u.message) }
            if case let .undefined(u) = b { throw .undefined(message: u.message) }
            guard let c = try order(a, b) else {
                throw .type(message: "'\(op.rawValue)' not supported between instances of '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
            }
            switch op {
            case .less: return c < 0
            case .lessOrEqual: return c <= 0
            case .greater: return c > 0
            default: return c >= 0
            }
        }
    }

    /// Python's `needle in container`.
    func contains(_ container: Value, _ needle: Value) throws(TemplateError) -> Bool {
        switch container {
        case let .string(s):
            guard case let .string(n) = needle else {
                if case let .undefined(u) = needle { throw .undefined(message: u.message) }
                throw .type(message: "'in <string>' requires string as left operand, not \(needle.pythonTypeName)")
            }
            return StringOps.find(n, in: s) != nil
        case let .list(a), let .tuple(a), let .dictView(_, a):
            for x in a where try equal(x, needle) { return true }
            return false
        case let .dict(d):
            guard DictKey(needle) != nil else { throw .type(message: "unhashable type: '\(needle.pythonTypeName)'") }
            return d.get(needle) != nil
        case let .range(start, stop, step):
            guard case let .int(i)? = Python.number(needle) else { return false }
            guard Python.rangeCount(start, stop, step) > 0 else { return false }
            // Within the bounds the differences cannot overflow.
            if step > 0 { return i >= start && i < stop && (i - start) % step == 0 }
            return i <= start && i > stop && UInt(start - i) % step.magnitude == 0
        case .undefined:
            return false
        default:
            throw .type(message: "argument of type '\(container.pythonTypeName)' is not iterable")
        }
    }
}
