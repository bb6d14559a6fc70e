import GenerateAPI
import Hummingbird

/// How one endpoint writes an answer: the documented response, OpenAI's `text_completion`, or
/// OpenAI's `chat.completion`; whole, or as Server-Sent Events.
///
/// Event streams (every event is `data: <json>\n\n`; every stream ends with `data: [DONE]\n\n`):
/// - `/v1/generate`: `{"index", "text"}` per delta, then the whole ``GenerateAPI/GenerateResponse``.
/// - `/v1/completions`: `text_completion` chunks with one choice each (`"finish_reason": null`),
///   then one chunk per choice with empty text and its finish reason; choices carry the engine's
///   `CompletionOutput.index`, as vLLM 0.4's `completion_stream_generator` does. A request vLLM
///   does not stream (`best_of` other than `n`, or beam search) gets, as from vLLM's
///   `fake_stream_generator`, the whole `text_completion` as one event (its choices numbered best
///   first, with `usage`).
/// - `/v1/chat/completions`: `chat.completion.chunk`s: first `{"role": "assistant", "content": ""}`
///   per choice, then `{"content"}` deltas, then an empty delta with the finish reason per choice.
///   A request with tools holds its text back: at the end each choice gets one delta with
///   `tool_calls` (each call whole: `index`, `id`, `type`, `function` with `name` and all of
///   `arguments`) or with the plain answer's `content`, then its finish reason (`tool_calls` for
///   calls).
/// - OpenAI streams with `stream_options.include_usage` get a last chunk with `usage` and no choices.
/// - An error after the stream has started is one `{"error": {...}}` event before `[DONE]`.
/// - With `logprobs`, each OpenAI chunk of text carries the entries of the tokens generated since
///   the previous chunk (a step whose tokens complete no text yet gets a chunk of its own with
///   empty text, as vLLM sends one per step); the chunks' entries concatenate to the whole
///   answer's, `text_offset` included. Other chunks carry `"logprobs": null`.
struct ResponseShape: Sendable {
    enum Format: Sendable {
        case generate
        /// `echo`: the prompt, sent before each choice's text.
        case completion(echo: String?)
        case chat
    }

    let format: Format
    /// OpenAI's `id` (`cmpl-…` or `chatcmpl-…`); unused by the documented format, whose response
    /// carries the engine's id.
    let id: String
    /// Seconds since 1970 when the request arrived.
    let created: Int
    /// The model's name as responses report it.
    let model: String
    /// How many choices the request asked for.
    let n: Int
    let includeUsage: Bool
    /// Whether a completion stream sends text as it is generated: vLLM 0.4's
    /// `stream and (best_of is None or n == best_of) and not use_beam_search`. Otherwise it sends
    /// the whole answer as one event.
    var streamsCompletion = true
    /// The request's `logprobs` (chat: `top_logprobs`), for the completion shape's `top_logprobs`.
    var alternatives = 0
    /// Chat: the answer is in ``GenerateAPI/ToolCallFormat`` (the request offers tools), so the
    /// text is held back and sent, parsed, with the finish reason.
    var tools = false

    /// Log-probability entries by choice index that wait for the delta holding their text.
    private var pendingLogprobs: [Int: [TokenLogprobJSON]] = [:]
    /// Completions: where the next token's text starts in each choice's text (code points).
    private var textOffsets: [Int: Int] = [:]

    init(format: Format, id: String, created: Int, model: String, n: Int, includeUsage: Bool,
         streamsCompletion: Bool = true, alternatives: Int = 0, tools: Bool = false) {
        self.format = format
        self.id = id
        self.created = created
        self.model = model
        self.n = n
        self.includeUsage = includeUsage
        self.streamsCompletion = streamsCompletion
        self.alternatives = alternatives
        self.tools = tools
    }

    /// Whether vLLM 0.4's completion server streams `request` token by token.
    static func streamsCompletion(_ request: GenerateRequest) -> Bool {
        (request.bestOf == nil || request.bestOf == request.n) && !request.useBeamSearch
    }

    /// The whole answer.
    func whole(_ response: GenerateResponse) -> Response {
        switch format {
        case .generate:
            return JSONResponse.make(response)
        case let .completion(echo):
            return JSONResponse.make(OpenAI.Completion(id: id, created: created, response: response, echoPrompt: echo,
                                                       alternatives: alternatives))
        case .chat:
            return JSONResponse.make(OpenAI.ChatCompletion(id: id, created: created, response: response, tools: tools))
        }
    }

    /// Events before the first delta.
    func start() -> [ByteBuffer] {
        switch format {
        case .completion where !streamsCompletion:
            return []
        case .generate, .completion(echo: nil):
            return []
        case let .completion(echo?):
            return (0..<n).map { completionChunk(text: echo, index: $0, finish: nil) }
        case .chat:
            return (0..<n).map { chatChunk(index: $0, delta: .init(role: "assistant", content: ""), finish: nil) }
        }
    }

