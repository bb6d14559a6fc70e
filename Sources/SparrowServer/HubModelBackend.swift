import GenerateAPI
import HubClient

/// Serves models by Hub name beside an engine's own.
///
/// A request whose `model` the engine's registry does not know, and that is a Hub id
/// (`owner/name[:TAG][@revision]`), is served from the Hugging Face cache: by an engine of its own,
/// made on first use. An uncached name is downloaded only when ``allowsDownload``; otherwise the
/// answer is a 404 that says how to pull it. A download suspends only the requests for that name:
/// requests for every other model go on, and two requests for one name share one download.
public actor HubModelBackend: GenerationBackend {
    /// The engine for the server's own models (paths under its roots, the default model).
    public let base: Engine
    /// Where Hub models are found and downloaded.
    public let hub: HubClient
    /// Whether a request may start a download.
    public let allowsDownload: Bool

    private var engines: [String: Engine] = [:]
    private var downloads: [String: Task<String, any Error>] = [:]

    public init(base: Engine, hub: HubClient, allowsDownload: Bool) {
        self.base = base
        self.hub = hub
        self.allowsDownload = allowsDownload
    }

    /// The backend that answers `request`: the base engine, or the engine of a Hub model.
    func backend(for request: GenerateRequest) async throws -> any GenerationBackend {
        let baseConfiguration = await base.configuration
        guard let name = request.model ?? baseConfiguration.defaultModel, !request.mockResponse,
            (try? baseConfiguration.registry.resolve(name)) == nil, ModelName.looksLikeHubID(name)
        else { return base }
        if let engine = engines[name] { return engine }
        let model = try ModelName(name)
        let path: String
        if let cached = try? hub.cached(model) {
            path = cached.modelPath
        } else if allowsDownload {
            let task = downloads[name] ?? Task { [hub] in try await hub.pull(model).modelPath }
            downloads[name] = task
            do {
                path = try await task.value
            } catch let error as HubError {
                downloads[name] = nil
                throw Self.apiError(error, name: name)
            }
            downloads[name] = nil
        } else {
            throw APIError(
                status: .notFound,
                message: "model \(name) is not in the Hugging Face cache: run `sparrow pull \(name)` on the server, "
                    + "or start it with --allow-download",
                type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        if let engine = engines[name] { return engine }
        var configuration = baseConfiguration
        configuration.registry = ModelRegistry(aliases: [name: path], allowsPaths: false)
        configuration.defaultModel = name
        let engine = Engine(configuration: configuration)
        engines[name] = engine
        return engine
    }

    static func apiError(_ error: HubError, name: String) -> APIError {
        switch error {
        case .repoNotFound, .fileNotFound, .revisionNotFound, .tagNotFound, .ambiguousTag, .tagWithoutGGUF,
            .noModelFiles, .invalidName, .offlineMissing:
            return APIError(status: .notFound, message: error.description, type: "invalid_request_error",
                            param: "model", code: "model_not_found")
        case .gated, .unauthorized:
            return APIError(status: .forbidden, message: error.description, type: "invalid_request_error",
                            param: "model", code: "model_gated")
        default:
            return APIError(status: .badGateway, message: "downloading \(name) failed: \(error.description)",
                            type: "server_error", param: "model")
        }
    }

    public func admit(_ request: GenerateRequest) async throws -> Admission {
        try await backend(for: request).admit(request)
    }

    public func generate(request: GenerateRequest) async throws -> GenerateResponse {
        try await backend(for: request).generate(request: request)
    }

    public nonisolated func stream(request: GenerateRequest) -> AsyncThrowingStream<GenerateStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let backend = try await self.backend(for: request)
                    for try await event in backend.stream(request: request) { continuation.yield(event) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The base engine's models, the Hub models served so far, and every model in the cache that a
    /// bare `owner/name` finds.
    public func modelNames() async -> [String] {
        var names = await base.modelNames()
        var extra = Set(engines.keys)
        for repo in hub.configuration.cache.cachedRepos() {
            if let model = try? ModelName(repo.repo), (try? hub.cached(model)) != nil { extra.insert(repo.repo) }
        }
        names += extra.subtracting(names).sorted()
        return names
    }

    public func batchingStatuses() async -> [String: BatchingStatus] {
        // Through the protocol: called on `Engine` itself, `await` picks the protocol extension's
        // default (no models) over the engine's own synchronous method.
        var statuses = await (base as any GenerationBackend).batchingStatuses()
        for engine in engines.values {
            statuses.merge(await (engine as any GenerationBackend).batchingStatuses()) { first, _ in first }
        }
        return statuses
    }
}
