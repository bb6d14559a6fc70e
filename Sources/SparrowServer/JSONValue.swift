import Foundation

/// A JSON value, used to rewrite an OpenAI request body into the documented request before
/// ``GenerateAPI/GenerateRequest`` decodes it, so both share one set of type checks and error messages.
///
/// Integers are kept apart from floating-point numbers so that `seed` and `max_tokens` survive the
/// round trip exactly, and booleans apart from numbers so that `"stream": 1` is still a type error.
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let u = try? c.decode(UInt64.self) {
            self = .unsigned(u)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .unsigned(u): try c.encode(u)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    var isInteger: Bool {
        switch self {
        case .int, .unsigned: true
        default: false
        }
    }

    var isString: Bool {
        if case .string = self { return true }
        return false
    }

    var isArray: Bool {
        if case .array = self { return true }
        return false
    }

    /// `nil` for JSON `null` (an absent field and a `null` one mean the same to OpenAI's API).
    var nonNull: JSONValue? {
        if case .null = self { return nil }
        return self
    }
}
