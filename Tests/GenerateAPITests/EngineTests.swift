import Foundation
import Sampling
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// The whole request path on the tiny random models of Fixtures/transformer (Hugging Face
/// directories, exact float32 numerics), against transformers' own greedy `generate`.
@Suite("Engine on tiny models")
struct EngineTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let model: String
            let prompt: String
            let prompt_ids: [Int]
            let max_tokens: Int
            let repetition_penalty: Double
            let token_ids: [Int]
            let finish_reason: String
        }
        let cases: [Case]
    }

    static let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                    defaultModel: "llama"))
    static let reference: [Reference.Case] = {
        let url = FixturePaths.url("generate/tiny-greedy.json")
        guard let data = try? Data(contentsOf: url), let r = try? JSONDecoder().decode(Reference.self, from: data) else { return [] }
        return r.cases
    }()

    @Test("greedy generation equals transformers' generate (prompt tokenization, BOS, repetition penalty, end tokens)")
    func greedyMatchesTransformers() async throws {
        try #require(Self.reference.count == 18)
        for c in Self.reference {
            let request = GenerateRequest(model: c.model, prompt: c.prompt, maxTokens: c.max_tokens,
                                          repetitionPenalty: c.repetition_penalty, temperature: 0)
            let response = try await Self.engine.generate(request: request)
            let choice = try #require(response.choices.first)
            #expect(response.usage.promptTokens == c.prompt_ids.count, "\(c.model) \(c.prompt)")
            #expect(choice.tokenIDs == c.token_ids, "\(c.model) \(c.prompt.debugDescription) r=\(c.repetition_penalty)")
            #expect(choice.finishReason.rawValue == c.finish_reason)
            #expect(response.usage.completionTokens == choice.tokenIDs.count)
        }
    }

    @Test("the streamed deltas concatenate to the text of the same request unstreamed")
    func streamEqualsGenerate() async throws {
        let request = GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: 24, temperature: 0.9, topP: 0.95, seed: 7)
        let whole = try await Self.engine.generate(request: request)
        var streamed = "", final: GenerateResponse?
        for try await event in Self.engine.stream(request: request) {
            switch event {
            case let .delta(index, text):
                #expect(index == 0)
                streamed += text
            case .logprobs: break
            case let .finished(r): final = r
            }
        }
        #expect(streamed == whole.choices[0].text)
        #expect(final?.choices.map(\.tokenIDs) == whole.choices.map(\.tokenIDs))
    }

    @Test("a seed reproduces its output; n and best_of return the best n by cumulative log-probability")
    func seedsAndBestOf() async throws {
        let request = GenerateRequest(model: "phi3", prompt: "The quick brown fox", maxTokens: 10, n: 2, bestOf: 4, seed: 11)
        let a = try await Self.engine.generate(request: request)
        let b = try await Self.engine.generate(request: request)
        #expect(a.choices == b.choices)
        #expect(a.choices.count == 2)
        #expect(a.choices[0].cumulativeLogprob >= a.choices[1].cumulativeLogprob)
        var other = request
        other.seed = 12
        #expect(try await Self.engine.generate(request: other).choices != a.choices)
    }

    @Test("beam search returns n finished beams, best first")
    func beamSearch() async throws {
        let request = GenerateRequest(model: "mistral", prompt: "1, 2, 3,", maxTokens: 6, n: 2, bestOf: 3,
                                      temperature: 0, useBeamSearch: true)
        let response = try await Self.engine.generate(request: request)
        #expect(response.choices.count == 2)
        #expect(response.choices.map(\.index) == [0, 1])
        #expect(response.choices[0].tokenIDs != response.choices[1].tokenIDs)
    }

    @Test("requests that cannot run fail with the field at fault")
    func errors() async throws {
        let tooLong = String(repeating: "word ", count: 200)  // > 128 tokens: the tiny models' context
        let cases: [(GenerateRequest, String)] = [
            (GenerateRequest(model: "no-such-model", prompt: "x"), "model"),
            (GenerateRequest(model: "llama", prompt: tooLong), "prompt"),
            (GenerateRequest(model: "llama", prompt: "x", maxTokens: 1_000_000_000_000), "max_tokens"),
            (GenerateRequest(model: "llama", messages: [ChatMessage(role: "user", content: "x")]), "messages"),
        ]
        for (request, field) in cases {
            do {
                _ = try await Self.engine.generate(request: request)
                Issue.record("\(field): no error")
            } catch let error as GenerateError {
                #expect(error.field == field, "\(error)")
            }
        }
        do {
            _ = try await Self.engine.generate(request: GenerateRequest(model: "no-such-model", prompt: "x"))
        } catch let GenerateError.unknownModel(_, available) {
            #expect(available == ["llama", "llama-f32", "llama-q8_0", "mistral", "mistral-f32", "mistral-q8_0",
                                  "phi3", "phi3-f32", "phi3-q8_0"])
        }
    }

    @Test("messages go through the model's template; a template that writes BOS gets no second one")
    func conversationThroughTemplate() async throws {
        // The tiny Llama directory plus a chat_template.jinja that writes BOS, a space and the contents.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-chat-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: FixturePaths.url("transformer/llama"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "{{ bos_token }}{% for m in messages %} {{ m['content'] }}{% endfor %}"
            .write(to: dir.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        let engine = Engine(configuration: .init(registry: ModelRegistry(), defaultModel: dir.path))
        let conversation = [ChatMessage(role: "user", content: "Hello world")]
        #expect(try await engine.renderPrompt(messages: conversation) == "<s> Hello world")
        // Rendered "<s> Hello world" tokenizes as transformers tokenizes "Hello world": one BOS, and
        // the space after it becomes the "▁" that this checkpoint's Metaspace pre-tokenizer
        // (prepend_scheme "first") puts only at the start of a text. So the greedy continuation is
        // the reference's.
        let c = try #require(Self.reference.first { $0.model == "llama" && $0.prompt == "Hello world" && $0.repetition_penalty == 1 })
        let response = try await engine.generate(request: GenerateRequest(messages: conversation, maxTokens: c.max_tokens, temperature: 0))
        #expect(response.usage.promptTokens == c.prompt_ids.count)
        #expect(response.choices.first?.tokenIDs == c.token_ids)
        // A template that raises is an error carrying its message.
        try "{{ raise_exception('Only user and assistant roles are supported!') }}"
            .write(to: dir.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        let raising = Engine(configuration: .init(registry: ModelRegistry(), defaultModel: dir.path))
        await #expect(throws: GenerateError.templateFailed(model: dir.path, reason: "Only user and assistant roles are supported!")) {
            try await raising.generate(request: GenerateRequest(messages: conversation))
        }
    }

    @Test("cancelling the task stops generation with CancellationError")
    func cancellation() async throws {
        let request = GenerateRequest(model: "llama", prompt: "Hello", maxTokens: 100, temperature: 0)
        let task = Task { try await Self.engine.generate(request: request) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
