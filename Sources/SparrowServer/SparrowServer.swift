import Foundation
import GenerateAPI
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import UnixSignals

/// `sparrow serve`: the documented `POST /v1/generate` and OpenAI's completions, chat completions
/// and models endpoints over one ``GenerationBackend`` (normally an ``GenerateAPI/Engine``).
///
/// ```swift
/// var registry = ModelRegistry.standard(roots: ["/models"])
/// registry.allowsPaths = false  // clients may only name models under the roots
/// let engine = Engine(configuration: .init(registry: registry))
/// let server = SparrowServer(backend: engine, configuration: .init(port: 8080))
/// try await server.runService()  // until SIGINT or SIGTERM
/// ```
///
/// Routes: `POST /v1/generate`, `POST /v1/completions`, `POST /v1/chat/completions`,
/// `GET /v1/models`, `GET /health`. See ``ResponseShape`` for the stream formats and ``APIError``
/// for the error body.
///
/// Concurrent requests to an ``GenerateAPI/Engine`` go straight to it: each model's scheduler runs
/// them in shared forward passes and queues the rest (``GenerateAPI/Engine/Configuration/batching``);
/// its full queue is answered 429 with the code `queue_full`. Each request keeps its own response
/// or event stream, and a client that goes away cancels its request.
public struct SparrowServer: Sendable {
    /// Where the server listens, how large a body it reads, and how it queues requests for a
    /// backend that does not queue them itself.
    public struct Configuration: Sendable, Equatable {
        /// The address to bind (`127.0.0.1`: this machine only).
        public var host: String
        /// The TCP port; 0 picks a free one (reported to `run`'s `onRunning`).
        public var port: Int
        /// Generations that run at once per queue, for a backend whose admissions name one
        /// (``Admission/queueKey``). An ``GenerateAPI/Engine`` names none — it batches and queues
        /// each model's requests itself — so this and ``queuePerModel`` do not apply to it.
        public var concurrencyPerModel: Int
        /// Requests that may wait per queue (see ``concurrencyPerModel``); the next one is
        /// answered 429.
        public var queuePerModel: Int
        /// The largest request body accepted; a larger one is answered 413.
        public var maxBodyBytes: Int
        /// Timeouts, head sizes and the most open connections.
        public var connections: ConnectionLimits
        /// API keys a request may send as `Authorization: Bearer KEY`; empty: no key is needed.
        /// `GET /health` never needs one.
        public var apiKeys: [String]
        /// Origins (`https://app.example.com`, or `*` for any) whose pages may call the API from a
        /// browser: their preflights are answered and their responses carry CORS headers.
        public var corsOrigins: [String]

        /// `127.0.0.1:8080`; for a backend with queues, one generation at a time and 32 waiting
        /// per queue (a backend that cannot batch gains nothing on a small machine by running two
        /// requests at once); 8 MiB bodies (twice the engine's default prompt limit, so that JSON
        /// escaping of a maximal prompt fits).
        public init(host: String = "127.0.0.1", port: Int = 8080, concurrencyPerModel: Int = 1,
                    queuePerModel: Int = 32, maxBodyBytes: Int = 8 << 20, connections: ConnectionLimits = .init(),
                    apiKeys: [String] = [], corsOrigins: [String] = []) {
            self.host = host
            self.port = port
            self.concurrencyPerModel = concurrencyPerModel
            self.queuePerModel = queuePerModel
            self.maxBodyBytes = maxBodyBytes
            self.connections = connections
            self.apiKeys = apiKeys
            self.corsOrigins = corsOrigins
        }
    }

    /// The engine requests go to.
    public let backend: any GenerationBackend
    /// The configuration the server was made with.
    public let configuration: Configuration
    let limiter: ModelLimiter
    /// What `GET /metrics` serves.
    let metrics = ServerMetrics()
    /// The connections open now, against ``ConnectionLimits/maxConnections``.
    let connectionCounter = ConnectionCounter()
    /// When the server was made (the `created` of `GET /v1/models`).
    let startTime = Int(Date().timeIntervalSince1970)

