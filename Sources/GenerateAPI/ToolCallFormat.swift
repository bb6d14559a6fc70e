import Sampling

/// The JSON an answer takes when a request offers tools, as llama.cpp's generic tool-call format
/// (`common_chat_params_init_generic` in its `common/chat.cpp`) has it:
///
/// - one call: `{"tool_call": {"name": "get_weather", "arguments": {...}}}`;
/// - with `parallel_tool_calls`: `{"tool_calls": [{"name": ..., "arguments": {...}}, ...]}` (one
///   or more; llama.cpp also asks each for an `id`, which Sparrow makes itself);
/// - with `tool_choice` `auto`, a plain answer instead: `{"response": "..."}`.
///
/// The output is constrained to this JSON by a schema (an `anyOf` over the tools, each with its
/// name as a `const` and its `parameters` as the `arguments` schema), so every call names an
/// offered function and its arguments are valid under that function's schema.
public enum ToolCallFormat {
    /// The request field errors about tools name.
    static let field = "tools"

    /// The schema of an answer offering `tools` under `choice` (`nil` for ``ToolChoice/none``).
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` when a named function is not
    ///   among the tools.
    public static func schema(tools: [FunctionTool], choice: ToolChoice, parallel: Bool) throws(GenerateError) -> JSONNode? {
        var offered = tools
        switch choice {
        case .none: return nil
        case .auto, .required: break
        case let .function(name):
            offered = tools.filter { $0.name == name }
            guard !offered.isEmpty else {
                throw .invalidField(field: "tool_choice", reason: "no tool is named \"\(name)\"")
            }
        }
        // OpenAI accepts `auto` without tools: free text then.
        if offered.isEmpty, choice == .auto { return nil }
        guard !offered.isEmpty else {
            throw .invalidField(field: "tools", reason: "tool_choice required needs at least one tool")
        }
        let calls: [JSONNode] = offered.map { tool in
            .object([
                ("type", .string("object")),
                ("properties", .object([
                    ("name", .object([("type", .string("string")), ("const", .string(tool.name))])),
                    ("arguments", tool.parameters),
                ])),
                ("required", .array([.string("name"), .string("arguments")])),
            ])
        }
        let call: JSONNode = calls.count == 1 ? calls[0] : .object([("anyOf", .array(calls))])
        let toolCall: JSONNode = parallel
            ? object(["tool_calls": .object([("type", .string("array")), ("items", call), ("minItems", .number("1"))])])
            : object(["tool_call": call])
        guard choice == .auto else { return toolCall }
        return .object([("anyOf", .array([toolCall, object(["response": .object([("type", .string("string"))])])]))])
    }

    /// `{"type": "object", "properties": {key: schema}, "required": [key]}`.
    private static func object(_ property: KeyValuePairs<String, JSONNode>) -> JSONNode {
        .object([
            ("type", .string("object")),
            ("properties", .object(property.map { (key: $0.key, value: $0.value) })),
            ("required", .array(property.map { .string($0.key) })),
        ])
    }

    /// The system message's addition: the tools (unless the template shows them itself) and how
    /// to answer, in llama.cpp's words for its generic format.
    static func instruction(tools: [FunctionTool], choice: ToolChoice, parallel: Bool, describeTools: Bool) -> String {
        var text = ""
        if describeTools {
            let offered: [FunctionTool]
            if case let .function(name) = choice { offered = tools.filter { $0.name == name } } else { offered = tools }
            text += "You can call these tools:\n"
            text += offered.map(\.function.serialized).joined(separator: "\n") + "\n\n"
        }
        let key = parallel ? "tool_calls" : "tool_call"
        if choice == .auto {
            text += "Respond in JSON format, either with `\(key)` (a request to call tools) or with `response` reply to the user's request"
        } else {
            text += "Respond in JSON format with `\(key)` (a request to call tools)"
        }
        return text
    }

    /// An assistant message's calls as the content a template without tool support shows: the JSON
    /// the model would have written.
    static func content(of calls: [ToolCall]) -> String {
        let items: [JSONNode] = calls.map { .object([("name", .string($0.name)), ("arguments", argumentsNode($0.arguments))]) }
        if items.count == 1 { return JSONNode.object([("tool_call", items[0])]).serialized }
        return JSONNode.object([("tool_calls", .array(items))]).serialized
    }

    /// A call's arguments as JSON: the parsed object, or the text as a string when it is not JSON.
    static func argumentsNode(_ arguments: String) -> JSONNode {
        (try? JSONNode.parse(arguments)) ?? .string(arguments)
    }

    /// What a constrained answer says.
    public enum Answer: Sendable, Equatable {
        /// One or more calls, with fresh ids (`call_` and 24 hex digits).
        case calls([ToolCall])
        /// A plain answer (`{"response": ...}`).
        case text(String)
    }

    /// The answer in `output`, or `nil` when it is not a complete answer of this format (an output
    /// `max_tokens` cut short).
    public static func parse(_ output: String) -> Answer? {
        guard let node = try? JSONNode.parse(output), case .object = node else { return nil }
        if case let .string(text)? = node["response"] { return .text(text) }
        var items: [JSONNode] = []
        if let one = node["tool_call"] {
            items = [one]
        } else if case let .array(many)? = node["tool_calls"] {
            items = many
        }
        var calls: [ToolCall] = []
        for item in items {
            guard case let .string(name)? = item["name"], let arguments = item["arguments"] else { return nil }
            calls.append(ToolCall(id: "call_" + randomHex(24), name: name, arguments: arguments.serialized))
        }
        return calls.isEmpty ? nil : .calls(calls)
    }
}
