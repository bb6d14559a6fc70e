/// A chat template parsed once and rendered per conversation, with the semantics of Python's jinja2
/// 3.1 as Hugging Face configures it (`ImmutableSandboxedEnvironment(trim_blocks=True,
/// lstrip_blocks=True)` with `raise_exception`, `strftime_now`, loop controls and a `tojson` that
/// does not escape HTML). The output equals jinja2's byte for byte for the features real templates
/// use; see `Fixtures/templates/README.md` for the list and the known gaps.
///
/// ```swift
/// let template = try ChatTemplate(source: source)
/// let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")],
///                                  bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
/// ```
///
/// Rendering is bounded by `TemplateLimits`: a hostile template ends in
/// `TemplateError.limitExceeded` instead of hanging or exhausting memory.
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    /// The budgets every render of this template runs under.
    public let limits: TemplateLimits
    let body: [Statement]

    /// Parses `source`; syntax errors (with line and column) and over-deep nesting are thrown here.
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

    /// Renders a conversation with the variables Hugging Face's `apply_chat_template` passes:
    /// `messages` (a list of `{"role", "content"}`), `bos_token`, `eos_token`,
    /// `add_generation_prompt`, and `tools` / `documents` as `none`. `extraVariables` are added last
    /// and may override any of them.
    ///
    /// A template that calls `raise_exception(msg)` throws `TemplateError.raised(message: msg)`.
    public func render(messages: [ChatMessage], bosToken: String, eosToken: String, addGenerationPrompt: Bool,
                       extraVariables: [String: TemplateValue] = [:]) throws(TemplateError) -> String {
        var variables: [String: TemplateValue] = [
            "messages": TemplateValue(messages: messages),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        for (k, v) in extraVariables { variables[k] = v }
        return try render(variables: variables)
    }

    /// Renders with exactly these variables (names not given are undefined).
    public func render(variables: [String: TemplateValue]) throws(TemplateError) -> String {
        try LargeStack.run { () throws(TemplateError) in
            let interpreter = Interpreter(limits: limits)
            let scope = Scope(parent: nil)
            for (k, v) in variables { scope.variables[k] = try interpreter.convert(v, depth: 0) }
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
