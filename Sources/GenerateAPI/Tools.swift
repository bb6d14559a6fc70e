import Sampling

/// A call of a function tool, as OpenAI writes it in an assistant message's `tool_calls` and in an
/// answer: `{"id", "type": "function", "function": {"name", "arguments"}}`.
public struct ToolCall: Codable, Sendable, Equatable, Hashable {
    /// The call's id, which the `tool` message with its result names (`tool_call_id`).
    public var id: String
    /// The function's name.
    public var name: String
    /// The arguments as JSON text (an object under the function's parameter schema).
    public var arguments: String

    /// A call of `name` with `arguments` (JSON text), known by `id`.
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    private enum CodingKeys: String, CodingKey { case id, type, function }
    private enum FunctionKeys: String, CodingKey { case name, arguments }

    /// Reads OpenAI's shape; a missing `arguments` is `{}`, a `type` other than `function` fails.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        if let type = try c.decodeIfPresent(String.self, forKey: .type), type != "function" {
            throw GenerateError.invalidField(field: "tool_calls", reason: "type must be \"function\", got \"\(type)\"")
        }
        let f = try c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try f.decode(String.self, forKey: .name)
        arguments = try f.decodeIfPresent(String.self, forKey: .arguments) ?? "{}"
    }

    /// Writes OpenAI's shape, with `type` `function`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode("function", forKey: .type)
        var f = c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try f.encode(name, forKey: .name)
        try f.encode(arguments, forKey: .arguments)
    }
}

/// A function the model may call: OpenAI's `{"type": "function", "function": {"name",
/// "description", "parameters"}}`.
public struct FunctionTool: Sendable, Equatable {
    /// The function's name: what calls and `tool_choice` name it by.
    public var name: String
    /// What the function does, for the model.
    public var description: String?
    /// A JSON schema of the arguments object (OpenAI's default when omitted: an object without
    /// properties).
    public var parameters: JSONNode

    /// A function tool; `parameters` defaults to OpenAI's default, an object without properties.
    public init(name: String, description: String? = nil,
                parameters: JSONNode = .object([("type", .string("object")), ("properties", .object([]))])) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    /// The `function` object, as templates and the system message show it.
    var function: JSONNode {
        var members: [(key: String, value: JSONNode)] = [("name", .string(name))]
        if let description { members.append(("description", .string(description))) }
        members.append(("parameters", parameters))
        return .object(members)
    }

    /// The OpenAI `tools` entry.
    var json: JSONNode { .object([("type", .string("function")), ("function", function)]) }

    /// The tools of a request's `tools` array.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` naming the entry at fault.
    static func parse(_ value: JSONNode) throws(GenerateError) -> [FunctionTool] {
        guard case let .array(items) = value else {
            throw .invalidField(field: "tools", reason: "expected an array of {\"type\": \"function\", \"function\": {...}} objects")
        }
        var tools: [FunctionTool] = []
        for (i, item) in items.enumerated() {
            let at = "tools[\(i)]"
            guard case .object = item else { throw .invalidField(field: at, reason: "expected an object") }
            guard case let .string(type)? = item["type"], type == "function" else {
                throw .invalidField(field: at + ".type", reason: "only function tools are supported (type \"function\")")
            }
            guard let function = item["function"], case .object = function else {
                throw .invalidField(field: at + ".function", reason: "expected an object with a name")
            }
            guard case let .string(name)? = function["name"], !name.isEmpty else {
                throw .invalidField(field: at + ".function.name", reason: "expected a non-empty string")
            }
            var tool = FunctionTool(name: name)
            switch function["description"] {
            case nil, .null?: break
            case let .string(text)?: tool.description = text
            default: throw .invalidField(field: at + ".function.description", reason: "expected a string")
            }
            switch function["parameters"] {
            case nil, .null?: break
            case let schema? where schema.isObject: tool.parameters = schema
            default: throw .invalidField(field: at + ".function.parameters", reason: "expected a JSON schema object")
            }
            if tools.contains(where: { $0.name == name }) {
                throw .invalidField(field: at + ".function.name", reason: "another tool is named \"\(name)\"")
            }
            tools.append(tool)
        }
        return tools
    }
}

/// Which tool calls an answer may make: OpenAI's `tool_choice`.
public enum ToolChoice: Sendable, Equatable {
    /// No tool calls; the tools are not shown to the model (`"none"`).
    case none
    /// A tool call or a plain answer, as the model chooses (`"auto"`).
    case auto
    /// At least one tool call (`"required"`).
    case required
    /// A call of this function (`{"type": "function", "function": {"name": ...}}`).
    case function(String)

    /// `tool_choice` as JSON.
    var json: JSONNode {
        switch self {
        case .none: return .string("none")
        case .auto: return .string("auto")
        case .required: return .string("required")
        case let .function(name):
            return .object([("type", .string("function")), ("function", .object([("name", .string(name))]))])
        }
    }

    /// A request's `tool_choice`.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` for another value.
    static func parse(_ value: JSONNode) throws(GenerateError) -> ToolChoice {
        switch value {
        case .string("none"): return .none
        case .string("auto"): return .auto
        case .string("required"): return .required
        case .object:
            guard case .string("function")? = value["type"], case let .string(name)? = value["function"]?["name"] else {
                throw .invalidField(field: "tool_choice", reason: "expected {\"type\": \"function\", \"function\": {\"name\": ...}}")
            }
            return .function(name)
        default:
            throw .invalidField(field: "tool_choice", reason: "expected \"none\", \"auto\", \"required\" or a named function")
        }
    }
}

extension JSONNode {
    var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
