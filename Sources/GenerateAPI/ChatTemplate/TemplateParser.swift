/// Recursive-descent parser over `TemplateLexer`'s tokens, with jinja2's grammar and precedence:
/// conditional < `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %` < `**` <
/// unary `- +` < filters, `is` tests and calls < attribute, item and slice.
///
/// Depth is bounded: every nested block, bracket or argument list counts against
/// `maxNestingDepth`, and so does the depth of each expression tree built (a left-deep chain such
/// as `a + a + ... + a` is as deep as it is long), so the interpreter's recursion over the tree is
/// bounded too.
struct TemplateParser {
    private var tokens: [Token]
    private var i = 0
    private let maxDepth: Int
    private var depth = 0
    /// Open blocks, innermost last, for "unclosed block" messages.
    private var openBlocks: [(name: String, line: Int)] = []
    private var loopDepth = 0

    /// An expression with the depth of its tree.
    private struct Node {
        let expr: Expr
        let depth: Int
    }

    static func parse(_ tokens: [Token], maxNestingDepth: Int) throws(TemplateError) -> [Statement] {
        var parser = TemplateParser(tokens: tokens, maxDepth: maxNestingDepth)
        let (body, _) = try parser.body(until: [])
        return body
    }

    private init(tokens: [Token], maxDepth: Int) {
        let last = tokens.last
        self.tokens = tokens + [Token(kind: .eof, line: last?.line ?? 1, column: last?.column ?? 1)]
        self.maxDepth = maxDepth
    }

    // MARK: tokens

    private var current: Token { tokens[i] }
    private var next: Token { tokens[min(i + 1, tokens.count - 1)] }

    private mutating func advance() { if i < tokens.count - 1 { i += 1 } }

    private func fail(_ message: String, _ token: Token? = nil) -> TemplateError {
        let t = token ?? current
        return .syntax(message: message, line: t.line, column: t.column)
    }

