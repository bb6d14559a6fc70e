import Foundation
import GenerateAPI
import Hummingbird
import NIOCore

extension SparrowServer {
    /// `GET /v1/models`: the registry's models and the default one, in OpenAI's list shape.
    func listModels() async -> Response {
        let names = await backend.modelNames()
        return JSONResponse.make(OpenAI.ModelList(data: names.map { .init(id: $0, created: startTime) }))
    }

    /// `POST /v1/generate`: the documented request and response.
    func documentedGenerate(_ request: Request, context: ServerRequestContext) async -> Response {
        do {
            let body = try await readBody(request)
            var generate: GenerateRequest
            do {
                generate = try JSONDecoder().decode(GenerateRequest.self, from: body)
                generate.readConstraintInOrder(fromBody: body)
            } catch let error as GenerateError {
                throw APIError(error)
            } catch {
                throw APIError.invalid("the body is not a JSON object: \(Self.describe(decoding: error))", param: nil)
            }
            return try await answer(generate, format: .generate, idPrefix: "gen-", includeUsage: false, context: context)
        } catch {
            return APIError(any: error).response
        }
    }

    /// `POST /v1/completions` and `POST /v1/chat/completions`.
    func openAI(_ request: Request, kind: OpenAIRequest.Kind, context: ServerRequestContext) async -> Response {
        do {
            let openAI = try OpenAIRequest(kind: kind, body: try await readBody(request))
            switch kind {
            case .completion:
                let echo = openAI.echo ? openAI.generate.prompt ?? "" : nil
                return try await answer(openAI.generate, format: .completion(echo: echo), idPrefix: "cmpl-",
                                        includeUsage: openAI.includeUsage, context: context)
            case .chat:
                return try await answer(openAI.generate, format: .chat, idPrefix: "chatcmpl-",
                                        includeUsage: openAI.includeUsage, context: context)
            }
        } catch {
            return APIError(any: error).response
        }
    }

    /// The body, up to ``Configuration/maxBodyBytes``.
    /// - Throws: ``APIError`` 413 for a larger body.
    func readBody(_ request: Request) async throws -> Data {
        let limit = configuration.maxBodyBytes
        let tooLarge = APIError(status: .contentTooLarge, message: "the request body exceeds \(limit) bytes",
                                type: "invalid_request_error", code: "body_too_large")
        // A declared length over the limit is refused before a byte of it is read.
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch let error as ConnectionLimitError {
            throw APIError(status: .requestTimeout, message: error.description, type: "invalid_request_error",
                           code: "body_timeout")
        } catch {
            throw APIError.invalid("cannot read the request body: \(error)", param: nil)
        }
    }

    /// Admits `generate` (validation, model lookup, a slot in the server's queue when the backend
    /// names one), then answers it whole or as a stream. A client that hangs up while the request
    /// waits for a slot (the server's or the engine's), its whole answer or its first token cancels
    /// it (``ConnectionWatch``); once streaming, a failed write does.
    private func answer(_ generate: GenerateRequest, format: ResponseShape.Format, idPrefix: String, includeUsage: Bool,
                        context: ServerRequestContext) async throws -> Response
    {
        let channel = context.channel, record = context.record, metrics = metrics
        let started = ContinuousClock.now
        let created = Int(Date().timeIntervalSince1970)
        let admission = try await backend.admit(generate)
        record.update { $0.model = admission.modelName }
        let permit: Permit?
        if let key = admission.queueKey {
            do {
                let limiter = limiter
                permit = try await ConnectionWatch.untilClientGone(channel) { try await limiter.acquire(key) }
            } catch let full as ModelLimiter.QueueFull {
                throw APIError.queueFull(model: admission.modelName,
                                         "\(full.running) running and \(Self.requests(full.waiting)) waiting")
            }
        } else {
            permit = nil  // a mock response, or a backend (the engine) that queues its requests itself
        }
        let shape = ResponseShape(format: format, id: idPrefix + randomHex(24), created: created,
                                  model: admission.modelName, n: generate.n, includeUsage: includeUsage,
                                  streamsCompletion: ResponseShape.streamsCompletion(generate),
                                  alternatives: generate.logprobs ?? 0,
                                  tools: format.isChat && generate.usesTools)
        guard generate.stream else {
            do {
                let backend = backend
                let response = try await ConnectionWatch.untilClientGone(channel) { try await backend.generate(request: generate) }
                await permit?.release()
                record.update {
                    $0.promptTokens = response.usage.promptTokens
                    $0.generatedTokens = response.usage.completionTokens
                }
                metrics.tokens(prompt: response.usage.promptTokens, generated: response.usage.completionTokens)
                return shape.whole(response)
            } catch {
                await permit?.release()
                throw Self.naming(admission.modelName, in: error)
            }
        }
        let source = EventSource(backend.stream(request: generate))
        // The first event comes after the prompt has been processed: an error before it (a prompt
        // too long, a chat template that refuses the conversation) still gets its status code.
        let first: GenerateStreamEvent?
        do {
            first = try await ConnectionWatch.untilClientGone(channel) { try await source.next() }
        } catch {
            source.close()
            await permit?.release()
            throw Self.naming(admission.modelName, in: error)
        }
        return Response(status: .ok, headers: JSONResponse.eventStreamHeaders, body: ResponseBody { writer in
            do {
                try await Self.writeStream(first: first, source: source, shape: shape, to: &writer,
                                           timing: StreamTiming(started: started, record: record, metrics: metrics))
            } catch {
                // The client went away: dropping the stream cancels the generation.
                source.close()
                await permit?.release()
                throw error
            }
            source.close()
            await permit?.release()
        })
    }

