/// A JSON value as the document writes it: object members in document order with their exact key
/// strings (repeated keys included), numbers with their literal text.
///
/// Why not `JSONSerialization` or `JSONDecoder`: they return dictionaries, and Swift dictionaries
/// compare keys by canonical equivalence, so two vocabulary entries such as "ί" (U+1F77) and "ί"
/// (U+03AF), distinct tokens in Llama's vocabulary, collapse into one and a token silently
/// disappears; they also lose member order, which a JSON schema's output follows. Read one with
/// ``JSONValue/init(parsing:maxDepth:)``.
///
/// Repeated keys: the value keeps every member as written. ``subscript(_:)`` reads the last one, and
/// ``uniqueMembers(_:)`` gives each key once at its first place with its last value, which is what
/// Python's `json.loads` builds (a `dict`); keys compare by Unicode scalars, as Python's `str` does.
package enum JSONValue: Sendable, Equatable {
    // RFC 8259's values; an object as its members in order.
    case null, bool(Bool), number(JSONNumber), string(String)
    case array([JSONValue]), object([(key: String, value: JSONValue)])

    /// Strings and keys compare by their Unicode scalars (their UTF-8 bytes), not by canonical
    /// equivalence; numbers by their literal text; objects member by member, in order.
    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch a {
        case .null: b.isNull
        case let .bool(x): b.bool == x
        case let .number(x): if case let .number(y) = b { x == y } else { false }
        case let .string(x): b.string?.utf8.elementsEqual(x.utf8) ?? false
        case let .array(x): b.array == x
        case let .object(x):
            b.members.map { y in x.count == y.count && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value } } ?? false
        }
    }
}

/// A JSON number: its literal text (the grammar's `-?int frac? exp?`, so `1.50` stays `1.50`) and
/// whether it is an integer, written without fraction or exponent.
package struct JSONNumber: Sendable, Hashable {
    /// The number as the document writes it.
    package let text: String
    /// True when the text has neither a fraction nor an exponent (Python's `int`).
    package let isInteger: Bool

    package init(text: String, isInteger: Bool) {
        self.text = text
        self.isInteger = isInteger
    }

    /// The integer, when the number is one and fits in `Int`.
    package var int: Int? { isInteger ? Int(text) : nil }

    /// The nearest `Double` (±infinity beyond its range, as Python's `float` gives). The reader only
    /// makes numbers whose text `Double` parses; the NaN fallback is for numbers built by hand.
    package var double: Double { Double(text) ?? .nan }
}

extension JSONValue {
    /// An object's member `key`, the last one if the key repeats (Python's `dict`); nil when absent
    /// or when this is not an object. Keys compare by Unicode scalars.
    package subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// An object's members in document order, repeated keys included.
    package var members: [(key: String, value: JSONValue)]? { if case let .object(m) = self { m } else { nil } }
    package var string: String? { if case let .string(s) = self { s } else { nil } }
    package var bool: Bool? { if case let .bool(b) = self { b } else { nil } }
    package var array: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    package var isNull: Bool { if case .null = self { true } else { false } }

    /// An integer written without fraction or exponent (Python's `int`), within `Int`.
    package var integer: Int? { if case let .number(n) = self { n.int } else { nil } }

    /// Any number (Python's `int` or `float`) as a `Double`.
    package var number: Double? { if case let .number(n) = self { n.double } else { nil } }

    /// `nil` for JSON `null`, else the value: for readers to whom an absent member and a `null` one
    /// mean the same.
    package var nonNull: JSONValue? { isNull ? nil : self }

    /// Python's truthiness, for code that mirrors a Python `if value:`.
    package var isTruthy: Bool {
        switch self {
        case .null: false
        case let .bool(b): b
        case let .number(n): n.double != 0
        case let .string(s): !s.isEmpty
        case let .array(a): !a.isEmpty
        case let .object(m): !m.isEmpty
        }
    }

    /// The members with each key once, at the place of its first occurrence, holding its last
    /// value: the `dict` Python's `json.loads` builds. Keys compare by Unicode scalars.
    package static func uniqueMembers(_ members: [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        var placeOf: [ScalarKey: Int] = [:]
        var result: [(key: String, value: JSONValue)] = []
        result.reserveCapacity(members.count)
        for member in members {
            if let place = placeOf[ScalarKey(member.key)] {
                result[place].value = member.value
            } else {
                placeOf[ScalarKey(member.key)] = result.count
                result.append(member)
            }
        }
        return result
    }
}

/// A dictionary key that compares strings by their Unicode scalars (Python's `str` equality), not by
/// canonical equivalence as `String` does.
private struct ScalarKey: Hashable {
    let text: String
    init(_ text: String) { self.text = text }
    static func == (a: ScalarKey, b: ScalarKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }
}
