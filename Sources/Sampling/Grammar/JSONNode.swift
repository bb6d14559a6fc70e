import JSON

/// A JSON value that keeps its object keys in document order (a schema's property order is the
/// order its output takes) and its numbers as written (so `const` and `enum` values come out as
/// the schema spells them).
public indirect enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its JSON text.
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in document order; a repeated key keeps its last value, in its first place.
    case object([(key: String, value: JSONNode)])

    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
        default: return false
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONNode? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Compact JSON text (no spaces), strings escaped as JSON requires and otherwise left as
    /// UTF-8, as nlohmann's `dump()` writes them.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += n
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(m.key, to: &out)
                out += ":"
                m.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Parses JSON `text`, nested at most `maxDepth` arrays and objects deep, with the package's
    /// strict reader; a repeated key keeps its last value, in its first place (Python's `dict`).
    /// - Throws: ``GrammarError/syntax(reason:offset:)`` or ``GrammarError/tooLarge(limit:reason:)``.
    public static func parse(_ text: String, maxDepth: Int = 128) throws(GrammarError) -> JSONNode {
        let value: JSONValue
        do { value = try JSONValue(parsing: text.utf8, maxDepth: maxDepth) } catch {
            if case .nestedTooDeeply = error.reason {
                throw .tooLarge(limit: "maxNesting", reason: "JSON nested more than \(maxDepth) deep")
            }
            throw .syntax(reason: error.reason.description, offset: error.offset)
        }
        return JSONNode(jsonValue: value)
    }

    /// The node of a parsed JSON value; the reader's depth limit bounds the recursion.
    init(jsonValue value: JSONValue) {
        switch value {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .number(n): self = .number(n.text)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map { JSONNode(jsonValue: $0) })
        case let .object(members): self = .object(JSONValue.uniqueMembers(members).map { (key: $0.key, value: JSONNode(jsonValue: $0.value)) })
        }
    }
}

/// Through `Codable` (a request decoded by Foundation), as ``JSON/JSONValue`` goes: object keys
/// come in no particular order, so they are sorted, and the same request always compiles to the same
/// grammar. Readers that have the JSON text use ``JSONNode/parse(_:maxDepth:)``, which keeps the
/// document's order.
extension JSONNode: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(jsonValue: try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }

    /// The same value as the package's JSON value type; a number is an integer when `Int64` reads it.
    var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case let .bool(b): .bool(b)
        case let .number(text): .number(JSONNumber(text: text, isInteger: Int64(text) != nil))
        case let .string(s): .string(s)
        case let .array(items): .array(items.map(\.jsonValue))
        case let .object(members): .object(members.map { (key: $0.key, value: $0.value.jsonValue) })
        }
    }
}
