import Sampling

/// The output constraint fields a request may carry, as vLLM, llama.cpp and OpenAI name them, and
/// how they become one `OutputConstraint`.
///
/// | field | value | constraint |
/// |---|---|---|
/// | `guided_json` (vLLM) | a schema object, or its JSON text | `OutputConstraint.jsonSchema` |
/// | `guided_choice` (vLLM) | an array of strings | `OutputConstraint.choice` |
/// | `guided_regex` (vLLM) | a string | `OutputConstraint.regex` |
/// | `guided_grammar` (vLLM), `grammar` (llama.cpp) | GBNF text | `OutputConstraint.grammar` |
/// | `json_schema` (llama.cpp) | a schema object | `OutputConstraint.jsonSchema` |
/// | `response_format` (OpenAI) | `{"type": "text"}`, `{"type": "json_object"}`, `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}` | none, `OutputConstraint.jsonObject`, `OutputConstraint.jsonSchema` |
///
/// At most one may be given (`response_format` of type `text` counts as none).
public enum RequestConstraintField {
    /// The JSON keys, in the order they are checked.
    public static let keys = ["guided_json", "guided_choice", "guided_regex", "guided_grammar", "grammar", "json_schema", "response_format"]

    /// The constraint the members `fields` of a request ask for, with the key it came from.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` for a value of the wrong shape or
    ///   more than one constraint.
    public static func constraint(from fields: [(key: String, value: JSONNode)]) throws(GenerateError) -> (OutputConstraint, String)? {
        var found: (OutputConstraint, String)?
        for key in keys {
            guard let value = fields.last(where: { $0.key == key })?.value, value != .null else { continue }
            guard let constraint = try parse(key, value) else { continue }
            if let (_, first) = found {
                throw .invalidField(field: key, reason: "send at most one output constraint; \(first) is already given")
            }
            found = (constraint, key)
        }
        return found
    }

    private static func parse(_ key: String, _ value: JSONNode) throws(GenerateError) -> OutputConstraint? {
        switch key {
        case "guided_json", "json_schema":
            switch value {
            case .object: return .jsonSchema(value)
            case let .string(text) where key == "guided_json":
                do { return .jsonSchema(try JSONNode.parse(text)) } catch {
                    throw .invalidField(field: key, reason: "the schema text is not JSON: \(error.description)")
                }
            default: throw .invalidField(field: key, reason: "expected a JSON schema object")
            }
        case "guided_choice":
            guard case let .array(items) = value else { throw .invalidField(field: key, reason: "expected an array of strings") }
            var choices: [String] = []
            for item in items {
                guard case let .string(s) = item else { throw .invalidField(field: key, reason: "expected an array of strings") }
                choices.append(s)
            }
            return .choice(choices)
        case "guided_regex":
            guard case let .string(s) = value else { throw .invalidField(field: key, reason: "expected a string") }
            return .regex(s)
        case "guided_grammar", "grammar":
            guard case let .string(s) = value else { throw .invalidField(field: key, reason: "expected a GBNF grammar string") }
            return .grammar(s)
        default:
            return try responseFormat(value)
        }
    }

    private static func responseFormat(_ value: JSONNode) throws(GenerateError) -> OutputConstraint? {
        let key = "response_format"
        guard case .object = value, case let .string(type)? = value["type"] else {
            throw .invalidField(field: key, reason: "expected an object with a type")
        }
        switch type {
        case "text": return nil
        case "json_object": return .jsonObject
        case "json_schema":
            guard case .object? = value["json_schema"], let wrapper = value["json_schema"] else {
                throw .invalidField(field: key + ".json_schema", reason: "expected an object with a schema")
            }
            switch wrapper["schema"] {
            case let schema? where schema != .null:
                guard case .object = schema else { throw .invalidField(field: key + ".json_schema.schema", reason: "expected a JSON schema object") }
                return .jsonSchema(schema)
            default:
                // OpenAI allows the schema to be omitted: any JSON object then.
                return .jsonObject
            }
        default:
            throw .invalidField(field: key, reason: "type must be text, json_object or json_schema, got \"\(type)\"")
        }
    }
}
