import GenerateAPI

/// What the server asks of an engine. ``GenerateAPI/Engine`` is the real one; tests put in their
/// own (a slow one, to fill queues deterministically) without a model.
public protocol GenerationBackend: Sendable {
    /// Checks `request` before it runs, so that a bad request is answered at once (with its status
    /// code, even when it asked for a stream), and says which of the server's queues it waits in,
    /// if any.
    /// - Throws: ``GenerateAPI/GenerateError`` (an invalid field, an unknown model).
    func admit(_ request: GenerateRequest) async throws -> Admission

    /// Answers `request` once generation has finished.
    func generate(request: GenerateRequest) async throws -> GenerateResponse

    /// Answers `request` as text deltas and then the whole response; ending the iteration early
    /// cancels the generation.
    func stream(request: GenerateRequest) -> AsyncThrowingStream<GenerateStreamEvent, any Error>

    /// The model names requests can use, for `GET /v1/models`.
    func modelNames() async -> [String]

    /// Each loaded model's batching and KV cache figures, by path, for `GET /health`.
    func batchingStatuses() async -> [String: BatchingStatus]
}

extension GenerationBackend {
    /// None: a backend without models (tests' stand-ins) reports nothing.
    public func batchingStatuses() async -> [String: BatchingStatus] { [:] }
}

/// A request that passed ``GenerationBackend/admit(_:)``.
public struct Admission: Sendable, Equatable {
    /// The server's queue the request waits in (``SparrowServer/Configuration/concurrencyPerModel``
    /// running and ``SparrowServer/Configuration/queuePerModel`` waiting per key) — one per model
    /// file, so two names of one file share it. `nil`: the request goes straight to the backend,
    /// because it needs no model (a mock response) or because the backend queues its requests
    /// itself, as ``GenerateAPI/Engine`` does.
    public var queueKey: String?
    /// The model's name as responses report it.
    public var modelName: String

    public init(queueKey: String?, modelName: String) {
        self.queueKey = queueKey
        self.modelName = modelName
    }
}

/// An engine takes every request at once: each model's scheduler runs the sequences of all its
/// requests in shared forward passes and queues the rest in arrival order
/// (``GenerateAPI/Engine/Configuration/batching``), refusing past
/// ``GenerateAPI/BatchingLimits/maxQueue`` with ``GenerateAPI/GenerateError/queueFull(waiting:)``,
/// which the server answers 429. A server-side queue in front of it would only serialize requests
/// the engine can batch, so its admissions name none.
extension Engine: GenerationBackend {
    public func admit(_ request: GenerateRequest) async throws -> Admission {
        // The model only, as vLLM's server checks it first: the engine validates the request's
        // fields once, where it enters, before a stream's first event, so a bad field still gets
        // its 400 before any 200.
        guard let name = request.model ?? configuration.defaultModel else {
            throw GenerateError.invalidField(field: "model", reason: "no model given and the server has no default model")
        }
        if !request.mockResponse { _ = try configuration.registry.resolve(name) }
        return Admission(queueKey: nil, modelName: name)
    }

    public func modelNames() async -> [String] {
        var names = configuration.registry.availableModels()
        if let name = configuration.defaultModel, !names.contains(name) { names.insert(name, at: 0) }
        return names
    }
}
