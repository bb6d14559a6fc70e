/// Recursive-descent parser over `TemplateLexer`'s tokens, with jinja2's grammar and precedence:
/// conditional < `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %` < `**` <
/// unary `- +` < filters, `is` tests and calls < attribute, item and slice.
///
/// Depth is bounded: every nested block, bracket or argument list counts against
/// `maxNestingDepth`, and so does the depth of each expression tree built (a left-deep chain such
/// as `a + a + ... + a` is as deep as it is long), so the interpreter's recursion over the tree is
/// bounded too.
struct TemplateParser {
    var tokens: [Token]
    var i = 0
    let maxDepth: Int
    var depth = 0
    /// Open blocks, innermost last, for "unclosed block" messages.
    var openBlocks: [(name: String, line: Int)] = []
    var loopDepth = 0

    /// An expression with the depth of its tree.
    struct Node {
        let expr: Expr
        let depth: Int
    }

    static func parse(_ tokens: [Token], maxNestingDepth: Int) throws(TemplateError) -> [Statement] {
        var parser = TemplateParser(tokens: tokens, maxDepth: maxNestingDepth)
        let (body, _) = try parser.body(until: [])
        return body
    }

    init(tokens: [Token], maxDepth: Int) {
        let last = tokens.last
        self.tokens = tokens + [Token(kind: .eof, line: last?.line ?? 1, column: last?.column ?? 1)]
        self.maxDepth = maxDepth
    }

    // MARK: tokens

    var current: Token { tokens[i] }
    var next: Token { tokens[min(i + 1, tokens.count - 1)] }

    mutating func advance() { if i < tokens.count - 1 { i += 1 } }

    func fail(_ message: String, _ token: Token? = nil) -> TemplateError {
        let t = token ?? current
        return .syntax(message: message, line: t.line, column: t.column)
    }

    func describe(_ kind: Token.Kind) -> String {
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

    func isOp(_ o: String) -> Bool {
        if case let .op(x) = current.kind { return x == o }
        return false
    }

    func isName(_ n: String) -> Bool {
        if case let .name(x) = current.kind { return x == n }
        return false
    }

    mutating func skipOp(_ o: String) -> Bool {
        guard isOp(o) else { return false }
        advance()
        return true
    }

    mutating func skipName(_ n: String) -> Bool {
        guard isName(n) else { return false }
        advance()
        return true
    }

    mutating func expectOp(_ o: String) throws(TemplateError) {
        guard skipOp(o) else { throw fail("expected '\(o)', got '\(describe(current.kind))'") }
    }

    mutating func expectName() throws(TemplateError) -> String {
        guard case let .name(n) = current.kind else { throw fail("expected a name, got '\(describe(current.kind))'") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws(TemplateError) {
        guard case .blockEnd = current.kind else { throw fail("expected end of statement block, got '\(describe(current.kind))'") }
        advance()
    }

    mutating func enter() throws(TemplateError) {
        depth += 1
        guard depth <= maxDepth else {
            throw .limitExceeded(limit: .nesting, message: "nesting deeper than \(maxDepth) at line \(current.line)")
        }
    }

    mutating func leave() { depth -= 1 }

    func node(_ e: Expr, _ children: Node?...) throws(TemplateError) -> Node {
        var d = 0
        for c in children { if let c { d = max(d, c.depth) } }
        return try node(e, childDepth: d)
    }

    func node(_ e: Expr, childDepth: Int) throws(TemplateError) -> Node {
        guard childDepth + 1 <= maxDepth else {
            throw .limitExceeded(limit: .nesting, message: "expression nested deeper than \(maxDepth) at line \(current.line)")
        }
        return Node(expr: e, depth: childDepth + 1)
    }

    // MARK: statements

    /// Statements up to a `{% tag %}` named in `ends` (returned, with the parser on the tag name),
    /// or to the end of the template when `ends` is empty.
    mutating func body(until ends: Set<String>) throws(TemplateError) -> ([Statement], String?) {
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

    mutating func block(_ name: String, line: Int, until ends: Set<String>) throws(TemplateError) -> ([Statement], String) {
        try enter()
        openBlocks.append((name, line))
        let (stmts, end) = try body(until: ends)
        openBlocks.removeLast()
        leave()
        guard let end else { throw fail("Unexpected end of template: '\(name)' is not closed") }
        advance()  // the end tag's name
        return (stmts, end)
    }

    mutating func statement(_ tag: String, begin: Token) throws(TemplateError) -> Statement? {
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

    mutating func ifStatement(_ begin: Token) throws(TemplateError) -> Statement {
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

    mutating func forStatement(_ begin: Token) throws(TemplateError) -> Statement {
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

    mutating func setStatement(_ begin: Token) throws(TemplateError) -> Statement {
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

    mutating func macroStatement(_ begin: Token) throws(TemplateError) -> Statement {
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
    mutating func assignTarget(allowAttribute: Bool, stopAtIn: Bool) throws(TemplateError) -> Target {
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

    mutating func filterChain() throws(TemplateError) -> [FilterCall] {
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
}
