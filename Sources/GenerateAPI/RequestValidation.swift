import Sampling

/// Resource limits a request must respect, beyond what vLLM's rules check. A server exposed to
/// clients keeps them low; a command line may raise them.
public struct EngineLimits: Sendable, Equatable {
    /// The most tokens one request may ask to generate (`max_tokens`), whatever the model. A real
    /// model also caps it by its context (prompt + `max_tokens` must fit); this bound holds for
    /// mock responses too and rejects absurd values before any model is loaded.
    public var maxTokens: Int
    /// The most candidates (`best_of`, or `n` without it) one request may ask for.
    public var maxBestOf: Int
    /// The most `stop` strings, and the longest one in bytes.
    public var maxStopStrings: Int
    public var maxStopStringBytes: Int
    /// The most `stop_token_ids`.
    public var maxStopTokenIDs: Int
    /// The most messages in a conversation.
    public var maxMessages: Int
    /// The most bytes of prompt or message text (before tokenization).
    public var maxPromptBytes: Int
    /// What an output constraint (schema, grammar, regex, choices) may cost to compile and follow.
    public var grammar = GrammarLimits()

    /// Limits that any sane client stays within: 1 Mi (1,048,576) tokens to generate, 64
    /// candidates, 16 stop strings of 1 KiB, 1,024 stop token ids, 1,024 messages, 4 MiB of text.
    public init(maxTokens: Int = 1 << 20, maxBestOf: Int = 64, maxStopStrings: Int = 16, maxStopStringBytes: Int = 1024,
                maxStopTokenIDs: Int = 1024, maxMessages: Int = 1024, maxPromptBytes: Int = 4 << 20) {
        self.maxTokens = maxTokens
        self.maxBestOf = maxBestOf
        self.maxStopStrings = maxStopStrings
        self.maxStopStringBytes = maxStopStringBytes
        self.maxStopTokenIDs = maxStopTokenIDs
        self.maxMessages = maxMessages
        self.maxPromptBytes = maxPromptBytes
    }
}

/// The roles a conversation may use (OpenAI's; templates decide what they do with each).
let knownRoles: Set<String> = ["system", "user", "assistant", "tool"]

extension GenerateRequest {
    /// ``sampling`` checked by vLLM's rules (``Sampling/SamplingParameters/validate()``) and the
    /// engine's limits: the form generation takes. A `max_tokens` of `nil` stays `nil`; the engine,
    /// once it knows the prompt, resolves it to what the context leaves.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` naming the first field at fault.
    func validatedSampling(limits: EngineLimits) throws(GenerateError) -> SamplingParameters.Validated {
        let checked: SamplingParameters.Validated
        do { checked = try sampling.validated() } catch { throw GenerateError(error) }
        let p = sampling
        if let maxTokens = p.maxTokens, maxTokens > limits.maxTokens {
            throw .invalidField(field: "max_tokens", reason: "\(maxTokens) tokens exceed this engine's limit of \(limits.maxTokens)")
        }
        let candidates = p.effectiveBestOf
        if candidates > limits.maxBestOf {
            let field = p.bestOf == nil ? "n" : "best_of"
            throw .invalidField(field: field, reason: "\(candidates) candidates exceed this engine's limit of \(limits.maxBestOf)")
        }
        if p.stop.count > limits.maxStopStrings {
            throw .invalidField(field: "stop", reason: "at most \(limits.maxStopStrings) stop strings")
        }
        if let long = p.stop.first(where: { $0.utf8.count > limits.maxStopStringBytes }) {
            throw .invalidField(field: "stop", reason: "a stop string of \(long.utf8.count) bytes exceeds \(limits.maxStopStringBytes)")
        }
        if p.stopTokenIDs.count > limits.maxStopTokenIDs {
            throw .invalidField(field: "stop_token_ids", reason: "at most \(limits.maxStopTokenIDs) ids")
        }
        return checked
    }

    /// Checks everything about the request that does not need the model: vLLM's rules for the
    /// sampling fields, the engine's limits, and the prompt or conversation — what ``Engine`` checks
    /// when the request enters it (a mock response skips the prompt's); the model adds the
    /// context length.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` naming the first field at fault.
    public func validate(limits: EngineLimits = .init()) throws(GenerateError) {
        _ = try validatedSampling(limits: limits)
        _ = try compiledConstraint(limits: limits)
        _ = try promptSource(limits: limits)
    }

    /// ``constraint`` compiled within the engine's grammar limits, with the field it came from.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` naming the field when the
    ///   constraint does not compile, is too large or too deep, or comes with beam search.
    func compiledConstraint(limits: EngineLimits) throws(GenerateError) -> (grammar: CompiledGrammar, field: String)? {
        if let tools = try toolSchema(limits: limits) { return tools }
        guard let constraint else { return nil }
        let field = constraintFieldName
        if sampling.useBeamSearch {
            throw .invalidField(field: field, reason: "constrained output is not supported with beam search")
        }
        do { return (try constraint.compile(limits: limits.grammar), field) } catch {
            throw .invalidField(field: field, reason: error.description)
        }
    }

