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
    /// chat template that joins the contents (the fixture has none, and chat needs one).
    static func chatEngine() throws -> (Engine, URL) {
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
                                                 defaultModel: "llama"))
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
}
