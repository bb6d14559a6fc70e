/// The parsed form of a template. Expression trees are bounded in depth by the parser
/// (`TemplateLimits.maxNestingDepth`), so walking them recursively cannot overflow the stack.
indirect enum Expr: Sendable {
    case constant(Constant)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(key: Expr, value: Expr)])
    case attribute(Expr, String)
    case item(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, Arguments)
    case filter(Expr, name: String, Arguments)
    case test(Expr, name: String, Arguments, negated: Bool)
    case negate(Expr)
    case plus(Expr)
    case binary(BinaryOperator, Expr, Expr)
    case concat([Expr])
    case compare(Expr, [(op: CompareOperator, operand: Expr)])
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    /// `then if condition else otherwise`; without `else` the result is undefined when false.
    case conditional(condition: Expr, then: Expr, otherwise: Expr?)
}

enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}

struct Arguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(name: String, value: Expr)] = []
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum CompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in", notIn = "not in"
}

/// Where an assignment or loop stores its value.
indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    /// `ns.attribute`, only valid when `ns` is a namespace.
    case attribute(String, String)
}

/// A filter applied by `{% set x | f %}` or `{% filter f %}`.
struct FilterCall: Sendable {
    let name: String
    let arguments: Arguments
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Statement]
}

struct ForLoop: Sendable {
    let target: Target
    let iterable: Expr
    let condition: Expr?
    let body: [Statement]
    let otherwise: [Statement]
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expr)
    case ifChain(branches: [(condition: Expr, body: [Statement])], otherwise: [Statement])
    case forLoop(ForLoop)
    case set(Target, Expr)
    case setBlock(Target, filters: [FilterCall], body: [Statement])
    case macro(MacroDefinition)
    case filterBlock([FilterCall], body: [Statement])
    /// `{% with a = x, b = y %}`: the values are evaluated outside, the body runs in a scope of its own.
    case with([(target: Target, value: Expr)], body: [Statement])
    /// Hugging Face's `{% generation %}` (assistant-token masks): renders its body in a scope of its
    /// own, as the call block transformers compiles it to.
    case generation([Statement])
    case breakLoop
    case continueLoop
}