    /// The tool-call constraint (``ToolCallFormat``) compiled, when the request offers tools and
    /// lets the answer call them. Each tool's parameter schema is compiled alone first, so that an
    /// error names the tool.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` naming `tools[i].function.parameters`,
    ///   `tool_choice` or `tools`.
    private func toolSchema(limits: EngineLimits) throws(GenerateError) -> (grammar: CompiledGrammar, field: String)? {
        let choice = effectiveToolChoice
        guard choice != .none else { return nil }
        let tools = tools ?? []
        for (i, tool) in tools.enumerated() {
            do { _ = try JSONSchemaGrammar.compile(tool.parameters, limits: limits.grammar) } catch {
                throw .invalidField(field: "tools[\(i)].function.parameters", reason: error.description)
            }
        }
        guard let schema = try ToolCallFormat.schema(tools: tools, choice: choice, parallel: parallelToolCalls) else { return nil }
        if constraint != nil {
            throw .invalidField(field: constraintFieldName, reason: "an output constraint cannot be combined with tools; send tool_choice \"none\" or no tools")
        }
        if sampling.useBeamSearch {
            throw .invalidField(field: ToolCallFormat.field, reason: "tool calls are not supported with beam search")
        }
        do { return (try JSONSchemaGrammar.compile(schema, limits: limits.grammar), ToolCallFormat.field) } catch {
            throw .invalidField(field: ToolCallFormat.field, reason: error.description)
        }
    }

    /// What the prompt is made from: raw text, a conversation or token ids, exactly one of them.
    enum PromptSource: Sendable {
        case text(String)
        /// Messages, with the tools to show the template (`nil`: none).
        case conversation([ChatMessage], ToolPrompt?)
        case tokens([Int])
    }

    /// Checks that exactly one of `prompt`, `messages` and `prompt_token_ids` is given and that it
    /// is usable.
    func promptSource(limits: EngineLimits) throws(GenerateError) -> PromptSource {
        if let ids = promptTokenIDs {
            guard prompt == nil, messages == nil else {
                throw .invalidField(field: "prompt_token_ids", reason: "send one of prompt, messages and prompt_token_ids")
            }
            guard !ids.isEmpty else { throw .invalidField(field: "prompt_token_ids", reason: "the prompt is empty") }
            // A token is at least one byte of text: the byte limit bounds the count too.
            guard ids.count <= limits.maxPromptBytes else {
                throw .invalidField(field: "prompt_token_ids", reason: "\(ids.count) tokens exceed the limit of \(limits.maxPromptBytes)")
            }
            if let negative = ids.first(where: { $0 < 0 }) {
                throw .invalidField(field: "prompt_token_ids", reason: "token id \(negative) is negative")
            }
            return .tokens(ids)
        }
        switch (prompt, messages) {
        case (.some, .some):
            throw .invalidField(field: "messages", reason: "send either prompt (or formatted_prompt) or messages, not both")
        case (nil, nil):
            throw .invalidField(field: "prompt", reason: "send a prompt (or formatted_prompt) or messages")
        case let (.some(text), nil):
            if text.utf8.count > limits.maxPromptBytes {
                throw .invalidField(field: "prompt", reason: "\(text.utf8.count) bytes exceed the limit of \(limits.maxPromptBytes)")
            }
            return .text(text)
        case let (nil, .some(messages)):
            if messages.isEmpty { throw .invalidField(field: "messages", reason: "the conversation is empty") }
            if messages.count > limits.maxMessages {
                throw .invalidField(field: "messages", reason: "\(messages.count) messages exceed the limit of \(limits.maxMessages)")
            }
            var bytes = 0
            for (i, m) in messages.enumerated() {
                guard knownRoles.contains(m.role) else {
                    throw .invalidField(field: "messages[\(i)].role",
                                        reason: "unknown role \"\(m.role)\" (expected system, user, assistant or tool)")
                }
                bytes += m.content.utf8.count
                for call in m.toolCalls ?? [] { bytes += call.name.utf8.count + call.arguments.utf8.count }
            }
            if bytes > limits.maxPromptBytes {
                throw .invalidField(field: "messages", reason: "\(bytes) bytes of content exceed the limit of \(limits.maxPromptBytes)")
            }
            let tools = tools.map { ToolPrompt(tools: $0, choice: effectiveToolChoice, parallel: parallelToolCalls) }
            return .conversation(messages, tools)
        }
    }
}
