/// One message of a conversation, in OpenAI's format: `{"role": "user", "content": "..."}`.
public struct ChatMessage: Codable, Sendable, Equatable, Hashable {
    /// `system`, `user`, `assistant` (or another role the model's template knows).
    public var role: String
    /// The message text.
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
