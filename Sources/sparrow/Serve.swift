import ArgumentParser
import Foundation
import GenerateAPI
import HubClient
import Logging
import SparrowServer
import Transformer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over HTTP: POST /v1/generate and OpenAI's API.",
        discussion: """
            Endpoints: POST /v1/generate (the documented request; "stream": true answers with \
            Server-Sent Events), POST /v1/completions and POST /v1/chat/completions (OpenAI's \
            format, with vLLM's extra sampling fields), GET /v1/models, GET /health.

            Requests name models as --model does, or by their names under --models-dir (and \
            SPARROW_MODELS); they cannot name files elsewhere. Without --model the default model, \
            SmolLM2-135M-Instruct, is served and fetched on first use. The default model is loaded \
            before the server starts listening.

            Concurrent requests to a model are batched: every step is one forward pass over the \
            next token of each running sequence (a request with n or best_of k runs k) and chunks \
            of new prompts, up to --max-batch-sequences sequences and --max-batch-tokens tokens. \
            Each request reserves KV cache for its prompt plus max_tokens per sequence out of \
            --kv-cache-mib. Requests that do not fit wait in arrival order; past --max-queue \
            waiting the server answers 429 (code queue_full). A seeded request gives the same \
            text whatever else runs.
            """
    )

    @Option(help: "The default model: a .gguf file, a Hugging Face directory, or a model name (default: SmolLM2-135M-Instruct).")
    var model: String?

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port, printed at start).") var port = 8080

    @Option(help: "A folder to look model names up in (repeatable; SPARROW_MODELS adds more).")
    var modelsDir: [String] = []

    @Option(help: "The most sequences per model in one batch, over all requests (n or best_of k counts k).")
    var maxBatchSequences = BatchingLimits().maxBatchSequences
    @Option(help: "The most tokens per model in one forward pass; longer prompts are prefilled in chunks. More than --max-batch-sequences.")
    var maxBatchTokens = BatchingLimits().maxBatchTokens
    @Option(help: "KV cache memory per model in MiB, shared by all its requests and resident from the moment the model loads (default: room for 16 full contexts, at most 1024 MiB, at least one context).")
    var kvCacheMib: Int?
    @Option(help: "Requests that may wait per model for room in its batch before the server answers 429.")
    var maxQueue = BatchingLimits().maxQueue
    @Flag(help: "Compute every prompt in full instead of reusing the KV cache of prefixes computed before.")
    var noPrefixCache = false
    @Option(help: "The largest request body in bytes (larger: 413).") var maxBodyBytes = 8 << 20
    @Option(help: "Seconds from a request's first byte to the end of its head (longer: 408 and close).")
    var headerTimeout = 10.0
    @Option(help: "Seconds from the end of a request's head to the end of its body (longer: 408 and close).")
    var bodyTimeout = 60.0
    @Option(help: "Seconds a keep-alive connection may wait for its next request before it is closed.")
    var idleTimeout = 30.0
    @Option(help: "Connections open at once; the next is answered 503 and closed. Keep it below the open-file limit (ulimit -n).")
    var maxConnections = ConnectionLimits().maxConnections
    @Option(help: "The least severe log messages printed: trace, debug, info (one line per request), notice, warning, error, critical.")
    var logLevel = "info"
    @Option(help: "On SIGTERM or SIGINT, seconds the requests in flight may take to finish before they are cancelled; the server then exits 0.")
    var shutdownGrace = 30.0
    @Option(help: "An origin (https://app.example.com, or * for any) whose pages may call the API from a browser (repeatable): preflights are answered and responses carry CORS headers.")
    var corsOrigin: [String] = []
    @Option(name: .customLong("api-key"), help: "An API key requests must send as Authorization: Bearer KEY (repeatable; SPARROW_API_KEY adds one). GET /health stays open.")
    var apiKeys: [String] = []
    /// The flag before batching, kept only to say what replaced it.
    @Option(help: .hidden) var maxConcurrent: Int?

    @Option(help: "Cap each sequence's context at this many positions (default: the model's context length).")
    var maxContext: Int?

    @Flag(help: "Let a request naming an uncached Hub model (owner/name[:TAG][@revision]) download it into the Hugging Face cache; without it such a request gets a 404 saying how to pull it.")
    var allowDownload = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        if maxConcurrent != nil {
            throw ValidationError("--max-concurrent is gone: concurrent requests run batched; set --max-batch-sequences instead (1 runs one sequence at a time)")
        }
        guard maxBatchSequences >= 1 else {
            throw ValidationError("--max-batch-sequences must be at least 1, not \(maxBatchSequences)")
        }
        guard maxBatchTokens > maxBatchSequences else {
            throw ValidationError("--max-batch-tokens (\(maxBatchTokens)) must exceed --max-batch-sequences (\(maxBatchSequences)), so that a step with every sequence decoding still has room for a chunk of a new prompt")
        }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must not be negative, not \(maxQueue)") }
        _ = try KVCacheOption.bytes(mib: kvCacheMib)
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        for (flag, seconds) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout)] {
            guard seconds > 0, seconds <= 86_400 else { throw ValidationError("\(flag) must be in (0, 86400] seconds, not \(seconds)") }
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \(logLevel)")
        }
        guard shutdownGrace >= 0, shutdownGrace <= 86_400 else {
            throw ValidationError("--shutdown-grace must be in [0, 86400] seconds, not \(shutdownGrace)")
        }
        if let bad = corsOrigin.first(where: { $0 != "*" && !($0.hasPrefix("http://") || $0.hasPrefix("https://")) }) {
            throw ValidationError("--cors-origin must be * or a scheme and host such as https://app.example.com, not \(bad)")
        }
        if apiKeys.contains(where: \.isEmpty) { throw ValidationError("--api-key must not be empty") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1, not \(maxConnections)") }
    }

    func run() async throws {
        var registry = ModelRegistry.standard(roots: modelsDir)
        // Clients name models; they must not be able to name arbitrary files on this machine.
        registry.allowsPaths = false
        let defaultName = try await defaultModel(registry: &registry)
        var options = ModelOptions()
        options.maxContextLength = maxContext
        options.kvCacheBytes = try KVCacheOption.bytes(mib: kvCacheMib)
        // A server's memory should not grow under load: the whole KV cache is resident from the start.
        options.reservesKVCache = true
        let batching = BatchingLimits(maxBatchSequences: maxBatchSequences, maxBatchTokens: maxBatchTokens, maxQueue: maxQueue)
        var configuration = Engine.Configuration(registry: registry, defaultModel: defaultName, modelOptions: options,
                                                 batching: batching)
        configuration.prefixCaching = !noPrefixCache
        let engine = Engine(configuration: configuration)
        do {
            let path = try await engine.preload(model: defaultName)
            note("loaded \(defaultName) (\(path))")
            if let status = try await engine.batchingStatus(model: defaultName) {
                note("batching: up to \(maxBatchSequences) sequences and \(maxBatchTokens) tokens per step, \(maxQueue) requests waiting; KV cache: \(status.totalBlocks) blocks of 16 positions, reserved")
            }
        } catch let error as GenerateError {
            throw CommandError(error.description)
        }
        // No server-side queue: the engine batches and queues each model's requests itself.
        // Hub names (cached, or downloaded with --allow-download) are served beside the engine's models.
        let backend = HubModelBackend(base: engine, hub: HubClient(), allowsDownload: allowDownload)
        let connections = ConnectionLimits(headerTimeout: .seconds(headerTimeout), bodyTimeout: .seconds(bodyTimeout),
                                           idleTimeout: .seconds(idleTimeout), maxConnections: maxConnections)
        var keys = apiKeys
        if let key = ProcessInfo.processInfo.environment["SPARROW_API_KEY"], !key.isEmpty { keys.append(key) }
        let server = SparrowServer(backend: backend, configuration: .init(host: host, port: port, maxBodyBytes: maxBodyBytes,
                                                                          connections: connections, apiKeys: keys,
                                                                          corsOrigins: corsOrigin))
        if !keys.isEmpty { note("API keys: \(keys.count); requests other than GET /health need Authorization: Bearer KEY") }
        let host = host
        var logger = Logger(label: "sparrow")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await server.runService(shutdownGrace: .seconds(shutdownGrace), logger: logger) { port in
            note("sparrow serve: listening on http://\(host):\(port) (POST /v1/generate, /v1/completions, /v1/chat/completions; GET /v1/models, /health)")
        }
    }

    /// The name requests get without `model`. A path given with --model is served under its file
    /// name (without `.gguf`), since requests cannot name paths; the default model is fetched.
    private func defaultModel(registry: inout ModelRegistry) async throws -> String {
        let requested = model ?? DefaultModel.name
        if DefaultModel.names.contains(requested) {
            let path = try await DefaultModelFetcher.ensure()
            for name in DefaultModel.names { registry.aliases[name] = path }
            return requested
        }
        if let path = try await HubModels.path(for: requested, registry: registry) {
            // A Hub name: pulled into (or found in) the Hugging Face cache, served under that name.
            registry.aliases[requested] = path
            return requested
        }
        if FileManager.default.fileExists(atPath: requested) {
            var name = URL(fileURLWithPath: requested).lastPathComponent
            if name.hasSuffix(".gguf") { name = String(name.dropLast(5)) }
            registry.aliases[name] = requested
            return name
        }
        return requested
    }
}
