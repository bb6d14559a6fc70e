import Foundation
import GenerateAPI
import Logging
@testable import SparrowServer
import SparrowTestSupport

/// A server on an ephemeral loopback port for one test.
struct TestServer: Sendable {
    let server: SparrowServer
    let client: HTTPClient

    /// Runs `body` against a server over `backend`, then stops the server.
    static func with<T: Sendable>(
        backend: any GenerationBackend, configuration: SparrowServer.Configuration = .init(),
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = SparrowServer(backend: backend, configuration: configuration)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let running = Task {
            // Quiet: closing a test's keep-alive connections at shutdown logs errors that are none.
            var logger = Logger(label: "sparrow-test")
            logger.logLevel = .critical
            try await server.run(logger: logger) { port in portSink.yield(port) }
        }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw TestFailure("the server did not report its port") }
        return try await body(TestServer(server: server, client: HTTPClient(port: port)))
    }

    /// A real engine with no model files: mock responses work, anything else is an unknown model
    /// (or, for the default model, a model that cannot be found).
    static func mockEngine() -> Engine {
        Engine(configuration: .init(registry: ModelRegistry(allowsPaths: false), defaultModel: DefaultModel.name))
    }

    /// Waits until `condition` holds (polling every 10 ms), at most `seconds` (scaled). Every use
    /// waits for something that should happen, so a generous bound costs nothing when it does; the
    /// whole `swift test` on a shared 2-core machine has starved a request for more than 5 s.
    static func eventually(_ seconds: Double = 30, _ condition: @Sendable () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds * TimeScale.factor)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return await condition()
    }
}
