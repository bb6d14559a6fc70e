/// Variables visible at one point of a render. A loop iteration, a macro call and the template
/// itself each get a scope, so a `set` inside a loop body does not leak out (jinja2's scoping);
/// `if` blocks share their enclosing scope.
final class Scope {
    var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var s: Scope? = self
        while let current = s {
            if let v = current.variables[name] { return v }
            s = current.parent
        }
        return nil
    }
}

/// How a statement list ended: normally, or by `{% break %}` / `{% continue %}`.
enum Flow {
    case normal, breakLoop, continueLoop
}

/// Walks a parsed template. One instance per render: it carries the budgets of `TemplateLimits`.
final class Interpreter {
    let limits: TemplateLimits
    private(set) var steps = 0
    private var outputBytes = 0
    /// Current depth of macro calls.
    private var callDepth = 0
    /// Current recursion depth of `execute` and `evaluate` together.
    private var depth = 0
    /// Scopes that hold a macro, which holds the scope back: cleared after the render to break the cycle.
    private var macroScopes: [Scope] = []

    init(limits: TemplateLimits) { self.limits = limits }

    // MARK: budgets

    /// Charges `n` steps of work.
    func step(_ n: Int = 1) throws(TemplateError) {
        let (total, overflow) = steps.addingReportingOverflow(n)
        steps = overflow ? Int.max : total
        if steps > limits.maxSteps {
            throw .limitExceeded(limit: .steps, message: "the template ran for more than \(limits.maxSteps) steps")
        }
    }

    /// Refuses a value of `size` bytes or elements before it is built (a negative size stands for
    /// an overflowing computation).
    func checkSize(_ size: Int, what: String) throws(TemplateError) {
        guard size >= 0, size <= limits.maxValueSize else {
            throw .limitExceeded(limit: .valueSize, message: "\(what) of \(size < 0 ? "overflowing" : String(size)) exceeds the limit of \(limits.maxValueSize)")
        }
    }

    /// Charges work proportional to the size of a value an operation reads in full (searching,
    /// comparing, hashing, counting): one step per 64 bytes of a string, per 4 elements of a
    /// container. Without it a loop over `big | length` would do unbounded work in few steps.
    func charge(_ v: Value) throws(TemplateError) {
        switch v {
        case let .string(s): try step(s.utf8.count >> 6)
        case let .list(a), let .tuple(a), let .dictView(_, a): try step(a.count >> 2)
        case let .dict(d): try step(d.count >> 2)
        default: break
        }
    }

    /// Python's `==`, with the comparison's work charged afterwards (bounded by the values' sizes,
    /// which were charged when they were built).
    func equal(_ a: Value, _ b: Value) throws(TemplateError) -> Bool {
        var work = 0
        let r = Python.equal(a, b, work: &work)
        try step(work >> 2)
        return r
    }

    func order(_ a: Value, _ b: Value) throws(TemplateError) -> Int? {
        var work = 0
        let r = Python.compare(a, b, work: &work)
        try step(work >> 2)
        return r
    }

    /// Checks a string of `bytes` and charges building it: one step per 64 bytes.
    func reserve(_ bytes: Int, what: String) throws(TemplateError) {
        try checkSize(bytes, what: what)
        try step(bytes / 64)
    }

    /// Checks a list of `count` elements and charges building it: one step per element.
    func reserveElements(_ count: Int, what: String) throws(TemplateError) {
        try checkSize(count, what: what)
        try step(count)
    }

    func emit(_ s: String, into out: inout String) throws(TemplateError) {
        let n = s.utf8.count
        let (total, overflow) = outputBytes.addingReportingOverflow(n)
        outputBytes = overflow ? Int.max : total
        guard outputBytes <= limits.maxOutputBytes else {
            throw .limitExceeded(limit: .outputBytes, message: "the template wrote more than \(limits.maxOutputBytes) bytes")
        }
        try step(n / 64)
        out += s
    }

    func releaseMacroScopes() {
        for s in macroScopes { s.variables = [:] }
        macroScopes = []
    }

    // MARK: statements

    func render(_ body: [Statement], scope: Scope) throws(TemplateError) -> String {
        var out = ""
        _ = try execute(body, scope: scope, into: &out)
        return out
    }

    /// Enters one level of interpreter recursion; balanced by `leave()`.
    func enter() throws(TemplateError) {
        depth += 1
        guard depth <= limits.evaluation else {
            depth -= 1
            throw .limitExceeded(limit: .recursion, message: "evaluation nested deeper than \(limits.evaluation) levels")
        }
    }

    func leave() { depth -= 1 }

