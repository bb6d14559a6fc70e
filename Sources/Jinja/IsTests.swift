/// jinja2's tests (`x is defined`, `n is divisibleby 3`, ...).
extension Interpreter {
    /// Every test `test(_:_:_:)` knows; the parser rejects other names, as jinja2 does when it compiles.
    static let testNames: Set<String> = ["defined", "undefined", "none", "boolean", "true", "false", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "lower", "upper", "escaped"]

    func test(_ name: String, _ v: Value, _ args: EvaluatedArguments) throws(TemplateError) -> Bool {
        try step()
        try charge(v)
        let arg = args.positional.first
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "string": if case .string = v { return true } else { return false }
        case "number": return Python.number(v) != nil
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .float = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "iterable":
            switch v {
            case .list, .tuple, .dict, .string, .range, .dictView, .undefined: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .list, .tuple, .dict, .string, .range, .undefined: return true
            default: return false
            }
        case "callable":
            switch v {
            case .macro, .function, .method: return true
            default: return false
            }
        case "odd", "even", "divisibleby":
            // value % 2 == 1, value % 2 == 0, value % num == 0, with Python's arithmetic.
            if case let .undefined(u) = v { throw .undefined(message: u.message) }
            let divisor: Value = name == "divisibleby" ? (arg ?? .none) : .int(2)
            let r = try binary(.modulo, v, divisor)
            if case .string = v { throw .type(message: "not all arguments converted during string formatting") }
            return try equal(r, .int(name == "odd" ? 1 : 0))
        case "eq", "equalto", "==": return try equal(v, arg ?? .none)
        case "ne", "!=": return !(try equal(v, arg ?? .none))
        case "lt", "lessthan", "<": return try compare(.less, v, arg ?? .none)
        case "le", "<=": return try compare(.lessOrEqual, v, arg ?? .none)
        case "gt", "greaterthan", ">": return try compare(.greater, v, arg ?? .none)
        case "ge", ">=": return try compare(.greaterOrEqual, v, arg ?? .none)
        case "in": return try contains(arg ?? .none, v)
        case "sameas":
            switch (v, arg ?? .none) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            case let (.int(a), .int(b)): return a == b && (-5...256).contains(a)
            default: return false
            }
        case "lower", "upper":
            // str(value).islower() / .isupper(): a cased character, and none of the other case.
            let s = try str(v)
            guard s.unicodeScalars.contains(where: StringOps.isCased) else { return false }
            let mapped = name == "lower" ? StringOps.lower(s) : StringOps.upper(s)
            return mapped.utf8.elementsEqual(s.utf8)
        case "escaped": return false
        default:
            throw .runtime(message: "No test named '\(name)'.")
        }
    }
}
