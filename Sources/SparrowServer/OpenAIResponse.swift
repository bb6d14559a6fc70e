import GenerateAPI

/// OpenAI's response objects, built from a ``GenerateAPI/GenerateResponse``.
///
/// Choices carry vLLM's `stop_reason` beside `finish_reason` (vLLM 0.4's OpenAI server does).
/// Log-probabilities (``CompletionLogprobs``, ``ChatLogprobs``) cover every id of `token_ids`, the
/// end token included (its text is empty), in OpenAI's shapes.
enum OpenAI {
    struct Usage: Codable, Sendable, Equatable {
        struct PromptDetails: Codable, Sendable, Equatable {
            /// Prompt tokens reused from the prefix cache.
            var cached_tokens: Int
        }

        var prompt_tokens: Int
        var completion_tokens: Int
        var total_tokens: Int
        var prompt_tokens_details: PromptDetails

        init(_ usage: GenerateResponse.Usage) {
            prompt_tokens = usage.promptTokens
            completion_tokens = usage.completionTokens
            total_tokens = usage.totalTokens
            prompt_tokens_details = PromptDetails(cached_tokens: usage.cachedPromptTokens)
        }
    }

    /// `text_completion`, whole or as one streamed chunk.
    struct Completion: Encodable, Sendable {
        struct Choice: Encodable, Sendable {
            var text: String
            var index: Int
            var logprobs: CompletionLogprobs?
            var finish_reason: String?
            /// vLLM's addition: the stop string or stop token id, null for eos and length.
            var stop_reason: StopReasonJSON? = nil

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(text, forKey: .text)
                try c.encode(index, forKey: .index)
                try c.encode(logprobs, forKey: .logprobs)  // null, as OpenAI sends it
                try c.encode(finish_reason, forKey: .finish_reason)
                try c.encode(stop_reason, forKey: .stop_reason)
            }

            enum CodingKeys: String, CodingKey { case text, index, logprobs, finish_reason, stop_reason }
        }

