import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// vLLM 0.4.x's OpenAI server over HTTP, on the tiny random Llama of `Fixtures/transformer`
/// (context 128) given a chat template. Each test names the vLLM code its expected values come from.
@Suite("vLLM 0.4's OpenAI server")
struct OpenAIFidelityTests {
    /// The tiny model's context (`max_position_embeddings`).
    static let context = 128

    /// An engine serving `llama`: the fixture's files, linked into a temporary directory beside a
    /// chat template that joins the contents (the fixture has none, and chat needs one); its
    /// scheduler runs within `batching`.
    static func chatEngine(batching: BatchingLimits = .init()) throws -> (Engine, URL) {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/transformer/llama")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-openai-\(UUID().uuidString)")
        let directory = root.appendingPathComponent("llama")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent(file),
                                                       withDestinationURL: fixture.appendingPathComponent(file))
        }
        try Data("{% for m in messages %}{{ m['content'] }}\n{% endfor %}".utf8)
            .write(to: directory.appendingPathComponent("chat_template.jinja"))
        let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [root.path], allowsPaths: false),
                                                 defaultModel: "llama", batching: batching))
        return (engine, root)
    }

    /// Runs `body` against a server over ``chatEngine()``.
    static func withServer(_ body: @Sendable (TestServer) async throws -> Void) async throws {
        let (engine, root) = try chatEngine()
        defer { try? FileManager.default.removeItem(at: root) }
        try await TestServer.with(backend: engine, body)
    }

    static let messages = #""messages": [{"role": "user", "content": "Hello world, tell me more."}]"#

    /// `(status, usage.prompt_tokens, usage.completion_tokens, choices[0].finish_reason, body)`.
    static func post(_ server: TestServer, _ path: String, _ body: String) async throws
        -> (status: Int, prompt: Int?, completion: Int?, finish: String?, text: String)
    {
        let r = try await server.client.post(path, body)
        guard r.status == 200 else { return (r.status, nil, nil, nil, r.text) }
        let json = try r.json()
        let usage = json["usage"] as? [String: Any]
        let choice = (json["choices"] as? [[String: Any]])?.first
        return (r.status, usage?["prompt_tokens"] as? Int, usage?["completion_tokens"] as? Int,
                choice?["finish_reason"] as? String, r.text)
    }

    @Test("protocol.py's defaults: completions max_tokens 16 with null as None; chat None when omitted or null")
    func maxTokensDecoding() throws {
        func decoded(_ kind: OpenAIRequest.Kind, _ body: String) throws -> (Int?, GenerateRequest.UnlimitedMaxTokens) {
            let request = try OpenAIRequest(kind: kind, body: Data(body.utf8)).generate
            return (request.maxTokens, request.unlimitedMaxTokens)
        }
        // CompletionRequest.max_tokens: Optional[int] = 16; to_sampling_params passes None on.
        #expect(try decoded(.completion, #"{"prompt": "x"}"#) == (16, .pastContext))
        #expect(try decoded(.completion, #"{"prompt": "x", "max_tokens": null}"#) == (nil, .pastContext))
        #expect(try decoded(.completion, #"{"prompt": "x", "max_tokens": 5}"#) == (5, .pastContext))
        // ChatCompletionRequest.max_tokens: Optional[int] = None, resolved by the server.
        let chat = #"{"messages": [{"role": "user", "content": "x"}]"#
        #expect(try decoded(.chat, chat + "}") == (nil, .contextRemainder))
        #expect(try decoded(.chat, chat + #", "max_tokens": null}"#) == (nil, .contextRemainder))
        #expect(try decoded(.chat, chat + #", "max_tokens": 5}"#) == (5, .pastContext))
        #expect(try decoded(.chat, chat + #", "max_completion_tokens": 7}"#) == (7, .pastContext))
    }

    @Test("_validate_prompt_and_tokenize: max_tokens = context_len - token_num, resolved before (chat) or after (completions) to_sampling_params")
    func maxTokensToTheContext() async throws {
        try await Self.withServer { server in
            // ignore_eos and temperature 0: every output runs to its limit.
            let settings = #""temperature": 0, "ignore_eos": true"#

            // serving_chat.py: token_num = P, max_tokens = 128 - P, whether omitted or null.
            for maxTokens in ["", #", "max_tokens": null"#] {
                let r = try await Self.post(server, "v1/chat/completions", "{\(Self.messages), \(settings)\(maxTokens)}")
                let prompt = try #require(r.prompt, "\(r.text)")
                #expect(r.completion == Self.context - prompt, "\(maxTokens): \(r.text)")
                #expect(r.finish == "length")
            }
            // serving_completion.py: SamplingParams(max_tokens=None) reaches the engine, whose
            // StopChecker ends the output once prompt + output exceed max_model_len: 128 - P + 1.
            let unlimited = try await Self.post(server, "v1/completions", #"{"prompt": "Hello world", "max_tokens": null, \#(settings)}"#)
            let prompt = try #require(unlimited.prompt, "\(unlimited.text)")
            #expect(unlimited.completion == Self.context - prompt + 1, "\(unlimited.text)")
            #expect(unlimited.finish == "length")
            let omitted = try await Self.post(server, "v1/completions", #"{"prompt": "Hello world", \#(settings)}"#)
            #expect(omitted.completion == 16, "\(omitted.text)")

            // A prompt that fills the context: None still gives the engine's one token.
            let ids = (0..<Self.context).map { String(3 + $0 % 300) }.joined(separator: ", ")
            let full = try await Self.post(server, "v1/completions", #"{"prompt": [\#(ids)], "max_tokens": null, \#(settings)}"#)
            #expect(full.prompt == Self.context && full.completion == 1 && full.finish == "length", "\(full.text)")
        }
    }

    @Test("_validate_prompt_and_tokenize: token_num + max_tokens > max_model_len is a 400 with vLLM's message")
    func contextExceeded() async throws {
        try await Self.withServer { server in
            let probe = try await Self.post(server, "v1/chat/completions", "{\(Self.messages), \"max_tokens\": 1}")
            let chatPrompt = try #require(probe.prompt, "\(probe.text)")
            let completionPrompt = try #require(
                try await Self.post(server, "v1/completions", #"{"prompt": "Hello world", "max_tokens": 1}"#).prompt)

            func expectRefused(_ path: String, _ body: String, prompt: Int, maxTokens: Int) async throws {
                let r = try await server.client.post(path, body)
                let error = try ErrorTests.expectError(r, status: 400, param: "max_tokens")
                #expect(error["message"] as? String == "This model's maximum context length is 128 tokens. However, you "
                    + "requested \(prompt + maxTokens) tokens (\(prompt) in the messages, \(maxTokens) in the completion). "
                    + "Please reduce the length of the messages or completion.")
            }
            let chatMost = Self.context - chatPrompt
            let fits = try await Self.post(server, "v1/chat/completions", "{\(Self.messages), \"max_tokens\": \(chatMost)}")
            #expect(fits.status == 200, "\(fits.text)")
            try await expectRefused("v1/chat/completions", "{\(Self.messages), \"max_tokens\": \(chatMost + 1)}",
                                    prompt: chatPrompt, maxTokens: chatMost + 1)
            try await expectRefused("v1/completions", #"{"prompt": "Hello world", "max_tokens": 200}"#,
                                    prompt: completionPrompt, maxTokens: 200)
        }
    }

    // MARK: choices' index

    /// `choices` of a JSON answer.
    static func choices(_ r: HTTPClient.Result) throws -> [[String: Any]] {
        #expect(r.status == 200, "\(r.text)")
        return try #require(try r.json()["choices"] as? [[String: Any]], "\(r.text)")
    }

    /// The engine's answer (vLLM's RequestOutput) to `extra` on the completion prompt: `(index, text)`, best first.
    static func engineOutputs(_ server: TestServer, _ extra: String) async throws -> [(index: Int, text: String)] {
        let r = try await server.client.post("v1/generate", #"{"prompt": "Hello world", \#(extra)}"#)
        return try choices(r).map { ($0["index"] as? Int ?? -1, $0["text"] as? String ?? "") }
    }

    @Test("request_output_to_completion_response numbers choices by rank (index=len(choices)); streams and chat keep output.index")
    func choiceIndices() async throws {
        try await Self.withServer { server in
            // Sampled, best_of == n: RequestOutput.from_seq_group sorts the outputs by cumulative
            // logprob, each with CompletionOutput.index = seqs.index(seq). This seed ranks them out
            // of candidate order, so renumbering is visible.
            let sampled = #""n": 3, "temperature": 1, "seed": 5, "max_tokens": 6"#
            let engine = try await Self.engineOutputs(server, sampled)
            #expect(engine.map(\.index) != [0, 1, 2] && Set(engine.map(\.index)) == [0, 1, 2], "\(engine)")

            // Non-streamed completions: the engine's order, numbered 0, 1, 2.
            let whole = try Self.choices(try await server.client.post("v1/completions", #"{"prompt": "Hello world", \#(sampled)}"#))
            #expect(whole.map { $0["index"] as? Int } == [0, 1, 2])
            #expect(whole.map { $0["text"] as? String } == engine.map(\.text))

            // Streamed completions (completion_stream_generator): i = output.index, so each
            // index's deltas make up the text of the engine's output with that index.
            let stream = try await server.client.post("v1/completions", #"{"prompt": "Hello world", "stream": true, \#(sampled)}"#)
            var streamed: [Int: String] = [:]
            for event in try stream.jsonEvents() {
                for choice in event["choices"] as? [[String: Any]] ?? [] {
                    streamed[choice["index"] as? Int ?? -1, default: ""] += choice["text"] as? String ?? ""
                }
            }
            #expect(streamed == Dictionary(uniqueKeysWithValues: engine.map { ($0.index, $0.text) }))

            // Chat (chat_completion_full_generator): index=output.index, in the engine's order.
            let chatEngine = try await server.client.post("v1/generate", "{\(Self.messages), \(sampled)}")
            let chatExpected = try Self.choices(chatEngine).map { $0["index"] as? Int }
            let chat = try Self.choices(try await server.client.post("v1/chat/completions", "{\(Self.messages), \(sampled)}"))
            #expect(chat.map { $0["index"] as? Int } == chatExpected)

            // best_of > n: the n best of best_of candidates keep their candidate's index on the
            // engine and in chat; completions renumber them.
            let best = #""n": 2, "best_of": 4, "temperature": 1, "seed": 5, "max_tokens": 6"#
            let bestEngine = try await Self.engineOutputs(server, best)
            #expect(bestEngine.count == 2 && bestEngine.allSatisfy { (0 ..< 4).contains($0.index) })
            #expect(bestEngine.map(\.index) != [0, 1], "\(bestEngine)")
            let bestWhole = try Self.choices(try await server.client.post("v1/completions", #"{"prompt": "Hello world", \#(best)}"#))
            #expect(bestWhole.map { $0["index"] as? Int } == [0, 1])
            #expect(bestWhole.map { $0["text"] as? String } == bestEngine.map(\.text))

            // vLLM does not stream best_of != n (nor beam search): fake_stream_generator sends the
            // whole response, numbered by rank and with its usage, as one event before [DONE].
            let fake = try await server.client.post(
                "v1/completions", #"{"prompt": "Hello world", "stream": true, "stream_options": {"include_usage": true}, \#(best)}"#)
            #expect(fake.events.count == 2 && fake.events.last == "[DONE]", "\(fake.text)")
            let only = try #require(try fake.jsonEvents().first)
            #expect(only["object"] as? String == "text_completion" && only["usage"] is [String: Any])
            let fakeChoices = try #require(only["choices"] as? [[String: Any]])
            #expect(fakeChoices.map { $0["index"] as? Int } == [0, 1])
            #expect(fakeChoices.map { $0["text"] as? String } == bestEngine.map(\.text))
            #expect(fakeChoices.allSatisfy { $0["finish_reason"] is String })

            // Beam search: the engine's index is the beam's place in its sequence group; chat keeps
            // it, completions renumber.
            let beams = #""n": 2, "best_of": 3, "use_beam_search": true, "temperature": 0, "max_tokens": 5"#
            let beamEngine = try await Self.engineOutputs(server, beams)
            #expect(beamEngine.count == 2 && beamEngine.allSatisfy { (0 ..< 3).contains($0.index) })
            let beamWhole = try Self.choices(try await server.client.post("v1/completions", #"{"prompt": "Hello world", \#(beams)}"#))
            #expect(beamWhole.map { $0["index"] as? Int } == [0, 1])
            #expect(beamWhole.map { $0["text"] as? String } == beamEngine.map(\.text))
            let beamChatEngine = try Self.choices(try await server.client.post("v1/generate", "{\(Self.messages), \(beams)}"))
            let beamChat = try Self.choices(try await server.client.post("v1/chat/completions", "{\(Self.messages), \(beams)}"))
            #expect(beamChat.map { $0["index"] as? Int } == beamChatEngine.map { $0["index"] as? Int })
        }
    }
}
