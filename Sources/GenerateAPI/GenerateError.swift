import Sampling
import Tokenizer
import Transformer

/// Why a request could not be answered. Every case names the field, model or limit at fault, so a
/// server can answer 400 / 404 with a useful message and a command line can print it.
public enum GenerateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A request field has the wrong type or an invalid value (`field` is the JSON key).
    case invalidField(field: String, reason: String)
    /// The body is not a JSON object.
    case invalidJSON(reason: String)
    /// `model` names nothing the registry knows; `available` lists what it does.
    case unknownModel(name: String, available: [String])
    /// The model was found but could not be loaded.
    case modelLoadFailed(path: String, reason: String)
    /// The model's tokenizer could not be loaded.
    case tokenizerLoadFailed(path: String, reason: String)
    /// The request has `messages` but the model carries no chat template.
    case noChatTemplate(model: String)
    /// The chat template failed to render (its own `raise_exception` message, or a template error).
    case templateFailed(model: String, reason: String)
    /// The prompt does not fit: it has `promptTokens` tokens and the context holds `contextLength`.
    case promptTooLong(promptTokens: Int, contextLength: Int)
    /// `max_tokens` does not fit after the prompt: `promptTokens + maxTokens > contextLength`. The
    /// message is vLLM 0.4's (`OpenAIServing._validate_prompt_and_tokenize`) word for word; the
    /// field at fault is the prompt when it fills the context alone, else `max_tokens`.
    case contextExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// The model's queue is full: `waiting` requests already wait for room in its batch (a server
    /// answers 429).
    case queueFull(waiting: Int)
    /// The forward pass failed.
    case inference(reason: String)

    public var description: String {
        switch self {
        case let .invalidField(field, reason): return "invalid \(field): \(reason)"
        case let .invalidJSON(reason): return "invalid request body: \(reason)"
        case let .unknownModel(name, available):
            let list = available.isEmpty ? "no models are available" : "available: " + available.joined(separator: ", ")
            return "unknown model \"\(name)\" (\(list))"
        case let .modelLoadFailed(path, reason): return "cannot load model \(path): \(reason)"
        case let .tokenizerLoadFailed(path, reason): return "cannot load the tokenizer of \(path): \(reason)"
        case let .noChatTemplate(model): return "invalid messages: model \(model) has no chat template; send a prompt instead"
        case let .templateFailed(model, reason): return "invalid messages: the chat template of \(model) failed: \(reason)"
        case let .promptTooLong(tokens, context):
            return "invalid prompt: it has \(tokens) tokens and the model's context holds \(context)"
        case let .contextExceeded(promptTokens, maxTokens, context):
            // Unsigned: max_tokens may be near Int.max when the engine's limit is raised.
            let requested = UInt(clamping: maxTokens) + UInt(clamping: promptTokens)
            return "This model's maximum context length is \(context) tokens. However, you requested \(requested) tokens "
                + "(\(promptTokens) in the messages, \(maxTokens) in the completion). "
                + "Please reduce the length of the messages or completion."
        case let .queueFull(waiting): return "the server is busy: \(waiting) requests already wait for this model; retry later"
        case let .inference(reason): return "generation failed: \(reason)"
        }
    }

    /// The JSON field a client should fix, when there is one (for OpenAI-style error bodies).
    public var field: String? {
        switch self {
        case let .invalidField(field, _): return field
        case .unknownModel, .modelLoadFailed, .tokenizerLoadFailed: return "model"
        case .noChatTemplate, .templateFailed: return "messages"
        case .promptTooLong: return "prompt"
        case let .contextExceeded(promptTokens, _, context): return promptTokens >= context ? "prompt" : "max_tokens"
        case .invalidJSON, .inference, .queueFull: return nil
        }
    }

    init(_ error: SamplingError) {
        switch error {
        case let .invalidParameter(field, reason): self = .invalidField(field: field, reason: reason)
        }
    }
}
