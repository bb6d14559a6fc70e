import Jinja

/// A model's chat template: a `Template` of the `Jinja` module, rendered with the variables
/// Hugging Face's `apply_chat_template` passes.
///
/// ```swift
/// let template = try ChatTemplate(source: source)
/// let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")],
///                                  bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
/// ```
///
/// ``source(modelPath:)`` finds a model's template and its special-token texts.
public struct ChatTemplate: Sendable {
    /// The parsed template.
    public let template: Template

    /// Parses `source`; syntax errors (with line and column) and over-deep nesting are thrown here.
    public init(source: String, limits: TemplateLimits = .init()) throws(TemplateError) {
        template = try Template(source: source, limits: limits)
    }

    /// Renders a conversation with the variables Hugging Face's `apply_chat_template` passes:
    /// `messages` (a list of `{"role", "content"}`), `bos_token`, `eos_token`,
    /// `add_generation_prompt`, and `tools` / `documents` as `none`. `extraVariables` are added last
    /// and may override any of them.
    ///
    /// A template that calls `raise_exception(msg)` throws `TemplateError.raised(message: msg)`.
    public func render(messages: [ChatMessage], bosToken: String, eosToken: String, addGenerationPrompt: Bool,
                       extraVariables: [String: TemplateValue] = [:]) throws(TemplateError) -> String {
        var variables: [String: TemplateValue] = [
            "messages": TemplateValue(messages: messages),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        for (k, v) in extraVariables { variables[k] = v }
        return try template.render(variables)
    }
}

extension TemplateValue {
    /// The conversation as chat templates see it: a list of `{"role": ..., "content": ...}` objects.
    public init(messages: [ChatMessage]) {
        self = .array(messages.map { .object([(key: "role", value: .string($0.role)), (key: "content", value: .string($0.content))]) })
    }
}
