import Foundation
import Jinja
import SparrowTestSupport

/// Reading the JSON fixtures of `Fixtures/templates/` through the module's own order-preserving
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

    static func source(_ file: String) throws -> String { try FixturePaths.text("templates/\(file)") }

    /// A conversation as chat templates see it: `{"role", "content"}` objects.
    static func messages(_ pairs: [(role: String, content: String)]) -> TemplateValue {
        .array(pairs.map { .object([(key: "role", value: .string($0.role)), (key: "content", value: .string($0.content))]) })
    }

    /// The variables Hugging Face's `apply_chat_template` passes, as the reference renders got them.
    static func chatContext(messages: TemplateValue, bos: String, eos: String, addGenerationPrompt: Bool) -> [String: TemplateValue] {
        ["messages": messages, "bos_token": .string(bos), "eos_token": .string(eos),
         "add_generation_prompt": .bool(addGenerationPrompt), "tools": .none, "documents": .none]
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
