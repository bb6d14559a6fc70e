import GenerateAPI

/// What the server asks of an engine. ``GenerateAPI/Engine`` is the real one; tests put in their
/// own (a slow one, to fill queues deterministically) without a model.
public protocol GenerationBackend: Sendable {
    /// Checks `request` before it waits for a slot, so that a bad request is answered at once, and
    /// says which queue it waits in.
    /// - Throws: ``GenerateAPI/GenerateError`` (an invalid field, an unknown model).
    func admit(_ request: GenerateRequest) async throws -> Admission

    /// Answers `request` once generation has finished.
    func generate(request: GenerateRequest) async throws -> GenerateResponse

    /// Answers `request` as text deltas and then the whole response; ending the iteration early
    /// cancels the generation.
    func stream(request: GenerateRequest) -> AsyncThrowingStream<GenerateStreamEvent, any Error>

    /// The model names requests can use, for `GET /v1/models`.
    func modelNames() async -> [String]
}

/// A request that passed ``GenerationBackend/admit(_:)``.
public struct Admission: Sendable, Equatable {
    /// The queue the request waits in — one per model file, so two names of one file share it;
    /// `nil` when the request needs no model (a mock response).
    public var queueKey: String?
    /// The model's name as responses report it.
    public var modelName: String

    public init(queueKey: String?, modelName: String) {
        self.queueKey = queueKey
        self.modelName = modelName
    }
}

extension Engine: GenerationBackend {
    public func admit(_ request: GenerateRequest) async throws -> Admission {
        // The engine's own first checks, so that a request that would fail anyway takes no slot.
        _ = try request.samplingParameters(limits: configuration.limits)
        guard let name = request.model ?? configuration.defaultModel else {
            throw GenerateError.invalidField(field: "model", reason: "no model given and the server has no default model")
        }
        if request.mockResponse { return Admission(queueKey: nil, modelName: name) }
        return Admission(queueKey: try configuration.registry.resolve(name), modelName: name)
    }

    public func modelNames() async -> [String] {
        var names = configuration.registry.availableModels()
        if let name = configuration.defaultModel, !names.contains(name) { names.insert(name, at: 0) }
        return names
    }
}
