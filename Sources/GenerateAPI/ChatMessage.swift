/// One message of a conversation, in OpenAI's format: `{"role": "user", "content": "..."}`, an
/// assistant's `{"role": "assistant", "content": null, "tool_calls": [...]}`, or a tool's result
/// `{"role": "tool", "tool_call_id": "...", "content": "..."}`.
public struct ChatMessage: Codable, Sendable, Equatable, Hashable {
    /// `system`, `user`, `assistant`, `tool` (or another role the model's template knows).
    public var role: String
    /// The message text; "" for an assistant's JSON `null` (a message that only calls tools).
    public var content: String
    /// The tools an assistant message calls (JSON `tool_calls`), `nil` for none.
    public var toolCalls: [ToolCall]?
    /// The call a `tool` message answers (JSON `tool_call_id`).
    public var toolCallID: String?

    /// A message; `toolCalls` for an assistant's calls, `toolCallID` for a tool's result.
    public init(role: String, content: String, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    private enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    /// Reads OpenAI's message; an assistant's `content` may be `null` or absent (then "").
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        toolCalls = try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        // Only an assistant's message may go without content (OpenAI's rule: it calls tools).
        if role == "assistant" {
            content = try c.decodeIfPresent(String.self, forKey: .content) ?? ""
        } else {
            content = try c.decode(String.self, forKey: .content)
        }
        toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
    }

    /// Writes OpenAI's message, the tool fields only when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}