    func execute(_ body: [Statement], scope: Scope, into out: inout String) throws(TemplateError) -> Flow {
        try enter()
        defer { leave() }
        for statement in body {
            try step()
            switch statement {
            case let .text(s):
                try emit(s, into: &out)
            case let .output(e):
                try emit(try str(try evaluate(e, scope)), into: &out)
            case let .ifChain(branches, otherwise):
                var chosen = otherwise
                for branch in branches where try evaluate(branch.condition, scope).isTruthy {
                    chosen = branch.body
                    break
                }
                let flow = try execute(chosen, scope: scope, into: &out)
                if case .normal = flow {} else { return flow }
            case let .forLoop(loop):
                try run(loop, scope: scope, into: &out)
            case let .set(target, e):
                try assign(try evaluate(e, scope), to: target, scope: scope)
            case let .setBlock(target, filters, body):
                // A break or continue inside the body leaves the loop before the assignment, as
                // in jinja2, which compiles the body inline.
                var (captured, flow) = try capture(body, scope: scope)
                if case .normal = flow {} else { return flow }
                for f in filters { captured = try applyFilter(f, to: captured, scope: scope) }
                try assign(captured, to: target, scope: scope)
            case let .macro(definition):
                scope.variables[definition.name] = .macro(Macro(definition: definition, scope: scope))
                macroScopes.append(scope)
            case let .filterBlock(filters, body):
                if filters.isEmpty {
                    let flow = try execute(body, scope: scope, into: &out)
                    if case .normal = flow {} else { return flow }
                } else {
                    var (captured, flow) = try capture(body, scope: scope)
                    if case .normal = flow {} else { return flow }
                    for f in filters { captured = try applyFilter(f, to: captured, scope: scope) }
                    try emit(try str(captured), into: &out)
                }
            case let .with(bindings, body):
                let inner = Scope(parent: scope)
                var values: [Value] = []
                for b in bindings { values.append(try evaluate(b.value, scope)) }
                for (b, v) in zip(bindings, values) { try assign(v, to: b.target, scope: inner) }
                let flow = try execute(body, scope: inner, into: &out)
                if case .normal = flow {} else { return flow }
            case let .generation(body):
                try emit(try render(body, scope: Scope(parent: scope)), into: &out)
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    /// Renders a `{% set %}` or `{% filter %}` body, in a scope of its own: jinja2 compiles these
    /// bodies as frames of their own, so their assignments do not leak.
    private func capture(_ body: [Statement], scope: Scope) throws(TemplateError) -> (Value, Flow) {
        var buffer = ""
        let flow = try execute(body, scope: Scope(parent: scope), into: &buffer)
        return (.string(buffer), flow)
    }

    private func applyFilter(_ f: FilterCall, to value: Value, scope: Scope) throws(TemplateError) -> Value {
        let args = try evaluateArguments(f.arguments, scope)
        return try filter(f.name, value, args)
    }

    private func run(_ loop: ForLoop, scope: Scope, into out: inout String) throws(TemplateError) {
        var items = try iterate(try evaluate(loop.iterable, scope))
        if let condition = loop.condition {
            // jinja2 filters first, so loop.index and loop.length count the kept items only.
            var kept: [Value] = []
            for item in items {
                try step()
                let s = Scope(parent: scope)
                try assign(item, to: loop.target, scope: s)
                if try evaluate(condition, s).isTruthy { kept.append(item) }
            }
            items = kept
        }
        let outer = scope.lookup("loop")
        var depth = 1
        if case let .loop(l) = outer { depth = l.depth + 1 }
        // jinja2 runs the else block unless some iteration reached the end of the body: an empty
        // loop, but also one whose every iteration ended in break or continue.
        var completed = false
        for (index, item) in items.enumerated() {
            try step()
            let s = Scope(parent: scope)
            try assign(item, to: loop.target, scope: s)
            s.variables["loop"] = .loop(LoopState(index0: index, length: items.count, items: items, depth: depth))
            let flow = try execute(loop.body, scope: s, into: &out)
            if case .breakLoop = flow { break }
            if case .normal = flow { completed = true }
        }
        if !completed {
            _ = try execute(loop.otherwise, scope: Scope(parent: scope), into: &out)
        }
    }

    func assign(_ value: Value, to target: Target, scope: Scope) throws(TemplateError) {
        switch target {
        case let .name(n):
            scope.variables[n] = value
        case let .tuple(targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw .runtime(message: items.count > targets.count
                    ? "too many values to unpack (expected \(targets.count))"
                    : "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(v, to: t, scope: scope) }
        case let .attribute(name, attribute):
            guard case let .namespace(ns) = scope.lookup(name) ?? .none else {
                throw .runtime(message: "cannot assign attribute on non-namespace object")
            }
            // Checked after storing, from the namespace: storing a namespace in itself (or in
            // anything it holds) makes a cycle, which the bounded walk reports; the old value is
            // put back so no cycle outlives the error.
            try Self.checkNamespaceAttribute(attribute)
            let old = ns.attributes.get(attribute)
            ns.attributes.set(.string(attribute), value)
            do {
                try checkDepth(.namespace(ns))
            } catch {
                ns.attributes.set(.string(attribute), old ?? .none)
                throw error
            }
        }
    }

    /// The elements a `for` loop (or `list`, `join`, unpacking) sees.
    func iterate(_ v: Value) throws(TemplateError) -> [Value] {
        switch v {
        case let .list(a), let .tuple(a), let .dictView(_, a): return a
        case let .dict(d): return d.keys
        case let .string(s):
            try reserveElements(s.unicodeScalars.count, what: "a list of characters")
            return s.unicodeScalars.map { .string(String($0)) }
        case let .range(start, stop, step):
            let n = Python.rangeCount(start, stop, step)
            try reserveElements(n, what: "a range")
            return (0..<n).map { .int(start + $0 * step) }
        case .undefined: return []
        default: throw .type(message: "'\(v.pythonTypeName)' object is not iterable")
        }
    }

    // MARK: macros

    func call(_ macro: Macro, _ args: EvaluatedArguments) throws(TemplateError) -> Value {
        let def = macro.definition
        guard callDepth < limits.maxCallDepth else {
            throw .limitExceeded(limit: .recursion, message: "macro calls nested deeper than \(limits.maxCallDepth) (in '\(def.name)')")
        }
        guard args.positional.count <= def.parameters.count else {
            throw .type(message: "macro '\(def.name)' takes not more than \(def.parameters.count) argument(s)")
        }
        let s = Scope(parent: macro.scope)
        for (k, _) in args.keyword where !def.parameters.contains(where: { $0.name == k }) {
            throw .type(message: "macro '\(def.name)' takes no keyword argument '\(k)'")
        }
        for (i, p) in def.parameters.enumerated() {
            if i < args.positional.count {
                s.variables[p.name] = args.positional[i]
            } else if let v = args.keyword.first(where: { $0.name == p.name })?.value {
                s.variables[p.name] = v
            } else if let d = p.defaultValue {
                s.variables[p.name] = try evaluate(d, s)
            } else {
                s.variables[p.name] = .undefined(Undefined(message: "parameter '\(p.name)' was not provided"))
            }
        }
        callDepth += 1
        defer { callDepth -= 1 }
        return .string(try render(def.body, scope: s))
    }
}

/// Call arguments after evaluation.
struct EvaluatedArguments {
    var positional: [Value] = []
    var keyword: [(name: String, value: Value)] = []

    func keywordValue(_ name: String) -> Value? { keyword.first(where: { $0.name == name })?.value }

    /// Argument `index` given by position or by `name`, or nil.
    func argument(_ index: Int, _ name: String) -> Value? {
        index < positional.count ? positional[index] : keywordValue(name)
    }
}

extension Interpreter {
    /// Refuses values nested deeper than `maxValueDepth` where nesting can grow (literals,
    /// `namespace()`, `dict()`, namespace attributes), so printing, comparing and freeing a value
    /// never recurses without bound, and a namespace can never contain itself.
    func checkDepth(_ v: Value) throws(TemplateError) {
        var visited = 0
        try depthWalk(v, level: 1, visited: &visited)
        try step(visited / 16)
    }

    private func depthWalk(_ v: Value, level: Int, visited: inout Int) throws(TemplateError) {
        visited += 1
        guard level <= limits.valueDepth else {
            throw .limitExceeded(limit: .nesting, message: "a value nested deeper than \(limits.valueDepth) levels")
        }
        switch v {
        case let .list(a), let .tuple(a), let .dictView(_, a):
            for x in a where x.isContainer { try depthWalk(x, level: level + 1, visited: &visited) }
        case let .dict(d):
            for x in d.values where x.isContainer { try depthWalk(x, level: level + 1, visited: &visited) }
        case let .namespace(ns):
            for x in ns.attributes.values where x.isContainer { try depthWalk(x, level: level + 1, visited: &visited) }
        case let .loop(l):
            for x in l.items where x.isContainer { try depthWalk(x, level: level + 1, visited: &visited) }
        case let .method(receiver, _):
            if receiver.isContainer { try depthWalk(receiver, level: level + 1, visited: &visited) }
        default:
            break
        }
    }
}

extension Value {
    var isContainer: Bool {
        switch self {
        case .list, .tuple, .dictView, .dict, .namespace, .loop, .method: return true
        default: return false
        }
    }
}
