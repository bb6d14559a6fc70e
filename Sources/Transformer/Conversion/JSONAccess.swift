import Foundation
import Tokenizer

/// Reading the converter's JSON files the way Python's `json.load` + `dict.get` does: the last of
/// duplicate keys wins, and a key whose value has another type than expected reads as absent.
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    var members: [(key: String, value: JSONValue)]? {
        if case let .object(members) = self { return members }
        return nil
    }

    var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    /// An integer written without fraction or exponent (Python's `int`), within `Int`.
    var integer: Int? {
        if case let .number(v, isInteger) = self, isInteger, let i = Int(exactly: v) { return i }
        return nil
    }

    /// Any number (Python's `int` or `float`).
    var number: Double? {
        if case let .number(v, _) = self { return v }
        return nil
    }

    var array: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Python's truthiness, for the converter's `if value:` tests.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case let .bool(b): b
        case let .number(v, _): v != 0
        case let .string(s): !s.isEmpty
        case let .array(a): !a.isEmpty
        case let .object(m): !m.isEmpty
        }
    }

    /// Reads and parses the JSON file at `path`; nil when there is no file.
    static func file(_ path: String) throws(ModelQuantizationError) -> JSONValue? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .invalidFile(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONValue.parse(bytes) } catch {
            throw .invalidFile(path: path, reason: "not valid JSON at byte \(error.offset): \(error.reason)")
        }
    }
}
