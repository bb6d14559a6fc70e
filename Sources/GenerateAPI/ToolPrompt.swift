import Jinja
import Sampling

/// The tools of a request as the prompt shows them, and how the conversation reaches the template.
///
/// A template that mentions `tools` in its source renders them itself: it gets the `tools`
/// variable (OpenAI's `[{"type": "function", "function": {...}}]`) and messages with `tool_calls`
/// (arguments as the parsed object, as Hugging Face's templates expect them) and `tool_call_id`,
/// as transformers' `apply_chat_template` passes them. Any other template gets the tools described
/// in the system message, and the history in plain messages, as minja's polyfills write it for
/// llama.cpp: an assistant's calls as the JSON it would have answered, a tool's result as a user
/// message `{"tool_response": {"tool", "tool_call_id", "content"}}`.
///
/// Whenever the answer may call tools, the system message also says how to answer, in
/// ``ToolCallFormat``'s JSON (the output is constrained to it).
struct ToolPrompt: Sendable {
    var tools: [FunctionTool]
    var choice: ToolChoice
    var parallel: Bool

    /// Whether the answer may call tools (`tool_choice` is not `none`, and there are tools).
    var isActive: Bool { choice != .none && !tools.isEmpty }

    /// Whether `template` renders tools itself: its source mentions `tools`.
    static func templateRendersTools(_ template: ChatTemplate) -> Bool {
        template.template.source.contains("tools")
    }

    /// `messages` through `template`, ending with the assistant's cue, with `tools` (`nil`: a
    /// request without tools) shown as this type describes.
    static func render(_ template: ChatTemplate, messages: [ChatMessage], tools: ToolPrompt?, bosToken: String,
                       eosToken: String) throws(TemplateError) -> String {
        let variables = variables(messages: messages, tools: tools, native: templateRendersTools(template))
        return try template.render(messages: messages, bosToken: bosToken, eosToken: eosToken, addGenerationPrompt: true,
                                   extraVariables: variables)
    }

    /// The template variables for `messages` with `tools` (`nil`: a request without tools).
    static func variables(messages: [ChatMessage], tools: ToolPrompt?, native: Bool) -> [String: TemplateValue] {
        var messages = messages
        if let tools, tools.isActive {
            let text = ToolCallFormat.instruction(tools: tools.tools, choice: tools.choice, parallel: tools.parallel,
                                                  describeTools: !native)
            if let first = messages.first, first.role == "system" {
                messages[0].content = first.content.isEmpty ? text : first.content + "\n\n" + text
            } else {
                messages.insert(ChatMessage(role: "system", content: text), at: 0)
            }
        }
        var variables: [String: TemplateValue] = [
            "messages": .array(native ? messages.map(nativeMessage) : plainMessages(messages)),
        ]
        if native, let tools, tools.choice != .none, !tools.tools.isEmpty {
            variables["tools"] = .array(tools.tools.map { TemplateValue($0.json) })
        }
        return variables
    }

    /// A message with its tool fields, for a template that renders them.
    private static func nativeMessage(_ m: ChatMessage) -> TemplateValue {
        var members: [(key: String, value: TemplateValue)] = [("role", .string(m.role)), ("content", .string(m.content))]
        if let calls = m.toolCalls {
            members.append(("tool_calls", .array(calls.map { call in
                .object([
                    ("id", .string(call.id)), ("type", "function"),
                    ("function", .object([("name", .string(call.name)),
                                          ("arguments", TemplateValue(ToolCallFormat.argumentsNode(call.arguments)))])),
                ])
            })))
        }
        if let id = m.toolCallID { members.append(("tool_call_id", .string(id))) }
        return .object(members)
    }

    /// The conversation in `{"role", "content"}` messages only, for a template that knows no tools.
    private static func plainMessages(_ messages: [ChatMessage]) -> [TemplateValue] {
        var names: [String: String] = [:]
        return messages.map { m in
            var role = m.role, content = m.content
            if let calls = m.toolCalls, !calls.isEmpty {
                for call in calls { names[call.id] = call.name }
                let json = ToolCallFormat.content(of: calls)
                content = content.isEmpty ? json : content + "\n" + json
            } else if m.role == "tool" {
                var response: [(key: String, value: JSONNode)] = []
                if let id = m.toolCallID {
                    if let name = names[id] { response.append(("tool", .string(name))) }
                    response.append(("tool_call_id", .string(id)))
                }
                response.append(("content", .string(m.content)))
                role = "user"
                content = JSONNode.object([("tool_response", .object(response))]).serialized
            }
            return .object([("role", .string(role)), ("content", .string(content))])
        }
    }
}

extension TemplateValue {
    /// A JSON value as templates see it: numbers without fraction or exponent as integers.
    init(_ node: JSONNode) {
        switch node {
        case .null: self = .none
        case let .bool(b): self = .bool(b)
        case let .number(text): self = Int(text).map(TemplateValue.int) ?? Double(text).map(TemplateValue.double) ?? .string(text)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map(TemplateValue.init))
        case let .object(members): self = .object(members.map { (key: $0.key, value: TemplateValue($0.value)) })
        }
    }
}