        var id: String
        var object = "text_completion"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage?
    }

    /// A completion's `logprobs`: `{"tokens", "token_logprobs", "top_logprobs", "text_offset"}`, as
    /// vLLM 0.4's `_create_logprobs` writes them.
    ///
    /// - `tokens`: each token's text in place (vLLM's `decoded_token`);
    /// - `token_logprobs`: its log-probability (`null` for an echoed prompt's first token);
    /// - `top_logprobs`: per token `{text: logprob}` of the chosen token and the `logprobs` most
    ///   likely ones (so up to `logprobs` + 1 keys, as OpenAI and vLLM give them), or `null`
    ///   throughout when the request asked for `logprobs: 0`. Two tokens with the same text share
    ///   a key: the first of the chosen token and the alternatives, most likely first, keeps it;
    /// - `text_offset`: where each token's text starts in the choice's text, in Unicode code
    ///   points (Python's `len`, which vLLM sums), after the echoed prompt when there is one.
    struct CompletionLogprobs: Encodable, Sendable {
        var tokens: [String] = []
        var token_logprobs: [Float?] = []
        var top_logprobs: [[String: Float]?]?
        var text_offset: [Int] = []

        /// `entries` whose texts start at `offset`; `alternatives` is the request's `logprobs`.
        init(_ entries: [TokenLogprobJSON], offset: Int, alternatives: Int) {
            top_logprobs = alternatives > 0 ? [] : nil
            var offset = offset
            for entry in entries {
                tokens.append(entry.token)
                token_logprobs.append(OpenAI.wireLogprob(entry.logprob))
                if alternatives > 0 {
                    var top: [String: Float] = [entry.token: OpenAI.wireLogprob(entry.logprob)]
                    for alternative in entry.top where top[alternative.token] == nil {
                        top[alternative.token] = OpenAI.wireLogprob(alternative.logprob)
                    }
                    top_logprobs?.append(top)
                }
                text_offset.append(offset)
                offset += entry.token.unicodeScalars.count
            }
        }

        /// Where the text after `entries` starts, given where theirs starts.
        static func offset(after entries: [TokenLogprobJSON], from offset: Int) -> Int {
            entries.reduce(offset) { $0 + $1.token.unicodeScalars.count }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tokens, forKey: .tokens)
            try c.encode(token_logprobs, forKey: .token_logprobs)
            try c.encode(top_logprobs, forKey: .top_logprobs)  // null for logprobs: 0, as vLLM sends it
            try c.encode(text_offset, forKey: .text_offset)
        }

        enum CodingKeys: String, CodingKey { case tokens, token_logprobs, top_logprobs, text_offset }
    }

    /// A log-probability as OpenAI writes it: `-inf` (a beam search token min-p had removed)
    /// becomes -9999.0, the value OpenAI documents for a very unlikely token, since JSON has no
    /// infinity and the `openai` client reads a number.
    static func wireLogprob(_ value: Float) -> Float {
        value.isFinite ? value : -9999
    }

    /// `chat.completion`.
    struct ChatCompletion: Encodable, Sendable {
        /// `content` is null when the answer calls tools; `tool_calls` is left out when it does not.
        struct Message: Encodable, Sendable, Equatable {
            var role: String
            var content: String?
            var tool_calls: [ToolCall]? = nil

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(role, forKey: .role)
                try c.encode(content, forKey: .content)
                try c.encodeIfPresent(tool_calls, forKey: .tool_calls)
            }

            enum CodingKeys: String, CodingKey { case role, content, tool_calls }
        }
        struct Choice: Encodable, Sendable {
            var index: Int
            var message: Message
            var logprobs: ChatLogprobs?
            var finish_reason: String
            /// vLLM's addition: the stop string or stop token id, null for eos and length.
            var stop_reason: StopReasonJSON? = nil

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(message, forKey: .message)
                try c.encode(logprobs, forKey: .logprobs)
                try c.encode(finish_reason, forKey: .finish_reason)
                try c.encode(stop_reason, forKey: .stop_reason)
            }

            enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason, stop_reason }
        }

        var id: String
        var object = "chat.completion"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage
    }

    /// `chat.completion.chunk`: one streamed piece.
    struct ChatChunk: Encodable, Sendable {
        struct Delta: Encodable, Sendable {
            var role: String?
            var content: String?
            var tool_calls: [ToolCallDelta]? = nil
        }
        /// A streamed tool call: its place in the message's `tool_calls` (`index`), which the
        /// `openai` client's accumulation keys on, with the whole call at once.
        struct ToolCallDelta: Encodable, Sendable {
            struct Function: Encodable, Sendable {
                var name: String
                var arguments: String
            }
            var index: Int
            var id: String
            var type = "function"
            var function: Function
        }
        struct Choice: Encodable, Sendable {
            var index: Int
            var delta: Delta
            var logprobs: ChatLogprobs?
            var finish_reason: String?
            /// vLLM's addition: the stop string or stop token id, null for eos and length.
            var stop_reason: StopReasonJSON? = nil

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(delta, forKey: .delta)
                try c.encode(logprobs, forKey: .logprobs)
                try c.encode(finish_reason, forKey: .finish_reason)
                try c.encode(stop_reason, forKey: .stop_reason)
            }

            enum CodingKeys: String, CodingKey { case index, delta, logprobs, finish_reason, stop_reason }
        }

        var id: String
        var object = "chat.completion.chunk"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage?
    }

    /// A chat choice's `logprobs`: `{"content": [{"token", "logprob", "bytes", "top_logprobs":
    /// [{"token", "logprob", "bytes"}]}]}`, OpenAI's shape (vLLM 0.5's `_create_chat_logprobs`;
    /// vLLM 0.4 wrote the completion shape here).
    ///
    /// `token` is the token's text in place (vLLM's `decoded_token`) and `bytes` its UTF-8, as
    /// vLLM writes them; `top_logprobs` holds the `top_logprobs` most likely tokens, most likely
    /// first (fewer when the filters left fewer), whether or not the chosen token is among them.
    struct ChatLogprobs: Encodable, Sendable {
        struct Entry: Encodable, Sendable {
            struct Top: Encodable, Sendable {
                var token: String
                var logprob: Float
                var bytes: [UInt8]
            }
            var token: String
            var logprob: Float
            var bytes: [UInt8]
            var top_logprobs: [Top]
        }
        var content: [Entry]

        init(_ logprobs: [TokenLogprobJSON]) {
            content = logprobs.map { entry in
                Entry(token: entry.token, logprob: OpenAI.wireLogprob(entry.logprob), bytes: Array(entry.token.utf8),
                      top_logprobs: entry.top.map {
                          Entry.Top(token: $0.token, logprob: OpenAI.wireLogprob($0.logprob), bytes: Array($0.token.utf8))
                      })
            }
        }
    }

    /// `GET /v1/models`.
    struct ModelList: Codable, Sendable, Equatable {
        struct Model: Codable, Sendable, Equatable {
            var id: String
            var object = "model"
            var created: Int
            var owned_by = "sparrow"
        }
        var object = "list"
        var data: [Model]
    }
}

