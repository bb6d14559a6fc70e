import CoreMetrics
import Foundation
import GenerateAPI
import NIOConcurrencyHelpers
import Prometheus

/// The server's metrics, served at `GET /metrics` in Prometheus's text format: swift-metrics
/// instruments over a Prometheus registry of the server's own. The global `MetricsSystem` is left
/// to the application, and two servers in one process (the tests) count apart.
///
/// - `sparrow_http_requests_total{endpoint, status}`, `sparrow_http_request_duration_seconds{endpoint}`
///   (to the last byte, streams included); `endpoint` is a route or `other`, so that clients cannot
///   add label values;
/// - `sparrow_time_to_first_token_seconds`, `sparrow_time_between_tokens_seconds` (streams);
/// - `sparrow_prompt_tokens_total`, `sparrow_generated_tokens_total`;
/// - per loaded model, read at each scrape: `sparrow_requests_waiting`, `sparrow_requests_generating`,
///   `sparrow_running_sequences`, `sparrow_kv_blocks_used`, `sparrow_kv_blocks_total`,
///   `sparrow_prefix_cache_hit_tokens` (prompt tokens served from the cache so far).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// One answered request.
    func request(endpoint: String, status: Int, duration: Duration) {
        Counter(label: "sparrow_http_requests_total", dimensions: [("endpoint", endpoint), ("status", "\(status)")],
                factory: factory).increment()
        CoreMetrics.Timer(label: "sparrow_http_request_duration_seconds", dimensions: [("endpoint", endpoint)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    func tokens(prompt: Int, generated: Int) {
        Counter(label: "sparrow_prompt_tokens_total", factory: factory).increment(by: prompt)
        Counter(label: "sparrow_generated_tokens_total", factory: factory).increment(by: generated)
    }

    func firstToken(after duration: Duration) {
        CoreMetrics.Timer(label: "sparrow_time_to_first_token_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
    }

    func betweenTokens(_ duration: Duration) {
        CoreMetrics.Timer(label: "sparrow_time_between_tokens_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
    }

    /// The text exposition, with the models' schedulers as they are now.
    func render(statuses: [String: BatchingStatus]) -> String {
        for (model, status) in statuses {
            let dimensions = [("model", model)]
            Gauge(label: "sparrow_requests_waiting", dimensions: dimensions, factory: factory).record(status.waiting)
            Gauge(label: "sparrow_requests_generating", dimensions: dimensions, factory: factory).record(status.generating)
            Gauge(label: "sparrow_running_sequences", dimensions: dimensions, factory: factory).record(status.sequences)
            Gauge(label: "sparrow_kv_blocks_used", dimensions: dimensions, factory: factory)
                .record(status.totalBlocks - status.freeBlocks)
            Gauge(label: "sparrow_kv_blocks_total", dimensions: dimensions, factory: factory).record(status.totalBlocks)
            Gauge(label: "sparrow_prefix_cache_hit_tokens", dimensions: dimensions, factory: factory)
                .record(status.cachedPromptTokens)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// What a handler learns about its request, for the request's log line and metrics.
final class RequestRecord: Sendable {
    struct Fields: Sendable {
        var model: String?
        var promptTokens: Int?
        var generatedTokens: Int?
        var firstToken: Duration?
    }

    private let fields = NIOLockedValueBox(Fields())

    func update(_ body: (inout Fields) -> Void) {
        fields.withLockedValue(body)
    }

    var current: Fields { fields.withLockedValue { $0 } }
}
