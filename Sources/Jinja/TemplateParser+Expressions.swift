/// The expression half of `TemplateParser`: jinja2's precedence climbing, each level building
/// nodes through `node(_:_:)`, which bounds the depth of the tree.
extension TemplateParser {
    /// Comma-separated expressions: a tuple when there is a comma.
    mutating func tuple(allowConditional: Bool, explicitParentheses: Bool, stopNames: Set<String> = []) throws(TemplateError) -> Node {
        var items: [Node] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(explicitParentheses: explicitParentheses, stopNames: stopNames) { break }
            items.append(try expression(allowConditional: allowConditional))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if explicitParentheses { return try node(.tuple([]), childDepth: 0) }
            throw fail("Expected an expression, got '\(describe(current.kind))'")
        }
        return try node(.tuple(items.map(\.expr)), childDepth: items.map(\.depth).max() ?? 0)
    }

    func isTupleEnd(explicitParentheses: Bool, stopNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case let .op(o): return explicitParentheses && o == ")"
        case let .name(n): return stopNames.contains(n)
        default: return false
        }
    }

    mutating func expression(allowConditional: Bool) throws(TemplateError) -> Node {
        try enter()
        defer { leave() }
        guard allowConditional else { return try or() }
        var value = try or()
        while skipName("if") {
            let condition = try or()
            var otherwise: Node?
            if skipName("else") { otherwise = try expression(allowConditional: true) }
            value = try node(.conditional(condition: condition.expr, then: value.expr, otherwise: otherwise?.expr), condition, value, otherwise)
        }
        return value
    }

    mutating func or() throws(TemplateError) -> Node {
        var left = try and()
        while skipName("or") {
            let right = try and()
            left = try node(.or(left.expr, right.expr), left, right)
        }
        return left
    }

    mutating func and() throws(TemplateError) -> Node {
        var left = try not()
        while skipName("and") {
            let right = try not()
            left = try node(.and(left.expr, right.expr), left, right)
        }
        return left
    }

    mutating func not() throws(TemplateError) -> Node {
        if skipName("not") {
            try enter()
            defer { leave() }
            let operand = try not()
            return try node(.not(operand.expr), operand)
        }
        return try compare()
    }

    static let compareOperators: [String: CompareOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    mutating func compare() throws(TemplateError) -> Node {
        let first = try additive()
        var ops: [(op: CompareOperator, operand: Expr)] = []
        var d = first.depth
        while true {
            let op: CompareOperator
            if case let .op(o) = current.kind, let c = Self.compareOperators[o] {
                advance()
                op = c
            } else if isName("in") {
                advance()
                op = .in
            } else if isName("not"), case .name("in") = next.kind {
                advance()
                advance()
                op = .notIn
            } else {
                break
            }
            let operand = try additive()
            d = max(d, operand.depth)
            ops.append((op, operand.expr))
        }
        if ops.isEmpty { return first }
        return try node(.compare(first.expr, ops), childDepth: d)
    }

    mutating func additive() throws(TemplateError) -> Node {
        var left = try concat()
        while isOp("+") || isOp("-") {
            let op: BinaryOperator = isOp("+") ? .add : .subtract
            advance()
            let right = try concat()
            left = try node(.binary(op, left.expr, right.expr), left, right)
        }
        return left
    }

    mutating func concat() throws(TemplateError) -> Node {
        let first = try multiplicative()
        guard isOp("~") else { return first }
        var parts = [first]
        while skipOp("~") { parts.append(try multiplicative()) }
        return try node(.concat(parts.map(\.expr)), childDepth: parts.map(\.depth).max() ?? 0)
    }

    mutating func multiplicative() throws(TemplateError) -> Node {
        var left = try power()
        while true {
            let op: BinaryOperator
            if isOp("*") { op = .multiply } else if isOp("/") { op = .divide }
            else if isOp("//") { op = .floorDivide } else if isOp("%") { op = .modulo } else { break }
            advance()
            let right = try power()
            left = try node(.binary(op, left.expr, right.expr), left, right)
        }
        return left
    }

    /// `**` is left-associative in jinja2 (`2 ** 3 ** 2` is 64), unlike Python.
    mutating func power() throws(TemplateError) -> Node {
        var left = try unary(withFilters: true)
        while skipOp("**") {
            let right = try unary(withFilters: true)
            left = try node(.binary(.power, left.expr, right.expr), left, right)
        }
        return left
    }

    /// Unary minus binds looser than filters: `-x|abs` is `(-x)|abs`, and `-2 ** 2` is 4, as in jinja2.
    mutating func unary(withFilters: Bool) throws(TemplateError) -> Node {
        var value: Node
        if isOp("-") || isOp("+") {
            let negate = isOp("-")
            advance()
            try enter()
            let operand = try unary(withFilters: false)
            leave()
            value = try node(negate ? .negate(operand.expr) : .plus(operand.expr), operand)
        } else {
            value = try primary()
        }
        value = try postfix(value)
        if withFilters { value = try filtersAndTests(value) }
        return value
    }

    mutating func primary() throws(TemplateError) -> Node {
        let token = current
        switch token.kind {
        case let .name(n):
            advance()
            switch n {
            case "true", "True": return try node(.constant(.bool(true)), childDepth: 0)
            case "false", "False": return try node(.constant(.bool(false)), childDepth: 0)
            case "none", "None": return try node(.constant(.none), childDepth: 0)
            default: return try node(.name(n), childDepth: 0)
            }
        case let .string(s):
            advance()
            var text = s
            // Adjacent literals concatenate, as in Python.
            while case let .string(more) = current.kind {
                text += more
                advance()
            }
            return try node(.constant(.string(text)), childDepth: 0)
        case let .integer(n):
            advance()
            return try node(.constant(.int(n)), childDepth: 0)
        case let .float(d):
            advance()
            return try node(.constant(.float(d)), childDepth: 0)
        case .op("("):
            advance()
            try enter()
            let inner = try tuple(allowConditional: true, explicitParentheses: true)
            leave()
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            try enter()
            defer { leave() }
            var items: [Node] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try expression(allowConditional: true))
            }
            try expectOp("]")
            return try node(.list(items.map(\.expr)), childDepth: items.map(\.depth).max() ?? 0)
        case .op("{"):
            advance()
            try enter()
            defer { leave() }
            var pairs: [(key: Expr, value: Expr)] = []
            var d = 0
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try expression(allowConditional: true)
                try expectOp(":")
                let v = try expression(allowConditional: true)
                d = max(d, k.depth, v.depth)
                pairs.append((k.expr, v.expr))
            }
            try expectOp("}")
            return try node(.dict(pairs), childDepth: d)
        default:
            throw fail("unexpected '\(describe(token.kind))'")
        }
    }

    /// Attribute access, subscripts, slices and calls after a primary.
    mutating func postfix(_ start: Node) throws(TemplateError) -> Node {
        var value = start
        while true {
            if skipOp(".") {
                switch current.kind {
                case let .name(n):
                    advance()
                    value = try node(.attribute(value.expr, n), value)
                case let .integer(k):
                    advance()
                    value = try node(.item(value.expr, .constant(.int(k))), value)
                default:
                    throw fail("expected name or number after '.'")
                }
            } else if isOp("[") {
                advance()
                try enter()
                value = try subscriptOf(value)
                leave()
                try expectOp("]")
            } else if isOp("(") {
                let args = try callArguments()
                value = try node(.call(value.expr, args.0), value, args.1)
            } else {
                return value
            }
        }
    }

    mutating func subscriptOf(_ target: Node) throws(TemplateError) -> Node {
        var parts: [Node?] = [nil, nil, nil]
        var isSlice = false
        var part = 0
        if !isOp(":") { parts[0] = try expression(allowConditional: true) }
        while isOp(":") {
            isSlice = true
            advance()
            part += 1
            guard part <= 2 else { throw fail("unexpected ':'") }
            if !isOp(":") && !isOp("]") { parts[part] = try expression(allowConditional: true) }
        }
        if !isSlice, isOp(",") {
            var items: [Node] = [parts[0]].compactMap { $0 }
            while skipOp(",") {
                if isOp("]") { break }
                items.append(try expression(allowConditional: true))
            }
            let key = try node(.tuple(items.map(\.expr)), childDepth: items.map(\.depth).max() ?? 0)
            return try node(.item(target.expr, key.expr), target, key)
        }
        if isSlice {
            return try node(.slice(target.expr, start: parts[0]?.expr, stop: parts[1]?.expr, step: parts[2]?.expr),
                            target, parts[0], parts[1], parts[2])
        }
        guard let key = parts[0] else { throw fail("expected a subscript") }
        return try node(.item(target.expr, key.expr), target, key)
    }

    /// `(a, b, name=c)`; returns the arguments and the deepest argument as a stand-in node.
    mutating func callArguments() throws(TemplateError) -> (Arguments, Node?) {
        try expectOp("(")
        try enter()
        defer { leave() }
        var args = Arguments()
        var deepest: Node?
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw fail("*args and **kwargs in calls are not supported") }
            if case let .name(n) = current.kind, case .op("=") = next.kind {
                advance()
                advance()
                let v = try expression(allowConditional: true)
                if deepest == nil || v.depth > (deepest?.depth ?? 0) { deepest = v }
                args.keyword.append((n, v.expr))
            } else {
                guard args.keyword.isEmpty else { throw fail("positional argument after keyword argument") }
                let v = try expression(allowConditional: true)
                if deepest == nil || v.depth > (deepest?.depth ?? 0) { deepest = v }
                args.positional.append(v.expr)
            }
        }
        try expectOp(")")
        return (args, deepest)
    }

    mutating func filtersAndTests(_ start: Node) throws(TemplateError) -> Node {
        var value = start
        while true {
            if skipOp("|") {
                let at = current
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                guard Interpreter.filterNames.contains(name) else { throw fail("No filter named '\(name)'.", at) }
                var args = Arguments()
                var deepest: Node?
                if isOp("(") { (args, deepest) = try callArguments() }
                value = try node(.filter(value.expr, name: name, args), value, deepest)
            } else if skipName("is") {
                let negated = skipName("not")
                let at = current
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                guard Interpreter.testNames.contains(name) else { throw fail("No test named '\(name)'.", at) }
                var args = Arguments()
                var deepest: Node?
                if isOp("(") {
                    (args, deepest) = try callArguments()
                } else if startsTestArgument() {
                    if isName("is") { throw fail("You cannot chain multiple tests with is") }
                    try enter()
                    let arg = try postfix(try primary())
                    leave()
                    args.positional = [arg.expr]
                    deepest = arg
                }
                value = try node(.test(value.expr, name: name, args, negated: negated), value, deepest)
            } else if isOp("(") {
                let (args, deepest) = try callArguments()
                value = try node(.call(value.expr, args), value, deepest)
            } else {
                return value
            }
        }
    }

    /// jinja2 takes one bare argument after a test name (`x is divisibleby 3`, `x is sameas none`)
    /// when the next token can start one and is not `else`, `or` or `and`.
    func startsTestArgument() -> Bool {
        switch current.kind {
        case let .name(n): return n != "else" && n != "or" && n != "and"
        case .string, .integer, .float: return true
        case .op("["), .op("{"): return true
        default: return false
        }
    }
}
