import Foundation
import GenerateAPI
import SparrowServer
import SparrowTestSupport
import Testing

// The code of the getting-started article (Sources/GenerateAPI/GenerateAPI.docc/GettingStarted.md),
// verbatim but for its import lines; `articleBlocksAreHere` checks that it stays so.

func answer(_ question: String, model: String) async throws -> String {
    let engine = Engine()
    var request = GenerateRequest(model: model, messages: [ChatMessage(role: "user", content: question)])
    request.maxTokens = 32
    request.temperature = 0  // greedy: the same answer every time
    let response = try await engine.generate(request: request)
    return response.choices[0].text
}

func streamAnswer(_ question: String, model: String, engine: Engine) async throws -> String {
    let request = GenerateRequest(model: model, messages: [ChatMessage(role: "user", content: question)],
                                  maxTokens: 32, temperature: 0)
    var text = ""
    for try await event in engine.stream(request: request) {
        if case let .delta(_, piece) = event {
            text += piece  // print(piece, terminator: "") shows it as it comes
        }
    }
    return text
}

func serve(engine: Engine, port: Int, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
    let server = SparrowServer(backend: engine, configuration: .init(host: "127.0.0.1", port: port))
    try await server.run(onRunning: onRunning)  // until the task is cancelled
}

/// Runs the article's code against the tiny Llama fixture, given a chat template (the fixture has
/// none) so that its `messages` requests render as a real model's do.
@Suite("The getting-started article's code")
struct GettingStartedTests {
    /// The tiny Llama fixture's files linked into a fresh directory, plus a ChatML template.
    static func chatModel() throws -> URL {
        let source = FixturePaths.url("transformer/llama")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-getting-started-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name),
                                                       withDestinationURL: source.appendingPathComponent(name))
        }
        let template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
        try Data(template.utf8).write(to: dir.appendingPathComponent("chat_template.jinja"))
        return dir
    }

    @Test("load and generate, stream, and serve, as the article shows")
    func article() async throws {
        let model = try Self.chatModel()
        defer { try? FileManager.default.removeItem(at: model) }

        let whole = try await answer("Hi!", model: model.path)
        #expect(!whole.isEmpty)

        let engine = Engine()
        let streamed = try await streamAnswer("Hi!", model: model.path, engine: engine)
        #expect(streamed == whole)

        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let running = Task { try await serve(engine: engine, port: 0) { port in portSink.yield(port) } }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let body = #"{"model": "\#(model.path)", "messages": [{"role": "user", "content": "Hi!"}], "max_tokens": 32, "temperature": 0}"#
        let response = try await HTTPClient(port: port).post("v1/chat/completions", body)
        #expect(response.status == 200, "\(response.text)")
        let choices = try #require(try response.json()["choices"] as? [[String: Any]])
        let message = try #require(choices.first?["message"] as? [String: Any])
        #expect(message["content"] as? String == whole)
    }

    @Test("every code block of the article is in this file")
    func articleBlocksAreHere() throws {
        let article = try String(contentsOf: FixturePaths.root.deletingLastPathComponent()
            .appendingPathComponent("Sources/GenerateAPI/GenerateAPI.docc/GettingStarted.md"), encoding: .utf8)
        let here = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let blocks = article.components(separatedBy: "```swift\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        #expect(blocks.count == 3)
        for block in blocks {
            let code = block.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("import ") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(here.contains(code), "not in GettingStartedTests.swift:\n\(code)")
        }
    }
}
