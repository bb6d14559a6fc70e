/// A Jinja template parsed once and rendered many times, with the semantics of Python's jinja2 3.1
/// as Hugging Face configures it for chat templates (`ImmutableSandboxedEnvironment(trim_blocks=True,
/// lstrip_blocks=True)` with `raise_exception`, `strftime_now`, loop controls and a `tojson` that
/// does not escape HTML). The output equals jinja2's byte for byte for the features chat templates
/// use; `Fixtures/templates/README.md` lists them and the known gaps.
///
/// ```swift
/// import Jinja
///
/// let template = try Template(source: "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}")
/// let text = try template.render(["messages": [["role": "user", "content": "Hi"]]])
/// // text == "<user>Hi"
/// ```
///
/// Parsing and rendering are bounded by ``TemplateLimits``: a hostile template ends in
/// ``TemplateError/limitExceeded(limit:message:)`` instead of hanging or exhausting memory. A
/// template is immutable and `Sendable`; concurrent renders of one template are independent.
public struct Template: Sendable {
    /// The template text as given.
    public let source: String
    /// The budgets every render of this template runs under.
    public let limits: TemplateLimits
    let body: [Statement]

    /// Parses `source`.
    ///
    /// - Throws: ``TemplateError/syntax(message:line:column:)`` with the 1-based position of the
    ///   error, or ``TemplateError/limitExceeded(limit:message:)`` for a source over
    ///   `limits.maxSourceBytes` or nested deeper than `limits.maxNestingDepth`.
    public init(source: String, limits: TemplateLimits = .init()) throws(TemplateError) {
        guard source.utf8.count <= limits.maxSourceBytes else {
            throw .limitExceeded(limit: .sourceBytes, message: "the template has \(source.utf8.count) bytes, more than \(limits.maxSourceBytes)")
        }
        self.source = source
        self.limits = limits
        body = try LargeStack.run { () throws(TemplateError) in
            try TemplateParser.parse(try TemplateLexer.tokenize(source), maxNestingDepth: limits.nesting)
        }
    }

    /// Renders the template with `context` as its variables; names not in it are undefined, as in
    /// jinja2 (`{{ x }}` prints nothing, `x.y` throws ``TemplateError/undefined(message:)``).
    ///
    /// - Throws: ``TemplateError``: `raised` when the template calls `raise_exception(message)`,
    ///   `undefined`, `type` or `runtime` as jinja2 would raise them, and `limitExceeded` when a
    ///   budget of ``limits`` runs out.
    public func render(_ context: [String: TemplateValue]) throws(TemplateError) -> String {
        try LargeStack.run { () throws(TemplateError) in
            let interpreter = Interpreter(limits: limits)
            let scope = Scope(parent: nil)
            for (k, v) in context { scope.variables[k] = try interpreter.convert(v, depth: 0) }
            defer { interpreter.releaseMacroScopes() }
            return try interpreter.render(body, scope: scope)
        }
    }
}

extension Interpreter {
    /// A caller's value as a runtime value; nesting is bounded like the values templates build.
    func convert(_ v: TemplateValue, depth: Int) throws(TemplateError) -> Value {
        guard depth < limits.valueDepth else {
            throw .limitExceeded(limit: .nesting, message: "a variable nested deeper than \(limits.valueDepth) levels")
        }
        switch v {
        case .none: return .none
        case let .bool(b): return .bool(b)
        case let .int(i): return .int(i)
        case let .double(d): return .float(d)
        case let .string(s): return .string(s)
        case let .array(a):
            var out: [Value] = []
            out.reserveCapacity(a.count)
            for x in a { out.append(try convert(x, depth: depth + 1)) }
            return .list(out)
        case let .object(members):
            var d = Dict()
            for (k, x) in members { d.set(.string(k), try convert(x, depth: depth + 1)) }
            return .dict(d)
        }
    }
}
