import Foundation
import GenerateAPI
import JSON

/// An OpenAI `POST /v1/completions` or `POST /v1/chat/completions` body, translated into the
/// documented ``GenerateAPI/GenerateRequest``.
///
/// The translation rewrites the JSON object and lets `GenerateRequest` decode the result, so a
/// field of the wrong type gets the same 400 naming it as on `/v1/generate`. Fields whose names
/// vLLM and OpenAI share pass through unchanged (`max_tokens`, `temperature`, `top_p`, `n`, `stop`,
/// `seed`, `presence_penalty`, `frequency_penalty`, `best_of`, and vLLM's `top_k`, `min_p`,
/// `repetition_penalty`, `use_beam_search`, `length_penalty`, `early_stopping`, `stop_token_ids`,
/// `ignore_eos`, plus `mock_response`); the rest are translated:
/// - completions: `prompt` (a string, an array holding one string, token ids, or an array holding
///   one array of token ids), `echo`, `logprobs` (an int; not with `echo`, whose prompt
///   log-probabilities are not implemented);
/// - chat: `messages` (content a string or an array of `{"type": "text"}` parts; role `developer`
///   is `system`), `logprobs` (a bool) with `top_logprobs`, `max_completion_tokens`;
/// - `max_tokens` as vLLM 0.4's OpenAI server has it: completions default to 16 and take `null` as
///   the engine's `None` (`serving_completion.py` builds its `SamplingParams` before
///   `_validate_prompt_and_tokenize` resolves `None`, so the output runs to context − prompt + 1
///   tokens); chat defaults to `None`, which `serving_chat.py` resolves first, to context − prompt
///   (`GenerateRequest.UnlimitedMaxTokens`). On both, prompt + `max_tokens` over the
///   context is a 400 with vLLM's message;
/// - both: `stream`, `stream_options.include_usage`, and the output constraints: OpenAI's
///   `response_format` (`text`, `json_object`, `json_schema`), vLLM's `guided_json`,
///   `guided_choice`, `guided_regex`, `guided_grammar` and llama.cpp's `grammar` and `json_schema`
///   (``GenerateAPI/RequestConstraintField``), at most one per request.
/// - chat: `tools`, `tool_choice` and `parallel_tool_calls` (``GenerateAPI/ToolCallFormat``), and
///   messages' `tool_calls` and `tool_call_id`.
/// Fields that would change the answer in ways this server cannot honour (`logit_bias`,
/// `functions`, `suffix`, batches of prompts, ...) are refused with a 400
/// rather than silently ignored; purely informational ones (`user`, `metadata`, `store`) are ignored.
struct OpenAIRequest: Sendable {
    enum Kind: Sendable {
        case completion
        case chat
    }

    let kind: Kind
    let generate: GenerateRequest
    /// Completions: prepend the prompt to each choice's text.
    let echo: Bool
    /// Streams: send a last chunk with `usage` (and no choices) before `[DONE]`.
    let includeUsage: Bool

    static let passThrough: [String] = [
        "model", "max_tokens", "n", "best_of", "presence_penalty", "frequency_penalty", "repetition_penalty",
        "temperature", "top_p", "top_k", "min_p", "use_beam_search", "length_penalty", "early_stopping",
        "mock_response", "seed", "stop", "stop_token_ids", "ignore_eos",
        // Output constraints: OpenAI's response_format, and vLLM's and llama.cpp's extra fields,
        // which their OpenAI servers take too.
        "response_format", "guided_json", "guided_choice", "guided_regex", "guided_grammar", "grammar", "json_schema",
        // Function tools (chat): GenerateRequest reads and checks them.
        "tools", "tool_choice", "parallel_tool_calls",
    ]

