import Dispatch
import Foundation
import Sampling
import Tokenizer
import Transformer

/// Answers ``GenerateRequest``s: resolves and loads models (once each), builds prompts with the
/// model's chat template, and runs generation off Swift's cooperative thread pool.
///
/// ```swift
/// let engine = Engine()
/// var request = GenerateRequest(model: "SmolLM2-135M-Instruct",
///                               messages: [ChatMessage(role: "user", content: "Hi!")])
/// request.maxTokens = 64
/// let response = try await engine.generate(request: request)
/// print(response.choices[0].text)
/// for try await event in engine.stream(request: request) {
///     if case let .delta(_, text) = event { print(text, terminator: "") }
/// }
/// ```
///
/// Requests run concurrently: each model's scheduler runs the sequences of all its requests in
/// shared forward passes (continuous batching), each sequence with its own blocks of the model's
/// KV memory. Requests wait, in arrival order, for room in the batch (``BatchingLimits``) and in
/// that memory. The kernels are batch-invariant, so a seeded request gives the same text alone or
/// under load. Cancelling the calling task stops generation at the next step and throws
/// `CancellationError`.
public actor Engine {
    /// How an engine finds, loads and limits models.
    public struct Configuration: Sendable {
        /// Resolves `model` names and paths.
        public var registry: ModelRegistry
        /// The model used when a request names none.
        public var defaultModel: String?
        /// Per-request resource limits.
        public var limits: EngineLimits
        /// Options every model is loaded with (`ModelOptions.kvCacheBytes` bounds
        /// the KV memory all of a model's requests share).
        public var modelOptions: ModelOptions
        /// How many sequences and tokens each model's forward passes take, and how many requests
        /// may wait for room.
        public var batching: BatchingLimits
        /// Reuse the keys and values of prompt prefixes computed before (each model's prefix
        /// cache, within its KV memory). Exact: a request's text is the same with it on or off.
        public var prefixCaching = true
        /// The estimated bytes the grammar maskers of constrained requests keep, all requests and
        /// models together (``Sampling/GrammarCache``): requests with the same constraint share
        /// one masker and its masks.
        public var grammarCacheBytes = 64 << 20

        /// The standard registry (with `SPARROW_MODELS`), the default model SmolLM2-135M-Instruct,
        /// default limits, load options and batching.
        public init(registry: ModelRegistry = .standard(), defaultModel: String? = DefaultModel.name,
                    limits: EngineLimits = .init(), modelOptions: ModelOptions = .init(),
                    batching: BatchingLimits = .init()) {
            self.registry = registry
            self.defaultModel = defaultModel
            self.limits = limits
            self.modelOptions = modelOptions
            self.batching = batching
        }
    }

    /// The configuration the engine was made with.
    public let configuration: Configuration
    /// Models loaded or loading, by resolved path.
    private var models: [String: Task<LoadedModel, any Error>] = [:]
    /// Models whose load finished, by resolved path.
    private var loadedModels: [String: LoadedModel] = [:]
    /// Paths of the models that have answered a request.
    private var answered: Set<String> = []
    /// The maskers of constrained requests, shared by equal constraints, within one byte budget.
    nonisolated let grammarCache: GrammarCache

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        grammarCache = GrammarCache(byteBudget: configuration.grammarCacheBytes)
    }

    /// Answers `request` once generation has finished.
    /// - Throws: ``GenerateError`` for an invalid request, an unknown or unloadable model, a prompt
    ///   that does not fit; `CancellationError` when the task is cancelled.
    public func generate(request: GenerateRequest) async throws -> GenerateResponse {
        try await run(request, onDelta: nil)
    }

    /// Answers `request` as a stream: text deltas as they are generated (see
    /// `Sampling.GenerationEvent` for which modes stream token by token), with each token's
    /// ``GenerateStreamEvent/logprobs(index:entries:)`` before them when the request asked for
    /// `logprobs`, then ``GenerateStreamEvent/finished(_:)`` with the whole response. Ending the
    /// iteration early cancels the generation.
    public nonisolated func stream(request: GenerateRequest) -> AsyncThrowingStream<GenerateStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await self.run(request) { event in continuation.yield(event) }
                    continuation.yield(.finished(response))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Loads a model ahead of its first request (`nil`: the default model) and returns its path.
    @discardableResult
    public func preload(model: String? = nil) async throws -> String {
        let loaded = try await self.model(named: try modelName(model))
        return loaded.path
    }

    /// Renders `messages` with the chat template of `model` (`nil`: the default model), as a
    /// request's prompt would be rendered, without generating; with `tools` and `toolChoice` as a
    /// request's ``GenerateRequest/tools`` and ``GenerateRequest/toolChoice`` show them.
    public func renderPrompt(model: String? = nil, messages: [ChatMessage], tools: [FunctionTool]? = nil,
                             toolChoice: ToolChoice? = nil, parallelToolCalls: Bool = false) async throws -> String {
        let name = try modelName(model)
        var request = GenerateRequest(messages: messages)
        request.tools = tools
        request.toolChoice = toolChoice
        let prompt = tools.map { ToolPrompt(tools: $0, choice: request.effectiveToolChoice, parallel: parallelToolCalls) }
        return try await self.model(named: name).render(messages, tools: prompt, modelName: name)
    }

    /// What a loaded model's scheduler holds now, or `nil` if `model` (`nil`: the default model)
    /// is not loaded.
    public func batchingStatus(model: String? = nil) throws -> BatchingStatus? {
        let path = try configuration.registry.resolve(try modelName(model))
        // Only a finished load has a scheduler to report on.
        return loadedModels[path].map(Self.status)
    }

    /// The scheduler of every loaded model, by the path it was loaded from.
    public func batchingStatuses() -> [String: BatchingStatus] {
        loadedModels.mapValues(Self.status)
    }

    private static func status(_ loaded: LoadedModel) -> BatchingStatus {
        let load = loaded.admission.load, counts = loaded.scheduler.counts
        let prompts = loaded.promptCounts
        return BatchingStatus(
            generating: counts.active, sequences: load.inUse.sequences, waiting: load.waiting,
            reservedBlocks: load.inUse.blocks, freeBlocks: loaded.kvBlockPool.freeBlockCount,
            totalBlocks: loaded.kvBlockPool.blockCount, cachedBlocks: loaded.kvBlockPool.cachedBlockCount,
            evictedBlocks: loaded.kvBlockPool.evictedBlockCount,
            steps: counts.steps, cachedPromptTokens: prompts.cached, computedPromptTokens: prompts.computed)
    }

    /// The scheduler of a loaded model (`nil`: the default model), or `nil` if it is not loaded.
    /// A test hook: tests read its step log (``BatchScheduler/recordSteps()``).
    func scheduler(model: String? = nil) throws -> BatchScheduler? {
        loadedModels[try configuration.registry.resolve(try modelName(model))]?.scheduler
    }

    // MARK: Internals

    private func modelName(_ requested: String?) throws(GenerateError) -> String {
        guard let name = requested ?? configuration.defaultModel else {
            throw .invalidField(field: "model", reason: "no model given and the engine has no default model")
        }
        return name
    }

    private func run(_ request: GenerateRequest, onDelta: (@Sendable (GenerateStreamEvent) -> Void)?) async throws
        -> GenerateResponse
    {
        // The request's one validation, where it enters: everything after takes the checked form.
        let sampling = try request.validatedSampling(limits: configuration.limits)
        let constraint = try request.compiledConstraint(limits: configuration.limits)
        let name = try modelName(request.model)
        if request.mockResponse {
            let response = MockResponse.make(for: request, modelName: name)
            for choice in response.choices { onDelta?(.delta(index: choice.index, text: choice.text)) }
            return response
        }
        let source = try request.promptSource(limits: configuration.limits)
        let loaded = try await model(named: name)
        // The first response from a model reports its load time.
        let isFirstUse = answered.insert(loaded.path).inserted
        // Templates and tokenization of long prompts take time: off the cooperative pool.
        let prompt = try await offPool { _ in try loaded.promptTokens(for: source, modelName: name) }
        let parameters = try Self.fitting(sampling, unlimited: request.unlimitedMaxTokens, promptTokens: prompt.count,
                                          contextLength: loaded.contextLength)
        let ticket = try await loaded.admission.admit(
            try loaded.admissionCost(promptTokens: prompt.count, parameters: parameters.parameters))
        defer { ticket.release() }
        let grammarLimits = configuration.limits.grammar, grammarCache = grammarCache
        return try await offPool { flag in
            let tokenConstraint = constraint.map {
                TokenConstraint(grammar: $0.grammar, vocabulary: loaded.tokenVocabulary, field: $0.field, limits: grammarLimits,
                                cache: grammarCache)
            }
            var response = try Self.generate(
                parameters: parameters, prompt: prompt, model: loaded, modelName: name, constraint: tokenConstraint,
                flag: flag, onDelta: onDelta)
            if isFirstUse { response.timing.loadSeconds = loaded.loadSeconds }
            return response
        }
    }

    /// The loaded model `name` resolves to, loading it (once, however many requests wait) if needed.
    private func model(named name: String) async throws -> LoadedModel {
        let path = try configuration.registry.resolve(name)
        if let pending = models[path] { return try await pending.value }
        var options = configuration.modelOptions
        options.prefixCaching = configuration.prefixCaching
        let batching = configuration.batching, loadOptions = options
        let task = Task { try await offPool { _ in try LoadedModel(path: path, options: loadOptions, limits: batching) } }
        models[path] = task
        do {
            let loaded = try await task.value
            loadedModels[path] = loaded
            return loaded
        } catch {
            models[path] = nil  // let a later request try again
            throw error
        }
    }

    /// `sampling` with `max_tokens` checked against the room the prompt leaves in the context,
    /// and resolved when the request gave none (`nil`), as `unlimited` says.
    /// - Throws: ``GenerateError/contextExceeded(promptTokens:maxTokens:contextLength:)`` when
    ///   prompt + `max_tokens` exceed the context (vLLM's OpenAI server refuses it so; its engine
    ///   would cut the output at the context instead); for no `max_tokens`, a prompt longer than
    ///   the context (``GenerateError/promptTooLong(promptTokens:contextLength:)``) or, read as
    ///   vLLM's chat server reads it, one that leaves no room.
    static func fitting(
        _ sampling: SamplingParameters.Validated, unlimited: GenerateRequest.UnlimitedMaxTokens,
        promptTokens: Int, contextLength: Int
    ) throws(GenerateError) -> SamplingParameters.Validated {
        let room = contextLength - promptTokens
        let resolved: Int
        switch (sampling.maxTokens, unlimited) {
        case let (maxTokens?, _):
            // Subtracting, not adding: max_tokens may be near Int.max when the engine's limit is raised.
            guard maxTokens <= room else {
                throw .contextExceeded(promptTokens: promptTokens, maxTokens: maxTokens, contextLength: contextLength)
            }
            return sampling
        case (nil, .pastContext):
            // A prompt that fills the context still gets the token sampled after it, as in vLLM;
            // a longer one vLLM's scheduler drops ("ignored", an empty output): here an error.
            guard room >= 0 else { throw .promptTooLong(promptTokens: promptTokens, contextLength: contextLength) }
            resolved = room + 1
        case (nil, .contextRemainder):
            // SamplingParams then refuses a max_tokens below 1, as vLLM's does.
            resolved = room
        }
        do { return try sampling.withMaxTokens(resolved) } catch { throw GenerateError(error) }
    }

    /// One admitted request's generation, on a worker thread; its sequences run in the model's
    /// scheduler.
    private static func generate(
        parameters: SamplingParameters.Validated, prompt: [Int], model: LoadedModel, modelName: String,
        constraint: TokenConstraint?, flag: CancellationFlag, onDelta: (@Sendable (GenerateStreamEvent) -> Void)?
    ) throws -> GenerateResponse {
        model.scheduler.begin()
        defer { model.scheduler.end(flag) }
        let sequence = try model.makeSequence(flag: flag)
        var clock = Stopwatch()
        let promptLogits: [Float], cachedTokens: Int
        do { (promptLogits, cachedTokens) = try sequence.prefill(prompt) } catch let error as CancellationError {
            throw error
        } catch {
            throw GenerateError.inference(reason: "\(error)")
        }
        let promptSeconds = clock.lap().wall
        model.countPrompt(tokens: prompt.count, cached: cachedTokens)
        let setup = GenerationSetup(parameters: parameters, promptTokens: prompt, endTokenIDs: model.endTokenIDs,
                                    eosTokenID: model.tokenizer.eosID, constraint: constraint)
        let outputs: [SequenceOutput]
        do {
            outputs = try Sampling.generate(
                model: sequence, promptLogits: promptLogits,
                detokenizer: model.tokenizer.makeStreamingDecoder(skipSpecial: true), setup: setup
            ) { event in
                switch event {
                case let .delta(index, text, _, logprobs):
                    if !logprobs.isEmpty { onDelta?(.logprobs(index: index, entries: logprobs.map(TokenLogprobJSON.init))) }
                    if !text.isEmpty { onDelta?(.delta(index: index, text: text)) }
                }
            }
        } catch let error as CancellationError {
            throw error
        } catch let error as GenerateError {
            throw error
        } catch let error as SamplingError {
            throw GenerateError(error)
        } catch {
            throw GenerateError.inference(reason: "\(error)")
        }
        let generationSeconds = clock.lap().wall
        let generated = outputs.reduce(0) { $0 + $1.tokenIDs.count }
        return GenerateResponse(
            id: "gen-" + randomHex(24), model: modelName, choices: outputs.map(GenerateChoice.init),
            usage: .init(promptTokens: prompt.count, completionTokens: generated, cachedPromptTokens: cachedTokens),
            timing: .init(
                loadSeconds: 0, promptSeconds: promptSeconds, generationSeconds: generationSeconds,
                promptTokensPerSecond: Double(prompt.count) / max(promptSeconds, 1e-9),
                generationTokensPerSecond: Double(generated) / max(generationSeconds, 1e-9)))
    }
}

