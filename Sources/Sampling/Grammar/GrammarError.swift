/// Why a grammar, schema, regular expression or choice list was refused. Every case says what is
/// wrong in words a client can act on; the request layer adds the field's name.
public enum GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not parse: `reason` says what was expected, `offset` is the byte where it went
    /// wrong (`nil` when the input as a whole is at fault).
    case syntax(reason: String, offset: Int?)
    /// A rule is used but never defined.
    case undefinedRule(String)
    /// A rule is defined twice.
    case duplicateRule(String)
    /// The grammar has no `root` rule.
    case missingRoot
    /// A rule can reach itself without consuming a character: the recognizer would loop.
    case leftRecursion(String)
    /// The input or what it compiles to exceeds a limit of ``GrammarLimits`` (`limit` names it).
    case tooLarge(limit: String, reason: String)
    /// The JSON schema uses something the compiler does not support, or is not a schema.
    case unsupportedSchema(String)
    /// While generating, the grammar kept more parse stacks alive than ``GrammarLimits/maxStacks``:
    /// it is too ambiguous to follow.
    case tooAmbiguous(stacks: Int)

    public var description: String {
        switch self {
        case let .syntax(reason, offset?): return "syntax error at byte \(offset): \(reason)"
        case let .syntax(reason, nil): return "syntax error: \(reason)"
        case let .undefinedRule(name): return "rule \"\(name)\" is used but not defined"
        case let .duplicateRule(name): return "rule \"\(name)\" is defined twice"
        case .missingRoot: return "the grammar has no root rule"
        case let .leftRecursion(name): return "rule \"\(name)\" is left-recursive (it can reach itself before any character)"
        case let .tooLarge(limit, reason): return "too large (\(limit)): \(reason)"
        case let .unsupportedSchema(reason): return "unsupported schema: \(reason)"
        case let .tooAmbiguous(stacks): return "the grammar is too ambiguous: more than \(stacks) parse stacks at once"
        }
    }
}

/// Bounds on what a constraint may cost to compile and to follow, so that hostile input is refused
/// in bounded time and memory rather than exhausting either.
public struct GrammarLimits: Sendable, Equatable {
    /// The longest grammar, regular expression or schema text, in bytes.
    public var maxSourceBytes: Int
    /// The most rules after expansion (each group and repetition step is a rule).
    public var maxRules: Int
    /// The most alternatives one rule may have.
    public var maxAlternatives: Int
    /// The most symbols of the compiled grammar, all rules together.
    public var maxSymbols: Int
    /// The deepest nesting of groups (GBNF, regex) or of schemas and JSON values.
    public var maxNesting: Int
    /// The largest bound of one repetition (`{m,n}`, `minItems`, `maxLength`, ...).
    public var maxRepetition: Int
    /// The most parse stacks alive at once while generating.
    public var maxStacks: Int

    /// 1 MiB of text, 32,768 rules, 4,096 alternatives per rule, 262,144 symbols, nesting 64,
    /// repetitions up to 4,096, 4,096 parse stacks.
    public init(maxSourceBytes: Int = 1 << 20, maxRules: Int = 32_768, maxAlternatives: Int = 4_096,
                maxSymbols: Int = 262_144, maxNesting: Int = 64, maxRepetition: Int = 4_096, maxStacks: Int = 4_096) {
        self.maxSourceBytes = maxSourceBytes
        self.maxRules = maxRules
        self.maxAlternatives = maxAlternatives
        self.maxSymbols = maxSymbols
        self.maxNesting = maxNesting
        self.maxRepetition = maxRepetition
        self.maxStacks = maxStacks
    }
}