    /// Decodes `body` as a `kind` request.
    /// - Throws: ``APIError`` (400) naming the field at fault.
    init(kind: Kind, body: Data) throws {
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: body)
        } catch {
            throw APIError.invalid("the body is not a JSON object", param: nil)
        }
        var out: [String: JSONValue] = [:]
        for key in Self.passThrough { if let value = object[key]?.nonNull { out[key] = value } }
        // vLLM 0.4's protocol.py: max_tokens is Optional[int], so an explicit null is None.
        if case .null? = object["max_tokens"] { out["max_tokens"] = .null }
        var unlimited = GenerateRequest.UnlimitedMaxTokens.pastContext
        try Self.refuseUnsupported(object, kind: kind)

        var echo = false
        switch kind {
        case .completion:
            let (key, prompt) = try Self.completionPrompt(object["prompt"])
            out[key] = prompt
            echo = try Self.bool(object["echo"], "echo") ?? false
            if echo, key != "prompt" {
                throw APIError.invalid("unsupported echo: not implemented for token-id prompts", param: "echo")
            }
            if let logprobs = object["logprobs"]?.nonNull {
                out["logprobs"] = logprobs
                // vLLM answers echo with the prompt's own log-probabilities first, which need
                // the logits of every prompt position; refused rather than answered without them.
                if echo {
                    throw APIError.invalid("unsupported echo with logprobs: the prompt's log-probabilities are not implemented",
                                           param: "echo")
                }
            }
        case .chat:
            out["messages"] = try Self.chatMessages(object["messages"])
            if let max = object["max_completion_tokens"]?.nonNull { out["max_tokens"] = max }
            if out["max_tokens"]?.nonNull == nil {
                // vLLM 0.4's ChatCompletionRequest defaults max_tokens to None, and
                // serving_chat.py resolves None in _validate_prompt_and_tokenize before it
                // builds the SamplingParams: context − prompt tokens.
                out["max_tokens"] = .null
                unlimited = .contextRemainder
            }
            if try Self.bool(object["logprobs"], "logprobs") == true {
                out["logprobs"] = object["top_logprobs"]?.nonNull ?? .integerNumber(0)
            }
        }
        let stream = try Self.bool(object["stream"], "stream") ?? false
        out["stream"] = .bool(stream)
        var includeUsage = false
        if let options = object["stream_options"]?.nonNull, case .object = options {
            includeUsage = try Self.bool(options["include_usage"], "stream_options.include_usage") ?? false
        } else if object["stream_options"]?.nonNull != nil {
            throw APIError.invalid("invalid stream_options: expected an object", param: "stream_options")
        }

        do {
            let data = try JSONEncoder().encode(out)
            var request = try JSONDecoder().decode(GenerateRequest.self, from: data)
            request.unlimitedMaxTokens = unlimited
            request.readConstraintInOrder(fromBody: body)
            generate = request
        } catch let error as GenerateError {
            throw APIError(error)
        } catch {
            throw APIError.invalid("invalid request: \(error)", param: nil)
        }
        self.kind = kind
        self.echo = echo
        self.includeUsage = includeUsage
    }

    private static func bool(_ value: JSONValue?, _ field: String) throws -> Bool? {
        switch value {
        case nil, .null?: return nil
        case let .bool(b)?: return b
        default: throw APIError.invalid("invalid \(field): expected true or false", param: field)
        }
    }

    /// The documented request's key and value for a completion's `prompt`: a string, or an array
    /// of exactly one string (what the `openai` client sends for a list) → `prompt`; token ids, or
    /// an array of exactly one array of them → `prompt_token_ids`.
    private static func completionPrompt(_ value: JSONValue?) throws -> (String, JSONValue) {
        let batches = "send one prompt per request (batches of prompts are not supported)"
        switch value {
        case let .string(s)?: return ("prompt", .string(s))
        case let .array(items)? where !items.isEmpty && items.allSatisfy(\.isInteger):
            return ("prompt_token_ids", .array(items))
        case let .array(items)? where items.count == 1:
            if case let .string(s) = items[0] { return ("prompt", .string(s)) }
            if case let .array(ids) = items[0], !ids.isEmpty, ids.allSatisfy(\.isInteger) { return ("prompt_token_ids", .array(ids)) }
            throw APIError.invalid("invalid prompt: expected a string, an array of token ids, or an array holding one of them", param: "prompt")
        case let .array(items)? where items.count > 1 && items.allSatisfy({ $0.isString || $0.isArray }):
            throw APIError.invalid("invalid prompt: \(batches)", param: "prompt")
        case .array?:
            throw APIError.invalid("invalid prompt: expected a string or an array of token ids (integers)", param: "prompt")
        case nil, .null?:
            throw APIError.invalid("invalid prompt: a completion needs a prompt", param: "prompt")
        default:
            throw APIError.invalid("invalid prompt: expected a string", param: "prompt")
        }
    }

    /// OpenAI messages → `[{"role", "content"}]` with string content.
    private static func chatMessages(_ value: JSONValue?) throws -> JSONValue {
        guard case let .array(items)? = value else {
            throw APIError.invalid("invalid messages: expected an array of {\"role\", \"content\"} objects", param: "messages")
        }
        var messages: [JSONValue] = []
        for (i, item) in items.enumerated() {
            guard case .object = item, case let .string(role)? = item["role"] else {
                throw APIError.invalid("invalid messages[\(i)]: expected an object with a string role", param: "messages[\(i)].role")
            }
            let content: String
            let toolCalls = try Self.toolCalls(item["tool_calls"], at: i)
            switch item["content"] {
            case let .string(s)?: content = s
            case nil where toolCalls != nil || role == "assistant", .null? where toolCalls != nil || role == "assistant":
                content = ""  // an assistant message that only calls tools
            case let .array(parts)?:
                content = try parts.map { part -> String in
                    guard case .object = part, part["type"] == .string("text"), case let .string(text)? = part["text"] else {
                        throw APIError.invalid("invalid messages[\(i)].content: only text parts are supported", param: "messages[\(i)].content")
                    }
                    return text
                }.joined()
            default:
                throw APIError.invalid("invalid messages[\(i)].content: expected a string or text parts", param: "messages[\(i)].content")
            }
            // OpenAI's newer name for the system role.
            var out: [(key: String, value: JSONValue)] = [("role", .string(role == "developer" ? "system" : role)), ("content", .string(content))]
            if let toolCalls { out.append(("tool_calls", toolCalls)) }
            switch item["tool_call_id"] {
            case nil, .null?: break
            case let .string(id)?: out.append(("tool_call_id", .string(id)))
            default: throw APIError.invalid("invalid messages[\(i)].tool_call_id: expected a string", param: "messages[\(i)].tool_call_id")
            }
            messages.append(.object(out))
        }
        return .array(messages)
    }

    /// An assistant message's `tool_calls`: `[{"id", "type": "function", "function": {"name",
    /// "arguments"}}]`, the arguments a JSON string as OpenAI sends them.
    private static func toolCalls(_ value: JSONValue?, at i: Int) throws -> JSONValue? {
        let param = "messages[\(i)].tool_calls"
        let shape = "expected an array of {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}} objects"
        switch value {
        case nil, .null?: return nil
        case let .array(items)?:
            for item in items {
                guard case .object = item, let function = item["function"], case .object = function,
                      case .string? = function["name"], item["type"] == nil || item["type"] == .string("function")
                else { throw APIError.invalid("invalid \(param): \(shape)", param: param) }
                switch function["arguments"] {
                case nil, .string?: break
                default: throw APIError.invalid("invalid \(param): arguments must be a JSON string", param: param)
                }
            }
            return .array(items)
        default:
            throw APIError.invalid("invalid \(param): \(shape)", param: param)
        }
    }

    /// Fields whose meaning this server cannot honour: refused so the client is not misled.
    private static func refuseUnsupported(_ object: [String: JSONValue], kind: Kind) throws {
        func refuse(_ field: String, _ why: String) throws -> Never {
            throw APIError.invalid("unsupported \(field): \(why)", param: field)
        }
        if case let .object(bias)? = object["logit_bias"], !bias.isEmpty { try refuse("logit_bias", "not implemented") }
        if kind == .completion {
            if case let .array(tools)? = object["tools"], !tools.isEmpty { try refuse("tools", "tool calls are for /v1/chat/completions") }
            if let choice = object["tool_choice"]?.nonNull, choice != .string("none"), choice != .string("auto") {
                try refuse("tool_choice", "tool calls are for /v1/chat/completions")
            }
        }
        // The deprecated `functions` / `function_call` pair: `tools` / `tool_choice` replace it.
        if object["functions"]?.nonNull != nil { try refuse("functions", "send tools instead") }
        if object["function_call"]?.nonNull != nil { try refuse("function_call", "send tool_choice instead") }
        if case let .string(suffix)? = object["suffix"], !suffix.isEmpty { try refuse("suffix", "not implemented") }
        if let n = object["min_tokens"]?.integer, n > 0 { try refuse("min_tokens", "not implemented") }
        if kind == .chat, object["echo"] == .bool(true) { try refuse("echo", "not implemented for chat") }
    }
}
