/// A grammar ready for the recognizer: every rule a list of alternatives, every alternative a run of
/// symbols (a character class or a rule reference) ended by ``endSymbol``, all in one flat array as
/// llama.cpp lays its rules out. Groups, alternations inside sequences and repetitions are rules of
/// their own, so each symbol is one class or one reference and a repetition costs one symbol per
/// step.
///
/// Compiling checks what would make the recognizer loop or blow up: undefined rules, left
/// recursion (also through rules that can match the empty string), and the sizes of
/// ``GrammarLimits``.
///
/// Equal grammars (the same rules, in the same order) share a masker in a ``GrammarCache``.
public struct CompiledGrammar: Sendable, Hashable {
    /// Symbols: `>= 0` a class index into ``classes``, ``endSymbol`` the end of an alternative,
    /// other negative values `-(rule + 1)`, a reference.
    let symbols: [Int32]
    /// The character classes the symbols use, each once.
    let classes: [CharacterClass]
    /// For each rule, where its alternatives start in ``symbols``.
    let alternatives: [[Int32]]
    /// The rules' names (generated rules are named after the rule they come from).
    public let ruleNames: [String]
    /// The rule matching starts from.
    let root: Int32

    static let endSymbol = Int32.min

    /// The number of symbols, all rules together (a measure of size).
    public var symbolCount: Int { symbols.count }

    /// Compiles `definition`, starting at its rule `root`.
    public init(_ definition: GrammarDefinition, root: String = "root", limits: GrammarLimits = .init()) throws(GrammarError) {
        guard definition.contains(root) else { throw .missingRoot }
        var lowering = Lowering(limits: limits)
        for (name, _) in definition.rules { _ = lowering.declare(name) }
        lowering.userRuleCount = lowering.names.count
        for (name, body) in definition.rules {
            guard let index = lowering.index[name] else { continue }
            try lowering.lowerRule(index, body, definition: definition)
        }
        try lowering.checkLeftRecursion()
        var symbols: [Int32] = []
        var starts: [[Int32]] = []
        for rule in lowering.rules {
            var ruleStarts: [Int32] = []
            for alternative in rule {
                ruleStarts.append(Int32(symbols.count))
                symbols.append(contentsOf: alternative)
                symbols.append(Self.endSymbol)
            }
            starts.append(ruleStarts)
        }
        self.symbols = symbols
        classes = lowering.classes
        alternatives = starts
        ruleNames = lowering.names
        self.root = Int32(lowering.index[root] ?? 0)
    }

    /// Parses GBNF `source` (see ``GBNFParser``) and compiles it.
    public init(gbnf source: String, limits: GrammarLimits = .init()) throws(GrammarError) {
        try self.init(try GBNFParser.parse(source, limits: limits), limits: limits)
    }
}

/// Turns expressions into rules of flat alternatives.
private struct Lowering {
    let limits: GrammarLimits
    var names: [String] = []
    var index: [String: Int] = [:]
    var rules: [[[Int32]]] = []
    var classes: [CharacterClass] = []
    var classIndex: [CharacterClass: Int32] = [:]
    var symbolCount = 0
    var generated: [String: Int] = [:]
    /// Rules the definition names (the rest are generated).
    var userRuleCount = 0

    init(limits: GrammarLimits) { self.limits = limits }

    mutating func declare(_ name: String) -> Int {
        if let i = index[name] { return i }
        names.append(name)
        rules.append([])
        index[name] = names.count - 1
        return names.count - 1
    }

    /// A new rule named after `parent`.
    mutating func newRule(_ parent: Int) throws(GrammarError) -> Int {
        guard rules.count < limits.maxRules else {
            throw .tooLarge(limit: "maxRules", reason: "more than \(limits.maxRules) rules after expanding groups and repetitions")
        }
        let base = names[parent]
        var n = generated[base, default: 1]
        var name = "\(base)-\(n)"
        while index[name] != nil {
            n += 1
            name = "\(base)-\(n)"
        }
        generated[base] = n + 1
        return declare(name)
    }

    mutating func count(_ n: Int) throws(GrammarError) {
        symbolCount += n
        guard symbolCount <= limits.maxSymbols else {
            throw .tooLarge(limit: "maxSymbols", reason: "the grammar expands to more than \(limits.maxSymbols) symbols")
        }
    }

    mutating func lowerRule(_ rule: Int, _ body: GrammarExpression, definition: GrammarDefinition) throws(GrammarError) {
        let options: [GrammarExpression]
        if case let .alternatives(list) = body { options = list } else { options = [body] }
        guard options.count <= limits.maxAlternatives else {
            throw .tooLarge(limit: "maxAlternatives", reason: "rule \"\(names[rule])\" has \(options.count) alternatives, more than \(limits.maxAlternatives)")
        }
        var lowered: [[Int32]] = []
        for option in options {
            var atoms: [Int32] = []
            try lower(option, into: &atoms, owner: rule, definition: definition)
            try count(atoms.count + 1)
            lowered.append(atoms)
        }
        rules[rule] = lowered
    }