    public init(backend: any GenerationBackend, configuration: Configuration = .init()) {
        self.backend = backend
        self.configuration = configuration
        self.limiter = ModelLimiter(concurrency: configuration.concurrencyPerModel, queueLength: configuration.queuePerModel)
    }

    /// Serves until the calling task is cancelled. `onRunning` gets the bound port once the server
    /// accepts connections (the way to learn the port when ``Configuration/port`` is 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onRunning: onRunning).run()
    }

    /// As ``run(onRunning:)``, logging to `logger` (tests pass a quiet one).
    func run(logger: Logger?, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        try await makeApplication(onRunning: onRunning, logger: logger).run()
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: it stops accepting connections,
    /// closes idle ones, and lets the requests in flight finish for up to `shutdownGrace` (`nil`: as
    /// long as they take); then it cancels them and closes their connections (a stream is cut
    /// without its `[DONE]` and its last chunk, so the client can tell) and returns.
    /// It returns normally after a shutdown, so that the process exits 0 as an orchestrator expects.
    ///
    /// Logs go to `logger` (`nil`: a logger labelled `sparrow` at `info`), one line per request
    /// (`request`, with its id, endpoint, status, model, tokens and durations) at `info`.
    public func runService(shutdownGrace: Duration? = .seconds(30), logger: Logger? = nil,
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await serve(signals: [.sigterm, .sigint], shutdownGrace: shutdownGrace, logger: logger, onRunning: onRunning)
    }

    /// ``runService(shutdownGrace:onRunning:)`` with the signals, the logger and a way to reach
    /// the service group (tests trigger the shutdown through it rather than by a signal).
    func serve(signals: [UnixSignal], shutdownGrace: Duration?, logger: Logger?,
               onRunning: @escaping @Sendable (Int) async -> Void,
               onGroup: @Sendable (ServiceGroup) async -> Void = { _ in }) async throws {
        let logger = logger ?? Logger(label: "sparrow")
        var configuration = ServiceGroupConfiguration(
            services: [makeApplication(onRunning: onRunning, logger: logger)], gracefulShutdownSignals: signals,
            cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
        // Cancelled handlers end at their next await; this bounds a handler that does not.
        configuration.maximumCancellationDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        await onGroup(group)
        try await group.run()
    }

    private func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void, logger: Logger? = nil)
        -> some ApplicationProtocol
    {
        Application(
            router: makeRouter(),
            server: HTTPServerBuilder { [configuration, connectionCounter] responder in
                GuardedHTTP1Channel(responder: responder, limits: configuration.connections,
                                    maxBodyBytes: configuration.maxBodyBytes, counter: connectionCounter)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sparrow"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        // Before the routes: middleware applies only to routes added after it.
        router.add(middleware: RequestGate<ServerRequestContext>(routes: Self.routes, apiKeys: configuration.apiKeys,
                                                                     corsOrigins: configuration.corsOrigins, metrics: metrics))
        router.get("health") { _, _ in
            JSONResponse.make(Health(status: "ok", models: await self.backend.batchingStatuses()))
        }
        router.get("v1/models") { _, _ in await self.listModels() }
        router.get("metrics") { _, _ in
            let text = self.metrics.render(statuses: await self.backend.batchingStatuses())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("v1/generate") { request, context in await self.documentedGenerate(request, context: context) }
        router.post("v1/completions") { request, context in
            await self.openAI(request, kind: .completion, context: context)
        }
        router.post("v1/chat/completions") { request, context in
            await self.openAI(request, kind: .chat, context: context)
        }
        return router
    }

    /// Every route and its methods, for the 405 answer's `Allow`.
    static let routes: [String: [HTTPRequest.Method]] = [
        "/health": [.get], "/v1/models": [.get], "/metrics": [.get],
        "/v1/generate": [.post], "/v1/completions": [.post], "/v1/chat/completions": [.post],
    ]
}

/// `GET /health`: `"ok"`, and each loaded model's scheduler and KV cache (sequences, queue, blocks
/// free, cached and evicted, prefix-cache hits), by the path it was loaded from.
struct Health: Encodable {
    var status: String
    var models: [String: BatchingStatus]
}
