/// A grammar before compilation: named rules of expressions. The GBNF parser produces it, and the
/// schema, regular-expression and choice front ends produce it too (directly or through GBNF).
public indirect enum GrammarExpression: Sendable, Equatable {
    /// One code point of a class.
    case characters(CharacterClass)
    /// Another rule, by name.
    case rule(String)
    /// Each part in turn (empty: matches the empty string).
    case sequence([GrammarExpression])
    /// Any one of the alternatives.
    case alternatives([GrammarExpression])
    /// `min` to `max` repetitions (`max` nil: unbounded).
    case repetition(GrammarExpression, min: Int, max: Int?)

    /// The literal `text`, code point by code point.
    public static func literal(_ text: String) -> GrammarExpression {
        .sequence(text.unicodeScalars.map { .characters(CharacterClass(single: $0.value)) })
    }

    /// The empty string.
    public static let empty = GrammarExpression.sequence([])
}

/// Named rules in definition order; `root` is where matching starts.
public struct GrammarDefinition: Sendable, Equatable {
    /// The rules, in the order they were defined.
    public var rules: [(name: String, body: GrammarExpression)] {
        get { order.map { ($0, bodies[$0] ?? .empty) } }
        set {
            order = newValue.map(\.name)
            bodies = Dictionary(newValue.map { ($0.name, $0.body) }, uniquingKeysWith: { _, b in b })
        }
    }

    private var order: [String] = []
    private var bodies: [String: GrammarExpression] = [:]

    /// No rules.
    public init() {}

    /// Whether a rule named `name` is defined.
    public func contains(_ name: String) -> Bool { bodies[name] != nil }

    /// The body of rule `name`.
    public func body(_ name: String) -> GrammarExpression? { bodies[name] }

    /// Defines `name` (``GrammarError/duplicateRule(_:)`` if it exists already).
    public mutating func define(_ name: String, _ body: GrammarExpression) throws(GrammarError) {
        guard bodies[name] == nil else { throw .duplicateRule(name) }
        order.append(name)
        bodies[name] = body
    }

    public static func == (a: GrammarDefinition, b: GrammarDefinition) -> Bool {
        a.order == b.order && a.bodies == b.bodies
    }
}
