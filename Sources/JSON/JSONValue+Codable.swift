/// A JSON value through `Codable`, for values that arrive inside a request `JSONDecoder` decodes:
/// the server's rewriting of OpenAI request bodies, and JSON schemas in a decoded request.
///
/// Integers are kept apart from floating-point numbers, so that a `seed` or `max_tokens` survives a
/// round trip exactly, and booleans apart from numbers, so that `"stream": 1` stays a type error.
/// A decoder hands object members over in no particular order: they are sorted by key, so one
/// request always gives one value; a repeated key is the decoder's to resolve. Readers that have
/// the JSON text use ``JSONValue/init(parsing:maxDepth:)``, which keeps the document's order.
extension JSONValue: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            var members: [(key: String, value: JSONValue)] = []
            for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                members.append((key.stringValue, try c.decode(JSONValue.self, forKey: key)))
            }
            self = .object(members)
        } else if var a = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !a.isAtEnd { items.append(try a.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            self = try Self.scalar(decoder.singleValueContainer())
        }
    }

    private static func scalar(_ c: any SingleValueDecodingContainer) throws -> JSONValue {
        if c.decodeNil() { return .null }
        if let b = try? c.decode(Bool.self) { return .bool(b) }
        if let i = try? c.decode(Int64.self) { return .number(JSONNumber(text: String(i), isInteger: true)) }
        if let u = try? c.decode(UInt64.self) { return .number(JSONNumber(text: String(u), isInteger: true)) }
        if let d = try? c.decode(Double.self) {
            // A decoder configured to read non-conforming floats may give one; JSON has no text for it.
            return .number(JSONNumber(text: d.isFinite ? "\(d)" : "0", isInteger: false))
        }
        return .string(try c.decode(String.self))
    }

    /// Objects are written member by member in order, numbers as integers when they are integers
    /// within `Int64` or `UInt64`.
    package func encode(to encoder: any Encoder) throws {
        switch self {
        case let .array(items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case let .object(members):
            var c = encoder.container(keyedBy: Key.self)
            for m in members { try c.encode(m.value, forKey: Key(stringValue: m.key)) }
        default:
            var c = encoder.singleValueContainer()
            switch self {
            case let .bool(b): try c.encode(b)
            case let .string(s): try c.encode(s)
            case let .number(n) where n.isInteger && Int64(n.text) != nil: try c.encode(Int64(n.text) ?? 0)
            case let .number(n) where n.isInteger && UInt64(n.text) != nil: try c.encode(UInt64(n.text) ?? 0)
            case let .number(n): try c.encode(n.double)
            default: try c.encodeNil()
            }
        }
    }
}
