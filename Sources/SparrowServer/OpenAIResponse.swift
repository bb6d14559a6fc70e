import GenerateAPI

/// OpenAI's response objects, built from a ``GenerateAPI/GenerateResponse``.
///
/// Log-probabilities carry token ids, not token strings (the engine reports ids): completions get
/// `{"token_ids", "token_logprobs", "top_logprobs": [{"<id>": logprob}]}` (no `tokens`) and chat
/// gets `{"content": [{"token": "<id>", "token_id", "logprob", "top_logprobs": [...]}]}`.
/// Choices carry vLLM's `stop_reason` beside `finish_reason` (vLLM 0.4's OpenAI server does),
/// and their log-probabilities cover every id of `token_ids`, the end token included.
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

    struct CompletionLogprobs: Encodable, Sendable {
        var token_ids: [Int]
        var token_logprobs: [Float]
        var top_logprobs: [[String: Float]]

        init(_ logprobs: [TokenLogprobJSON]) {
            token_ids = logprobs.map(\.tokenID)
            token_logprobs = logprobs.map(\.logprob)
            top_logprobs = logprobs.map { entry in
                Dictionary(entry.top.map { (String($0.tokenID), $0.logprob) }, uniquingKeysWith: { first, _ in first })
            }
        }
    }

    /// `chat.completion`.
    struct ChatCompletion: Encodable, Sendable {
        struct Message: Codable, Sendable, Equatable {
            var role: String
            var content: String
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

    struct ChatLogprobs: Encodable, Sendable {
        struct Entry: Encodable, Sendable {
            struct Top: Encodable, Sendable {
                var token: String
                var token_id: Int
                var logprob: Float
            }
            var token: String
            var token_id: Int
            var logprob: Float
            var top_logprobs: [Top]
        }
        var content: [Entry]

        init(_ logprobs: [TokenLogprobJSON]) {
            content = logprobs.map { entry in
                Entry(token: String(entry.tokenID), token_id: entry.tokenID, logprob: entry.logprob,
                      top_logprobs: entry.top.map { Entry.Top(token: String($0.tokenID), token_id: $0.tokenID, logprob: $0.logprob) })
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
    /// streams carry.
    init(id: String, created: Int, response: GenerateResponse, echoPrompt: String?) {
        self.init(
            id: id, created: created, model: response.model,
            choices: response.choices.enumerated().map { rank, choice in
                Choice(text: (echoPrompt ?? "") + choice.text, index: rank,
                       logprobs: choice.logprobs.map(OpenAI.CompletionLogprobs.init),
                       finish_reason: choice.finishReason.rawValue, stop_reason: choice.stopReason)
            },
            usage: OpenAI.Usage(response.usage))
    }
}

extension OpenAI.ChatCompletion {
    /// The whole answer. Each choice keeps the engine's `CompletionOutput.index` (the candidate or
    /// beam it comes from, in 0 ..< best_of), as vLLM 0.4's `chat_completion_full_generator`
    /// writes `index=output.index`; the choices are listed best first.
    init(id: String, created: Int, response: GenerateResponse) {
        self.init(
            id: id, created: created, model: response.model,
            choices: response.choices.map { choice in
                Choice(index: choice.index, message: .init(role: "assistant", content: choice.text),
                       logprobs: choice.logprobs.map(OpenAI.ChatLogprobs.init),
                       finish_reason: choice.finishReason.rawValue, stop_reason: choice.stopReason)
            },
            usage: OpenAI.Usage(response.usage))
    }
}