extension OpenAI.Completion {
    /// The whole answer; `echo` puts the prompt before each text. The choices are numbered in
    /// their order, best first, as vLLM 0.4's `request_output_to_completion_response` numbers
    /// them (`index=len(choices)`), not by the engine's `CompletionOutput.index` that chat and
    /// streams carry. `alternatives` is the request's `logprobs`.
    init(id: String, created: Int, response: GenerateResponse, echoPrompt: String?, alternatives: Int) {
        let offset = echoPrompt?.unicodeScalars.count ?? 0
        self.init(
            id: id, created: created, model: response.model,
            choices: response.choices.enumerated().map { rank, choice in
                Choice(text: (echoPrompt ?? "") + choice.text, index: rank,
                       logprobs: choice.logprobs.map { OpenAI.CompletionLogprobs($0, offset: offset, alternatives: alternatives) },
                       finish_reason: choice.finishReason.rawValue, stop_reason: choice.stopReason)
            },
            usage: OpenAI.Usage(response.usage))
    }
}

extension OpenAI.ChatCompletion {
    /// The whole answer. Each choice keeps the engine's `CompletionOutput.index` (the candidate or
    /// beam it comes from, in 0 ..< best_of), as vLLM 0.4's `chat_completion_full_generator`
    /// writes `index=output.index`; the choices are listed best first.
    /// With `tools`, each choice's text is read as ``GenerateAPI/ToolCallFormat``'s JSON.
    init(id: String, created: Int, response: GenerateResponse, tools: Bool = false) {
        self.init(
            id: id, created: created, model: response.model,
            choices: response.choices.map { choice in
                let answer = OpenAI.ChatAnswer(text: choice.text, finish: choice.finishReason.rawValue, tools: tools)
                return Choice(index: choice.index,
                              message: .init(role: "assistant", content: answer.content, tool_calls: answer.toolCalls),
                              logprobs: choice.logprobs.map(OpenAI.ChatLogprobs.init),
                              finish_reason: answer.finish, stop_reason: choice.stopReason)
            },
            usage: OpenAI.Usage(response.usage))
    }
}

extension OpenAI {
    /// A chat choice's message and finish reason. Without tools, the text as it is. With tools,
    /// the output in ``GenerateAPI/ToolCallFormat``: calls become `tool_calls` (content `null`,
    /// `finish_reason` `tool_calls`, as OpenAI answers them), a plain answer becomes the content;
    /// an output that is not a whole answer (cut by `max_tokens`) stays the raw text with its
    /// finish reason.
    struct ChatAnswer: Sendable {
        var content: String?
        var toolCalls: [ToolCall]?
        var finish: String

        init(text: String, finish: String, tools: Bool) {
            (content, toolCalls, self.finish) = (text, nil, finish)
            guard tools, let answer = ToolCallFormat.parse(text) else { return }
            switch answer {
            case let .text(text):
                content = text
            case let .calls(calls):
                (content, toolCalls, self.finish) = (nil, calls, "tool_calls")
            }
        }
    }
}
