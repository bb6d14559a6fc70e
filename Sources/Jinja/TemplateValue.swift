/// A value handed to a template: the JSON data model, with integers kept apart from floats (Python
/// prints `1` and `1.0` differently) and object members kept in order (`tojson` and `items()` show
/// them in the order given).
public enum TemplateValue: Sendable, Equatable {
    /// Python's `None` (JSON `null`).
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// A Python `int` (prints without a decimal point).
    case int(Int)
    /// A Python `float` (prints as Python's `repr`, e.g. `1.0`, `1e+16`).
    case double(Double)
    /// A Python `str`.
    case string(String)
    /// A Python list.
    case array([TemplateValue])
    /// A Python dict with string keys, in this order.
    case object([(key: String, value: TemplateValue)])

    /// Structural equality; strings and keys compare by their code points, as Python compares them.
    public static func == (a: TemplateValue, b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        // Exact code points, as Python compares strings (Swift's == would equate "é" and "e\u{301}").
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
        default: return false
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// `.string(value)`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `.int(value)`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// `.double(value)`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `.bool(value)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `.array(elements)`.
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    /// `.object`, in the literal's order.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
    /// `.none`.
    public init(nilLiteral: ()) { self = .none }
}
