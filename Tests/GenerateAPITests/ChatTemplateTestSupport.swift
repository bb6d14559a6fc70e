import Foundation
@testable import GenerateAPI
import SparrowTestSupport

/// Reading the JSON fixtures of `Fixtures/templates/` through the library's own order-preserving
/// JSON reader (variables must keep their key order: `tojson` and `items()` print it).
extension TemplateValue {
    subscript(key: String) -> TemplateValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    var arrayValue: [TemplateValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    var objectMembers: [(key: String, value: TemplateValue)]? {
        if case let .object(o) = self { return o }
        return nil
    }
}

enum TemplateFixtures {
    static func load(_ name: String) throws -> TemplateValue {
        let data = try Data(contentsOf: FixturePaths.url("templates/\(name)"))
        return try TemplateValue(json: data)
    }

    static func source(_ file: String) throws -> String {
        let data = try Data(contentsOf: FixturePaths.url("templates/\(file)"))
        return String(decoding: data, as: UTF8.self)
    }

    /// Shows control characters, so a whitespace difference is visible in a failure message.
    static func visible(_ s: String) -> String {
        s.unicodeScalars.map { u -> String in
            switch u {
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            default: return String(u)
            }
        }.joined()
    }
}