/// A snapshot of one model's scheduler (``Engine/batchingStatus(model:)``); its JSON keys are
/// snake_case (`free_blocks`, …), as `GET /health` reports it.
public struct BatchingStatus: Sendable, Equatable, Codable {
    /// Requests generating now (admitted, past tokenization).
    public var generating: Int
    /// Sequences admitted requests hold (best_of, or beam width, each).
    public var sequences: Int
    /// Requests waiting for room.
    public var waiting: Int
    /// KV blocks admitted requests reserved for their worst case.
    public var reservedBlocks: Int
    /// KV blocks of 16 positions no sequence holds (free, or kept by the prefix cache until
    /// needed), and all of them.
    public var freeBlocks: Int
    public var totalBlocks: Int
    /// Blocks the prefix cache indexes (held by sequences or not), and those it gave up so far for
    /// new positions (evicted blocks are reused).
    public var cachedBlocks: Int
    public var evictedBlocks: Int
    /// Forward passes run so far.
    public var steps: Int
    /// Prompt tokens so far that came from the prefix cache (hits) and that were computed (misses).
    public var cachedPromptTokens: Int
    public var computedPromptTokens: Int

    enum CodingKeys: String, CodingKey {
        case generating, sequences, waiting, steps
        case reservedBlocks = "reserved_blocks", freeBlocks = "free_blocks", totalBlocks = "total_blocks"
        case cachedBlocks = "cached_blocks", evictedBlocks = "evicted_blocks"
        case cachedPromptTokens = "cached_prompt_tokens", computedPromptTokens = "computed_prompt_tokens"
    }
}

/// Runs blocking work on a Dispatch worker thread instead of a cooperative-pool thread, so a long
/// generation never starves other tasks (a server's health checks, other requests' streams).
/// Cancelling the awaiting task sets the flag the work polls.
func offPool<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
    let flag = CancellationFlag()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            // A queue of its own: Linux's global queue runs about one blocking job per core and
            // adds threads about once a second, so generations there would take turns.
            DispatchQueue(label: "sparrow.offpool", qos: .userInitiated).async {
                continuation.resume(with: Result { try body(flag) })
            }
        }
    } onCancel: {
        flag.cancel()
    }
}

/// `count` random lowercase hex digits: the random part of response ids.
package func randomHex(_ count: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdef")
    return String((0..<count).map { _ in digits[Int(rng.next() % 16)] })
}
