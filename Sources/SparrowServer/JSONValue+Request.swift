import JSON

/// What the OpenAI request rewriting asks of a JSON value.
extension JSONValue {
    static func integerNumber(_ value: Int) -> JSONValue { .number(JSONNumber(text: String(value), isInteger: true)) }

    /// An integer as `JSONDecoder` reads one (within `Int64` or `UInt64`).
    var isInteger: Bool { if case let .number(n) = self { n.isInteger } else { false } }
    var isString: Bool { string != nil }
    var isArray: Bool { array != nil }
}
