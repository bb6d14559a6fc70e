import Dispatch
import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer
import SparrowTestSupport

/// The server on the real SmolLM2-135M-Instruct (Q4_1 GGUF): runs only when `SPARROW_SMOLLM2`
/// holds the model's path; reported as skipped otherwise. Meant for a release build
/// (`WITH_SWIFT_TEST=1 scripts/check-server.sh` runs it so): in a debug build a prefill takes
/// seconds, and a client that disconnects before the first token is only noticed after it.
@Suite("SmolLM2-135M-Instruct over HTTP (needs SPARROW_SMOLLM2)", .serialized)
struct SmolLM2ServerTests {
    static let modelPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]
    static let skipReason: Comment = "SKIPPED: set SPARROW_SMOLLM2 to SmolLM2-135M-Instruct.Q4_1.gguf"

    /// An engine serving the file under the default model's names, as `sparrow serve` does.
    static func engine(batching: BatchingLimits = .init()) throws -> Engine {
        let path = try #require(modelPath)
        var registry = ModelRegistry(allowsPaths: false)
        for name in DefaultModel.names { registry.aliases[name] = path }
        return Engine(configuration: .init(registry: registry, defaultModel: DefaultModel.name, batching: batching))
    }

    /// The default model's scheduler now (it must be loaded).
    static func status(_ engine: Engine) async throws -> BatchingStatus {
        try #require(try await engine.batchingStatus())
    }

    /// Waits (at most `seconds`) until the default model's scheduler holds nothing: no request,
    /// no sequence, every KV block free. Returns whether it did, and the last status seen, for a
    /// failure message.
    static func waitUntilIdle(_ engine: Engine, seconds: Double = 10) async -> (idle: Bool, last: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var last: BatchingStatus?
        repeat {
            last = try? await engine.batchingStatus()
            if let s = last, s.generating == 0, s.sequences == 0, s.waiting == 0, s.reservedBlocks == 0,
               s.freeBlocks == s.totalBlocks {
                return (true, "\(s)")
            }
            try? await Task.sleep(nanoseconds: 10_000_000)
        } while Date() < deadline
        return (false, last.map { "\($0)" } ?? "no status: the model is not loaded")
    }

    static let chat = #"{"model": "SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 24"#

    @Test("a repeated chat reports its cached prompt tokens, and /health the model's KV cache and prefix-cache hits",
          .enabled(if: modelPath != nil, skipReason))
    func prefixCacheReported() async throws {
        try await TestServer.with(backend: try Self.engine()) { server in
            let first = try await server.client.post("v1/chat/completions", Self.chat + "}")
            let second = try await server.client.post("v1/chat/completions", Self.chat + "}")
            #expect(first.status == 200 && second.status == 200, "\(first.text) \(second.text)")
            func usage(_ r: HTTPClient.Result) throws -> (prompt: Int, cached: Int) {
                let usage = try #require(try r.json()["usage"] as? [String: Any])
                let details = try #require(usage["prompt_tokens_details"] as? [String: Any])
                return (usage["prompt_tokens"] as? Int ?? -1, details["cached_tokens"] as? Int ?? -1)
            }
            let (prompt, cachedFirst) = try usage(first), (_, cachedSecond) = try usage(second)
            #expect(cachedFirst == 0)
            #expect(cachedSecond == (prompt - 1) / 16 * 16 && cachedSecond > 0)
            #expect(try second.json()["choices"] as? [[String: Any]] != nil)
            let health = try await server.client.get("health")
            let models = try #require(try health.json()["models"] as? [String: [String: Any]])
            let path = try #require(Self.modelPath)
            let model = try #require(models[path])
            #expect(model["cached_prompt_tokens"] as? Int == cachedSecond)
            #expect(model["computed_prompt_tokens"] as? Int == 2 * prompt - cachedSecond)
            #expect((model["total_blocks"] as? Int ?? 0) > 0 && (model["cached_blocks"] as? Int ?? 0) > 0)
            #expect(model["free_blocks"] as? Int == model["total_blocks"] as? Int)
        }
    }

    @Test("chat, whole and streamed: the same greedy text", .enabled(if: modelPath != nil, skipReason))
    func chatWholeAndStreamed() async throws {
        try await TestServer.with(backend: try Self.engine()) { server in
            let whole = try await server.client.post("v1/chat/completions", Self.chat + "}")
            #expect(whole.status == 200, "\(whole.text)")
            let body = try whole.json()
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
            #expect(!content.isEmpty)
            let usage = try #require(body["usage"] as? [String: Any])
            #expect((1...24).contains(usage["completion_tokens"] as? Int ?? 0))
            #expect(usage["prompt_tokens"] as? Int ?? 0 > 5)

            let streamed = try await server.client.post("v1/chat/completions", Self.chat + #", "stream": true}"#)
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "[DONE]")
            let deltas = try streamed.jsonEvents().compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == content)
        }
    }

    @Test("/v1/generate and /v1/completions on a raw prompt, streamed deltas add up", .enabled(if: modelPath != nil, skipReason))
    func generateAndCompletions() async throws {
        try await TestServer.with(backend: try Self.engine()) { server in
            let body = #"{"prompt": "The quick brown fox", "temperature": 0, "max_tokens": 12, "stream": true}"#
            let r = try await server.client.post("v1/generate", body)
            #expect(r.status == 200, "\(r.text)")
            let events = try r.jsonEvents()
            let final = try #require((events.last?["choices"] as? [[String: Any]])?.first)
            let text = try #require(final["text"] as? String)
            #expect(!text.isEmpty)
            #expect(events.dropLast().compactMap { $0["text"] as? String }.joined() == text)
            #expect((final["token_ids"] as? [Int])?.count ?? 0 > 0)

            let c = try await server.client.post("v1/completions", #"{"prompt": "The quick brown fox", "temperature": 0, "max_tokens": 12}"#)
            #expect(c.status == 200, "\(c.text)")
            #expect((try c.json()["choices"] as? [[String: Any]])?.first?["text"] as? String == text)
        }
    }

    @Test("ignore_eos runs a chat answer past its end token to max_tokens", .enabled(if: modelPath != nil, skipReason))
    func ignoreEOS() async throws {
        try await TestServer.with(backend: try Self.engine()) { server in
            func answer(_ extra: String) async throws -> (finish: String?, tokens: Int?, text: String?) {
                let body = #"{"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 40, "temperature": 0"# + extra + "}"
                let r = try await server.client.post("v1/chat/completions", body)
                #expect(r.status == 200, "\(r.text)")
                let json = try r.json()
                let choice = (json["choices"] as? [[String: Any]])?.first
                let message = choice?["message"] as? [String: Any]
                return (choice?["finish_reason"] as? String, (json["usage"] as? [String: Any])?["completion_tokens"] as? Int,
                        message?["content"] as? String)
            }
            let natural = try await answer("")
            #expect(natural.finish == "stop" && (natural.tokens ?? 40) < 40)
            let forced = try await answer(#", "ignore_eos": true"#)
            #expect(forced.finish == "length" && forced.tokens == 40)
            // Greedy: the forced answer begins with the natural one; the end token is not rendered.
            #expect(forced.text?.hasPrefix(natural.text ?? "-") == true)
            #expect(forced.text?.contains("<|im_end|>") == false)
        }
    }

    /// A raw prompt the model keeps continuing (greedy counting), so a generation is still running
    /// when a test looks; streamed, so that the test ends it by disconnecting.
    static let longStream = #"{"prompt": "1, 2, 3, 4, 5, 6, 7, 8,", "max_tokens": 1000, "temperature": 0, "stream": true}"#

    @Test("GET /health within 100 ms during a real generation", .enabled(if: modelPath != nil, skipReason))
    func healthDuringGeneration() async throws {
        let engine = try Self.engine()
        try await TestServer.with(backend: engine) { server in
            try await engine.preload()
            let long = Task { try await server.client.post("v1/generate", Self.longStream) }
            #expect(await TestServer.eventually(30) { (try? await engine.batchingStatus())?.generating == 1 })
            try await Task.sleep(nanoseconds: 300_000_000)
            var latencies: [Double] = []
            for _ in 0..<10 {
                let start = DispatchTime.now().uptimeNanoseconds
                #expect(try await server.client.get("health").status == 200)
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                try await Task.sleep(nanoseconds: 30_000_000)
            }
            print("health latencies during SmolLM2 generation (ms): \(latencies.map { String(format: "%.1f", $0) }.joined(separator: " "))")
            #expect(latencies.allSatisfy { $0 < TimeScale.milliseconds(100) }, "\(latencies)")
            #expect(try await Self.status(engine).generating == 1, "the generation ended before the checks did")
            long.cancel()
            let idle = await Self.waitUntilIdle(engine)
            #expect(idle.idle, "\(idle.last)")
        }
    }
}