    /// The events for one engine event.
    mutating func events(for event: GenerateStreamEvent) -> [ByteBuffer] {
        if case let .completion(echo) = format, !streamsCompletion {
            guard case let .finished(response) = event else { return [] }
            return [JSONResponse.event(OpenAI.Completion(id: id, created: created, response: response, echoPrompt: echo,
                                                         alternatives: alternatives))]
        }
        switch (event, format) {
        case (.logprobs, .generate):
            return []  // the documented stream's last event, the whole response, holds them
        case let (.logprobs(index, entries), _):
            // The previous step's entries still waiting completed no text: they go out alone.
            let waiting = pendingLogprobs[index].map { textChunk(index: index, text: "", logprobs: $0) }
            pendingLogprobs[index] = entries
            return waiting.map { [$0] } ?? []
        case let (.delta(index, text), .generate):
            return [JSONResponse.event(Delta(index: index, text: text))]
        case let (.delta(index, _), .chat) where tools:
            // The JSON is parsed once whole; only the tokens' log-probabilities go out now.
            return pendingLogprobs.removeValue(forKey: index).map { [textChunk(index: index, text: "", logprobs: $0)] } ?? []
        case let (.delta(index, text), _):
            return [textChunk(index: index, text: text, logprobs: pendingLogprobs.removeValue(forKey: index))]
        case let (.finished(response), .generate):
            return [JSONResponse.event(response)]
        case let (.finished(response), .completion):
            return flushLogprobs() + response.choices.map {
                completionChunk(text: "", index: $0.index, finish: $0.finishReason.rawValue, stopReason: $0.stopReason)
            }
                + usageChunk(response)
        case let (.finished(response), .chat) where tools:
            return flushLogprobs() + response.choices.flatMap { choice in
                let answer = OpenAI.ChatAnswer(text: choice.text, finish: choice.finishReason.rawValue, tools: true)
                let calls = answer.toolCalls?.enumerated().map { i, call in
                    OpenAI.ChatChunk.ToolCallDelta(index: i, id: call.id, function: .init(name: call.name, arguments: call.arguments))
                }
                return [
                    chatChunk(index: choice.index, delta: .init(content: answer.content, tool_calls: calls), finish: nil),
                    chatChunk(index: choice.index, delta: .init(), finish: answer.finish, stopReason: choice.stopReason),
                ]
            }
                + usageChunk(response)
        case let (.finished(response), .chat):
            return flushLogprobs() + response.choices.map {
                chatChunk(index: $0.index, delta: .init(), finish: $0.finishReason.rawValue, stopReason: $0.stopReason)
            }
                + usageChunk(response)
        }
    }

    /// A chunk of choice `index`'s text with the log-probabilities of its tokens, if any.
    private mutating func textChunk(index: Int, text: String, logprobs: [TokenLogprobJSON]?) -> ByteBuffer {
        switch format {
        case let .completion(echo):
            let start = textOffsets[index] ?? echo?.unicodeScalars.count ?? 0
            let chunk = logprobs.map { OpenAI.CompletionLogprobs($0, offset: start, alternatives: alternatives) }
            if let logprobs { textOffsets[index] = OpenAI.CompletionLogprobs.offset(after: logprobs, from: start) }
            return completionChunk(text: text, index: index, finish: nil, logprobs: chunk)
        case .chat, .generate:
            return chatChunk(index: index, delta: .init(role: nil, content: text), finish: nil,
                             logprobs: logprobs.map(OpenAI.ChatLogprobs.init))
        }
    }

    /// Chunks for every choice's entries still waiting (the last tokens' text never came, as for
    /// an end token), in index order.
    private mutating func flushLogprobs() -> [ByteBuffer] {
        let indices = pendingLogprobs.keys.sorted()
        var chunks: [ByteBuffer] = []
        for index in indices {
            if let entries = pendingLogprobs.removeValue(forKey: index) {
                chunks.append(textChunk(index: index, text: "", logprobs: entries))
            }
        }
        return chunks
    }

    /// An error after the stream has started.
    func failure(_ error: APIError) -> ByteBuffer {
        JSONResponse.event(error.body)
    }

    /// `{"index", "text"}`: one delta of the documented stream.
    struct Delta: Codable, Sendable, Equatable {
        var index: Int
        var text: String
    }

    private func completionChunk(
        text: String, index: Int, finish: String?, stopReason: StopReasonJSON? = nil,
        logprobs: OpenAI.CompletionLogprobs? = nil
    ) -> ByteBuffer {
        JSONResponse.event(OpenAI.Completion(
            id: id, created: created, model: model,
            choices: [.init(text: text, index: index, logprobs: logprobs, finish_reason: finish, stop_reason: stopReason)],
            usage: nil))
    }

    private func chatChunk(
        index: Int, delta: OpenAI.ChatChunk.Delta, finish: String?, stopReason: StopReasonJSON? = nil,
        logprobs: OpenAI.ChatLogprobs? = nil
    ) -> ByteBuffer {
        JSONResponse.event(OpenAI.ChatChunk(
            id: id, created: created, model: model,
            choices: [.init(index: index, delta: delta, logprobs: logprobs, finish_reason: finish, stop_reason: stopReason)],
            usage: nil))
    }

    private func usageChunk(_ response: GenerateResponse) -> [ByteBuffer] {
        guard includeUsage else { return [] }
        switch format {
        case .generate:
            return []
        case .completion:
            return [JSONResponse.event(OpenAI.Completion(
                id: id, created: created, model: model, choices: [], usage: .init(response.usage)))]
        case .chat:
            return [JSONResponse.event(OpenAI.ChatChunk(
                id: id, created: created, model: model, choices: [], usage: .init(response.usage)))]
        }
    }
}

/// The engine's event stream, read first by the request handler (whether the first event is an
/// error decides the status code) and then by the response body writer.
///
/// `@unchecked Sendable`: the iterator is not `Sendable`, but the two readers never overlap — the
/// body writer runs only after the handler has returned the response. ``close()`` drops the
/// iterator, which ends the engine's stream and so cancels its generation.
final class EventSource: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<GenerateStreamEvent, any Error>.AsyncIterator?

    init(_ stream: AsyncThrowingStream<GenerateStreamEvent, any Error>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async throws -> GenerateStreamEvent? {
        guard var current = iterator else { return nil }
        let event = try await current.next()
        iterator = current
        return event
    }

    func close() {
        iterator = nil
    }
}

extension ResponseShape.Format {
    var isChat: Bool {
        if case .chat = self { return true }
        return false
    }
}