    private func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case .text: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case let .name(n): return n
        case let .string(s): return Python.stringRepr(s)
        case let .integer(n): return String(n)
        case let .float(d): return Python.float(d)
        case let .op(o): return o
        case .eof: return "end of template"
        }
    }

    private func isOp(_ o: String) -> Bool {
        if case let .op(x) = current.kind { return x == o }
        return false
    }

    private func isName(_ n: String) -> Bool {
        if case let .name(x) = current.kind { return x == n }
        return false
    }

    private mutating func skipOp(_ o: String) -> Bool {
        guard isOp(o) else { return false }
        advance()
        return true
    }

    private mutating func skipName(_ n: String) -> Bool {
        guard isName(n) else { return false }
        advance()
        return true
    }

    private mutating func expectOp(_ o: String) throws(TemplateError) {
        guard skipOp(o) else { throw fail("expected '\(o)', got '\(describe(current.kind))'") }
    }

    private mutating func expectName() throws(TemplateError) -> String {
        guard case let .name(n) = current.kind else { throw fail("expected a name, got '\(describe(current.kind))'") }
        advance()
        return n
    }

    private mutating func expectBlockEnd() throws(TemplateError) {
        guard case .blockEnd = current.kind else { throw fail("expected end of statement block, got '\(describe(current.kind))'") }
        advance()
    }

    private mutating func enter() throws(TemplateError) {
        depth += 1
        guard depth <= maxDepth else {
            throw .limitExceeded(limit: .nesting, message: "nesting deeper than \(maxDepth) at line \(current.line)")
        }
    }

    private mutating func leave() { depth -= 1 }

    private func node(_ e: Expr, _ children: Node?...) throws(TemplateError) -> Node {
        var d = 0
        for c in children { if let c { d = max(d, c.depth) } }
        return try node(e, childDepth: d)
    }

    private func node(_ e: Expr, childDepth: Int) throws(TemplateError) -> Node {
        guard childDepth + 1 <= maxDepth else {
            throw .limitExceeded(limit: .nesting, message: "expression nested deeper than \(maxDepth) at line \(current.line)")
        }
        return Node(expr: e, depth: childDepth + 1)
    }

    // MARK: statements

    /// Statements up to a `{% tag %}` named in `ends` (returned, with the parser on the tag name),
    /// or to the end of the template when `ends` is empty.
    private mutating func body(until ends: Set<String>) throws(TemplateError) -> ([Statement], String?) {
        var out: [Statement] = []
        while true {
            switch current.kind {
            case let .text(s):
                out.append(.text(s))
                advance()
            case .variableBegin:
                advance()
                let e = try tuple(allowConditional: true, explicitParentheses: false)
                guard case .variableEnd = current.kind else { throw fail("unexpected '\(describe(current.kind))'") }
                advance()
                out.append(.output(e.expr))
            case .blockBegin:
                let begin = current
                advance()
                guard case let .name(tag) = current.kind else { throw fail("tag name expected") }
                if ends.contains(tag) { return (out, tag) }
                advance()
                if let s = try statement(tag, begin: begin) { out.append(s) }
            case .eof:
                if let open = openBlocks.last {
                    let wanted = ends.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: \(wanted). The innermost block that needs to be closed is '\(open.name)' (opened at line \(open.line)).")
                }
                return (out, nil)
            default:
                throw fail("unexpected '\(describe(current.kind))'")
            }
        }
    }

    private mutating func block(_ name: String, line: Int, until ends: Set<String>) throws(TemplateError) -> ([Statement], String) {
        try enter()
        openBlocks.append((name, line))
        let (stmts, end) = try body(until: ends)
        openBlocks.removeLast()
        leave()
        guard let end else { throw fail("Unexpected end of template: '\(name)' is not closed") }
        advance()  // the end tag's name
        return (stmts, end)
    }

    private mutating func statement(_ tag: String, begin: Token) throws(TemplateError) -> Statement? {
        switch tag {
        case "if": return try ifStatement(begin)
        case "for": return try forStatement(begin)
        case "set": return try setStatement(begin)
        case "macro": return try macroStatement(begin)
        case "filter":
            let filters = try filterChain()
            try expectBlockEnd()
            let (body, _) = try block("filter", line: begin.line, until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(filters, body: body)
        case "with":
            var bindings: [(target: Target, value: Expr)] = []
            while !(current.kind == .blockEnd) {
                if !bindings.isEmpty { try expectOp(",") }
                let target = try assignTarget(allowAttribute: false, stopAtIn: false)
                try expectOp("=")
                bindings.append((target, try expression(allowConditional: true).expr))
            }
            try expectBlockEnd()
            let (body, _) = try block("with", line: begin.line, until: ["endwith"])
            try expectBlockEnd()
            return .with(bindings, body: body)
        case "generation":
            // Hugging Face's marker for assistant-token masks: renders its body unchanged.
            try expectBlockEnd()
            let (body, _) = try block("generation", line: begin.line, until: ["endgeneration"])
            try expectBlockEnd()
            return .generation(body)
        case "break", "continue":
            guard loopDepth > 0 else { throw fail("'\(tag)' outside of a loop", begin) }
            try expectBlockEnd()
            return tag == "break" ? .breakLoop : .continueLoop
        default:
            throw fail("Encountered unknown tag '\(tag)'.", begin)
        }
    }

    private mutating func ifStatement(_ begin: Token) throws(TemplateError) -> Statement {
        var branches: [(condition: Expr, body: [Statement])] = []
        var condition = try tuple(allowConditional: false, explicitParentheses: false).expr
        while true {
            try expectBlockEnd()
            let (body, end) = try block("if", line: begin.line, until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end {
            case "elif":
                condition = try tuple(allowConditional: false, explicitParentheses: false).expr
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try block("if", line: begin.line, until: ["endif"])
                try expectBlockEnd()
                return .ifChain(branches: branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .ifChain(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func forStatement(_ begin: Token) throws(TemplateError) -> Statement {
        let target = try assignTarget(allowAttribute: false, stopAtIn: true)
        guard skipName("in") else { throw fail("expected 'in', got '\(describe(current.kind))'") }
        let iterable = try tuple(allowConditional: false, explicitParentheses: false, stopNames: ["recursive"])
        var condition: Expr?
        if skipName("if") { condition = try expression(allowConditional: true).expr }
        if isName("recursive") { throw fail("recursive loops are not supported") }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try block("for", line: begin.line, until: ["else", "endfor"])
        loopDepth -= 1
        var otherwise: [Statement] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try block("for", line: begin.line, until: ["endfor"])
        }
        try expectBlockEnd()
        return .forLoop(ForLoop(target: target, iterable: iterable.expr, condition: condition, body: body, otherwise: otherwise))
    }

    private mutating func setStatement(_ begin: Token) throws(TemplateError) -> Statement {
        let target = try assignTarget(allowAttribute: true, stopAtIn: false)
        if skipOp("=") {
            let value = try tuple(allowConditional: true, explicitParentheses: false)
            try expectBlockEnd()
            return .set(target, value.expr)
        }
        let filters = isOp("|") ? try filterChain() : []
        try expectBlockEnd()
        let (body, _) = try block("set", line: begin.line, until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, filters: filters, body: body)
    }

    private mutating func macroStatement(_ begin: Token) throws(TemplateError) -> Statement {
        let name = try expectName()
        try expectOp("(")
        var parameters: [(name: String, defaultValue: Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let p = try expectName()
            var d: Expr?
            if skipOp("=") { d = try expression(allowConditional: true).expr }
            else if parameters.last?.defaultValue != nil { throw fail("non-default argument follows default argument") }
            parameters.append((p, d))
        }
        try expectOp(")")
        try expectBlockEnd()
        let savedLoops = loopDepth
        loopDepth = 0
        let (body, _) = try block("macro", line: begin.line, until: ["endmacro"])
        loopDepth = savedLoops
        try expectBlockEnd()
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body))
    }

    /// `x`, `a, b`, `(a, b)` or (for `set`) `ns.attr`.
    private mutating func assignTarget(allowAttribute: Bool, stopAtIn: Bool) throws(TemplateError) -> Target {
        var names: [Target] = []
        var sawComma = false
        while true {
            if skipOp("(") {
                try enter()
                let inner = try assignTarget(allowAttribute: false, stopAtIn: false)
                try expectOp(")")
                leave()
                names.append(inner)
            } else {
                let n = try expectName()
                if allowAttribute, names.isEmpty, skipOp(".") {
                    let attr = try expectName()
                    return .attribute(n, attr)
                }
                if ["true", "false", "none", "True", "False", "None"].contains(n) { throw fail("can't assign to '\(n)'") }
                names.append(.name(n))
            }
            guard skipOp(",") else { break }
            sawComma = true
            if isOp("=") || isOp(")") || (stopAtIn && isName("in")) { break }
        }
        return names.count == 1 && !sawComma ? names[0] : .tuple(names)
    }

    private mutating func filterChain() throws(TemplateError) -> [FilterCall] {
        var out: [FilterCall] = []
        repeat {
            if !out.isEmpty || isOp("|") { _ = skipOp("|") }
            let at = current
            var name = try expectName()
            while skipOp(".") { name += "." + (try expectName()) }
            guard Interpreter.filterNames.contains(name) else { throw fail("No filter named '\(name)'.", at) }
            let args = isOp("(") ? try callArguments().0 : Arguments()
            out.append(FilterCall(name: name, arguments: args))
        } while isOp("|")
        return out
    }

    // MARK: expressions

    /// Comma-separated expressions: a tuple when there is a comma.
    private mutating func tuple(allowConditional: Bool, explicitParentheses: Bool, stopNames: Set<String> = []) throws(TemplateError) -> Node {
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

    private func isTupleEnd(explicitParentheses: Bool, stopNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case let .op(o): return explicitParentheses && o == ")"
        case let .name(n): return stopNames.contains(n)
        default: return false
        }
    }

    private mutating func expression(allowConditional: Bool) throws(TemplateError) -> Node {
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

    private mutating func or() throws(TemplateError) -> Node {
        var left = try and()
        while skipName("or") {
            let right = try and()
            left = try node(.or(left.expr, right.expr), left, right)
        }
        return left
    }

    private mutating func and() throws(TemplateError) -> Node {
        var left = try not()
        while skipName("and") {
            let right = try not()
            left = try node(.and(left.expr, right.expr), left, right)
        }
        return left
    }

    private mutating func not() throws(TemplateError) -> Node {
        if skipName("not") {
            try enter()
            defer { leave() }
            let operand = try not()
            return try node(.not(operand.expr), operand)
        }
        return try compare()
    }

    private static let compareOperators: [String: CompareOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func compare() throws(TemplateError) -> Node {
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

    private mutating func additive() throws(TemplateError) -> Node {
        var left = try concat()
        while isOp("+") || isOp("-") {
            let op: BinaryOperator = isOp("+") ? .add : .subtract
            advance()
            let right = try concat()
            left = try node(.binary(op, left.expr, right.expr), left, right)
        }
        return left
    }

    private mutating func concat() throws(TemplateError) -> Node {
        let first = try multiplicative()
        guard isOp("~") else { return first }
        var parts = [first]
        while skipOp("~") { parts.append(try multiplicative()) }
        return try node(.concat(parts.map(\.expr)), childDepth: parts.map(\.depth).max() ?? 0)
    }

    private mutating func multiplicative() throws(TemplateError) -> Node {
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
    private mutating func power() throws(TemplateError) -> Node {
        var left = try unary(withFilters: true)
        while skipOp("**") {
            let right = try unary(withFilters: true)
            left = try node(.binary(.power, left.expr, right.expr), left, right)
        }
        return left
    }

    /// Unary minus binds looser than filters: `-x|abs` is `(-x)|abs`, and `-2 ** 2` is 4, as in jinja2.
    private mutating func unary(withFilters: Bool) throws(TemplateError) -> Node {
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

    private mutating func primary() throws(TemplateError) -> Node {
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
    private mutating func postfix(_ start: Node) throws(TemplateError) -> Node {
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

    private mutating func subscriptOf(_ target: Node) throws(TemplateError) -> Node {
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
    private mutating func callArguments() throws(TemplateError) -> (Arguments, Node?) {
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

    private mutating func filtersAndTests(_ start: Node) throws(TemplateError) -> Node {
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
    private func startsTestArgument() -> Bool {
        switch current.kind {
        case let .name(n): return n != "else" && n != "or" && n != "and"
        case .string, .integer, .float: return true
        case .op("["), .op("{"): return true
        default: return false
        }
    }
}
