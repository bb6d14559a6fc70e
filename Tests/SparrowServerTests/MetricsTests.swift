import Foundation
import GenerateAPI
import HubClient
import Logging
import Testing
@testable import SparrowServer

/// `GET /metrics`: Prometheus's text format, counters that move with the requests made.
@Suite("Metrics")
struct MetricsTests {
    /// The value of the sample `name{labels}` (labels in any order), if present.
    static func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space], value = line[line.index(after: space)...]
            let seriesName = series.prefix { $0 != "{" }
            guard seriesName == name else { continue }
            let labelText = series.dropFirst(seriesName.count)
            if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) { return Double(value) }
        }
        return nil
    }

    @Test("requests by endpoint and status, durations, tokens and time to first token are counted")
    func countersMove() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let before = try await server.client.get("metrics")
            #expect(before.status == 200)
            #expect(before.contentType.hasPrefix("text/plain"))
            for _ in 0..<3 {
                #expect(try await server.client.post("v1/completions", #"{"prompt": "a b c", "max_tokens": 4, "mock_response": true}"#).status == 200)
            }
            let stream = try await server.client.post("v1/chat/completions",
                #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": true, "mock_response": true}"#)
            #expect(stream.status == 200)
            #expect(try await server.client.get("v1/nothing/\(UUID().uuidString)").status == 404)
            #expect(try await server.client.post("v1/completions", "{").status == 400)

            // A request is counted once its last byte is written, a moment after the client has it.
            #expect(await TestServer.eventually(10) {
                let text = (try? await server.client.get("metrics").text) ?? ""
                return Self.sample(text, "sparrow_http_request_duration_seconds_count", ["endpoint": "/v1/completions"]) == 4
                    && Self.sample(text, "sparrow_http_requests_total", ["endpoint": "other", "status": "404"]) == 1
            })
            let text = try await server.client.get("metrics").text
            #expect(Self.sample(text, "sparrow_http_requests_total", ["endpoint": "/v1/completions", "status": "200"]) == 3, "\(text)")
            #expect(Self.sample(text, "sparrow_http_requests_total", ["endpoint": "/v1/completions", "status": "400"]) == 1)
            #expect(Self.sample(text, "sparrow_http_requests_total", ["endpoint": "/v1/chat/completions", "status": "200"]) == 1)
            // Unknown paths share one label value, whatever the path.
            #expect(Self.sample(text, "sparrow_http_requests_total", ["endpoint": "other", "status": "404"]) == 1)
            #expect(!text.contains("/v1/nothing"))
            #expect(Self.sample(text, "sparrow_http_request_duration_seconds_count", ["endpoint": "/v1/completions"]) == 4)
            #expect(Self.sample(text, "sparrow_time_to_first_token_seconds_count") == 1)
            #expect((Self.sample(text, "sparrow_generated_tokens_total") ?? 0) >= 16, "\(text)")
            #expect((Self.sample(text, "sparrow_prompt_tokens_total") ?? 0) >= 9)
        }
    }

    @Test("a loaded model's scheduler and KV cache are exposed per model, behind the Hub backend `sparrow serve` uses too",
          arguments: [false, true])
    func modelGauges(throughHub: Bool) async throws {
        let engine = StatusCodeTests.tinyEngine()
        let backend: any GenerationBackend = throughHub ? HubModelBackend(base: engine, hub: HubClient(), allowsDownload: false) : engine
        try await TestServer.with(backend: backend) { server in
            #expect(try await server.client.post("v1/completions", #"{"prompt": [1, 2, 3], "max_tokens": 2}"#).status == 200)
            let text = try await server.client.get("metrics").text
            #expect((Self.sample(text, "sparrow_kv_blocks_total") ?? 0) > 0, "\(text)")
            #expect(Self.sample(text, "sparrow_requests_waiting") == 0)
            #expect(Self.sample(text, "sparrow_running_sequences") == 0)
            #expect(Self.sample(text, "sparrow_kv_blocks_used") != nil)
            #expect(Self.sample(text, "sparrow_prefix_cache_hit_tokens") != nil)
            let health = try await server.client.get("health").json()
            #expect((health["models"] as? [String: Any])?.count == 1, "\(health)")
        }
    }
}

/// One `request` log line per request, through swift-log.
@Suite("Request log")
struct RequestLogTests {
    /// Keeps every message and its metadata.
    final class Capture: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(String, Logger.Metadata)] = []
        func add(_ message: String, _ metadata: Logger.Metadata) { lock.lock(); entries.append((message, metadata)); lock.unlock() }
        var requests: [Logger.Metadata] { lock.lock(); defer { lock.unlock() }; return entries.filter { $0.0 == "request" }.map(\.1) }
    }

    struct Handler: LogHandler {
        let capture: Capture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.add(event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }

    @Test("each request logs its id, endpoint, status, model, tokens and duration")
    func oneLinePerRequest() async throws {
        let capture = Capture()
        let logger = Logger(label: "sparrow-test") { _ in Handler(capture: capture) }
        let server = SparrowServer(backend: TestServer.mockEngine(), configuration: .init(host: "127.0.0.1", port: 0))
        let (ports, sink) = AsyncStream<Int>.makeStream()
        let running = Task { try await server.run(logger: logger) { sink.yield($0) } }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let client = HTTPClient(port: port)
        #expect(try await client.post("v1/completions", #"{"prompt": "a b", "max_tokens": 3, "mock_response": true}"#).status == 200)
        #expect(try await client.post("v1/completions", "{").status == 400)
        #expect(await TestServer.eventually(10) { capture.requests.count == 2 })
        let lines = capture.requests
        let ok = try #require(lines.first { $0["status"] == "200" })
        #expect(ok["endpoint"] == "/v1/completions")
        #expect(ok["generated_tokens"] == "3")
        #expect(ok["model"] != nil)
        #expect(ok["duration_ms"] != nil)
        #expect(ok["hb.request.id"] != nil, "\(ok)")
        #expect(lines.contains { $0["status"] == "400" })
    }
}