    mutating func classSymbol(_ c: CharacterClass) -> Int32 {
        if let i = classIndex[c] { return i }
        classes.append(c)
        let i = Int32(classes.count - 1)
        classIndex[c] = i
        return i
    }

    static func reference(_ rule: Int) -> Int32 { -Int32(rule) - 1 }

    mutating func lower(_ e: GrammarExpression, into atoms: inout [Int32], owner: Int, definition: GrammarDefinition) throws(GrammarError) {
        switch e {
        case let .characters(c):
            atoms.append(classSymbol(c))
        case let .rule(name):
            guard definition.contains(name), let i = index[name] else { throw .undefinedRule(name) }
            atoms.append(Self.reference(i))
        case let .sequence(items):
            for item in items { try lower(item, into: &atoms, owner: owner, definition: definition) }
        case .alternatives:
            let rule = try newRule(owner)
            try lowerRule(rule, e, definition: definition)
            atoms.append(Self.reference(rule))
        case let .repetition(item, lo, hi):
            guard lo <= limits.maxRepetition, (hi ?? 0) <= limits.maxRepetition else {
                throw .tooLarge(limit: "maxRepetition", reason: "a repetition bound exceeds \(limits.maxRepetition)")
            }
            if hi == 0 { return }
            let atom = try single(item, owner: owner, definition: definition)
            try count(lo)
            for _ in 0 ..< lo { atoms.append(atom) }
            if let hi {
                guard hi > lo else { return }
                // x{0,k}: R1 ::= x R2 | "" ... Rk ::= x | "", built innermost first.
                var next: Int32? = nil
                for _ in 0 ..< (hi - lo) {
                    let rule = try newRule(owner)
                    rules[rule] = [next.map { [atom, $0] } ?? [atom], []]
                    try count(4)
                    next = Self.reference(rule)
                }
                if let next { atoms.append(next) }
            } else {
                // x*: R ::= x R | "" (right recursion: the recognizer pops it without growing).
                let rule = try newRule(owner)
                rules[rule] = [[atom, Self.reference(rule)], []]
                try count(4)
                atoms.append(Self.reference(rule))
            }
        }
    }

    /// `e` as one symbol: itself when it is one class or reference, else a rule of its own.
    mutating func single(_ e: GrammarExpression, owner: Int, definition: GrammarDefinition) throws(GrammarError) -> Int32 {
        var atoms: [Int32] = []
        if case .alternatives = e {} else {
            try lower(e, into: &atoms, owner: owner, definition: definition)
            if atoms.count == 1 { return atoms[0] }
        }
        let rule = try newRule(owner)
        if case .alternatives = e {
            try lowerRule(rule, e, definition: definition)
        } else {
            try count(atoms.count + 1)
            rules[rule] = [atoms]
        }
        return Self.reference(rule)
    }

    /// Refuses a rule that can reach itself through leftmost symbols that match the empty string.
    func checkLeftRecursion() throws(GrammarError) {
        let n = rules.count
        var nullable = [Bool](repeating: false, count: n)
        var changed = true
        while changed {
            changed = false
            for r in 0 ..< n where !nullable[r] {
                if rules[r].contains(where: { alt in alt.allSatisfy { $0 < 0 && nullable[Int(-$0 - 1)] } }) {
                    nullable[r] = true
                    changed = true
                }
            }
        }
        var edges = [[Int]](repeating: [], count: n)
        for r in 0 ..< n {
            for alt in rules[r] {
                for s in alt {
                    guard s < 0 else { break }
                    let target = Int(-s - 1)
                    edges[r].append(target)
                    if !nullable[target] { break }
                }
            }
        }
        // Iterative depth-first search: 0 unvisited, 1 on the path, 2 done.
        var color = [UInt8](repeating: 0, count: n)
        for start in 0 ..< n where color[start] == 0 {
            var stack: [(rule: Int, next: Int)] = [(start, 0)]
            color[start] = 1
            while let top = stack.last {
                if top.next < edges[top.rule].count {
                    stack[stack.count - 1].next += 1
                    let t = edges[top.rule][top.next]
                    if color[t] == 1 {
                        // Name a rule the user wrote when the cycle has one.
                        let cycle = stack.map(\.rule).drop(while: { $0 != t })
                        let named = cycle.first { $0 < userRuleCount } ?? t
                        throw .leftRecursion(names[named])
                    }
                    if color[t] == 0 {
                        color[t] = 1
                        stack.append((t, 0))
                    }
                } else {
                    color[top.rule] = 2
                    stack.removeLast()
                }
            }
        }
    }
}