    /// Writes the events; an engine error becomes an error event. Throws only when a write fails.
    /// Each delta goes out at once; the closing events go out with `[DONE]` in one write, so that
    /// a stream costs one write per token plus one.
    private static func writeStream(first: GenerateStreamEvent?, source: EventSource, shape: ResponseShape,
                                    to writer: inout any ResponseBodyWriter, timing: StreamTiming) async throws {
        var out = ByteBuffer()
        var shape = shape
        for buffer in shape.start() { out.writeImmutableBuffer(buffer) }
        var event = first
        var timing = timing
        while let current = event {
            for buffer in shape.events(for: current) { out.writeImmutableBuffer(buffer) }
            switch current {
            case .delta, .logprobs:
                if case .delta = current { timing.delta() }
                // A completion vLLM would not stream has nothing to send until the end; entries
                // wait for the text of their tokens.
                if out.readableBytes > 0 {
                    try await writer.write(out)
                    out.clear()
                }
            case let .finished(response):
                timing.finished(response)
            }
            do {
                event = try await source.next()
            } catch {
                out.writeImmutableBuffer(shape.failure(APIError(any: error)))
                break
            }
        }
        out.writeImmutableBuffer(JSONResponse.done)
        try await writer.write(out)
        try await writer.finish(nil)
    }

    /// `error`, with the engine's full queue told as the 429 that names the model (the engine's
    /// own message does not know the name the client used).
    private static func naming(_ model: String, in error: any Error) -> any Error {
        guard case let GenerateError.queueFull(waiting) = error else { return error }
        return APIError.queueFull(model: model, "its batch is full and \(requests(waiting)) waiting")
    }

    /// "1 request", "3 requests".
    static func requests(_ count: Int) -> String {
        count == 1 ? "1 request" : "\(count) requests"
    }

    /// A short reason for a body that is not JSON (Foundation's messages name internal types).
    static func describe(decoding error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch: return "expected an object"
        case DecodingError.valueNotFound: return "expected an object, not null"
        case let DecodingError.dataCorrupted(context): return context.debugDescription
        case let DecodingError.keyNotFound(key, _): return "missing field \(key.stringValue)"
        default: return "invalid JSON"
        }
    }

}

/// A stream's token timing and counts, for the metrics and the request's log line.
struct StreamTiming {
    let started: ContinuousClock.Instant
    let record: RequestRecord
    let metrics: ServerMetrics
    private var last: ContinuousClock.Instant?

    init(started: ContinuousClock.Instant, record: RequestRecord, metrics: ServerMetrics) {
        self.started = started
        self.record = record
        self.metrics = metrics
    }

    mutating func delta() {
        let now = ContinuousClock.now
        if let last {
            metrics.betweenTokens(now - last)
        } else {
            metrics.firstToken(after: now - started)
            record.update { $0.firstToken = now - started }
        }
        last = now
    }

    func finished(_ response: GenerateResponse) {
        record.update {
            $0.promptTokens = response.usage.promptTokens
            $0.generatedTokens = response.usage.completionTokens
        }
        metrics.tokens(prompt: response.usage.promptTokens, generated: response.usage.completionTokens)
    }
}
