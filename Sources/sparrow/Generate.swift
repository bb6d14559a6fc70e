import ArgumentParser
import Foundation
import GenerateAPI
import Sampling
import Transformer

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a model.",
        discussion: """
            A bare TEXT is a user message put through the model's chat template; --prompt is raw \
            prompt text (special tokens such as <|im_start|> are parsed); --messages is an OpenAI-style \
            JSON conversation; --request reads a whole request (the JSON of POST /v1/generate) from a \
            file or - for stdin, and the other flags override its fields. Without --model the default \
            model, SmolLM2-135M-Instruct, is used and fetched on first use.

            Text streams to stdout as it is generated; load time and speed go to stderr. --json prints \
            the response object instead. Sampling follows vLLM 0.4.x: temperature 0 is greedy, \
            --beam-search needs --best-of > 1 and temperature 0.
            """
    )

    @Argument(help: "A user message (put through the model's chat template).")
    var text: String?

    @Option(help: "A .gguf file, a Hugging Face directory, a model name, or a Hub name owner/name[:TAG][@revision] (default: SmolLM2-135M-Instruct).")
    var model: String?

    @Option(help: "A folder to look model names up in (repeatable; SPARROW_MODELS adds more).")
    var modelsDir: [String] = []

    @Option(help: "Raw prompt text, used as it is.")
    var prompt: String?

    @Option(help: "A JSON array of {\"role\", \"content\"} messages.")
    var messages: String?

    @Option(help: "A JSON request file (the body of POST /v1/generate), or - for stdin.")
    var request: String?

    @Option(help: "The most tokens to generate (default 256 here; 16 in a request without max_tokens, up to the context with max_tokens null).")
    var maxTokens: Int?
    @Option(help: "Sampling temperature; 0 is greedy (default 1).") var temperature: Double?
    @Option(help: "Nucleus sampling: keep the most likely tokens up to this probability mass (default 1).") var topP: Double?
    @Option(help: "Keep only the K most likely tokens (-1: off).") var topK: Int?
    @Option(help: "Drop tokens less likely than this fraction of the most likely one (default 0).") var minP: Double?
    @Option(help: "Penalty in [-2, 2] on tokens already generated.") var presencePenalty: Double?
    @Option(help: "Penalty in [-2, 2] per occurrence in the generated text.") var frequencyPenalty: Double?
    @Option(help: "Penalty in (0, 2] on tokens in the prompt or output (1: off).") var repetitionPenalty: Double?
    @Option(help: "How many outputs to return.") var n: Int?
    @Option(help: "How many candidates to generate (the beam width with --beam-search).") var bestOf: Int?
    @Flag(help: "Use beam search (needs --best-of > 1 and --temperature 0).") var beamSearch = false
    @Option(help: "Beam search: exponent of the length in a beam's score.") var lengthPenalty: Double?
    @Option(help: "Beam search: true, false or never.") var earlyStopping: String?
    @Option(help: "Random seed: the same seed gives the same output.") var seed: UInt64?
    @Option(help: "A string that ends the output (repeatable).") var stop: [String] = []
    @Option(help: "A token id that ends the output (repeatable).") var stopTokenId: [Int] = []
    @Flag(help: "Generate past the model's end tokens, to --max-tokens (vLLM's ignore_eos; end tokens stay in the token ids, not in the text).")
    var ignoreEos = false
    @Option(help: "Report this many most likely alternatives per token (with --json).") var logprobs: Int?
    @Flag(help: "Answer with a canned mock response; no model is loaded.") var mockResponse = false
    @Option(help: "Cap each sequence's context at this many positions (default: the model's context length).")
    var maxContext: Int?
    @Option(help: "KV cache memory in MiB, shared by all candidates (default: room for 16 full contexts, at most 1024 MiB, at least one context).")
    var kvCacheMib: Int?
    @Flag(help: "Print the response as one JSON object instead of streaming text.") var json = false

    func validate() throws {
        _ = try KVCacheOption.bytes(mib: kvCacheMib)
    }

    func run() async throws {
        var request = try baseRequest()
        try applyFlags(to: &request)
        // The default model is fetched on first use; a mock response needs no file at all.
        var registry = ModelRegistry.standard(roots: modelsDir)
        let requested = request.model ?? DefaultModel.name
        if !request.mockResponse, DefaultModel.names.contains(requested) {
            let path = try await DefaultModelFetcher.ensure()
            for name in DefaultModel.names { registry.aliases[name] = path }
        } else if !request.mockResponse, let path = try await HubModels.path(for: requested, registry: registry) {
            // A Hub name: pulled into (or found in) the Hugging Face cache.
            registry.aliases[requested] = path
        }
        var options = ModelOptions()
        options.maxContextLength = maxContext
        options.kvCacheBytes = try KVCacheOption.bytes(mib: kvCacheMib)
        // The one request runs alone: its batch holds all its candidates, as many as the engine's
        // limits allow (a larger n or best_of is refused by name), not only the 16 a server's
        // batch holds by default.
        let limits = EngineLimits()
        var batching = BatchingLimits()
        let candidates = min(max(request.n, request.bestOf ?? 0), limits.maxBestOf)
        batching.maxBatchSequences = max(batching.maxBatchSequences, candidates)
        batching.maxBatchTokens = max(batching.maxBatchTokens, batching.maxBatchSequences + 1)
        let engine = Engine(configuration: .init(registry: registry, defaultModel: DefaultModel.name, limits: limits,
                                                 modelOptions: options, batching: batching))
        do {
            if json {
                let response = try await engine.generate(request: request)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(
                    positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
                FileHandle.standardOutput.write(try encoder.encode(response) + Data("\n".utf8))
                return
            }
            try await streamText(engine: engine, request: request)
        } catch let error as GenerateError {
            throw CommandError(error.description)
        }
    }

    /// Streams choice 0 as it is generated (more choices are printed whole, each under a header),
    /// then the speed on stderr.
    private func streamText(engine: Engine, request: GenerateRequest) async throws {
        let out = FileHandle.standardOutput
        var texts: [Int: String] = [:]
        for try await event in engine.stream(request: request) {
            switch event {
            case let .delta(index, text):
                if request.n == 1 { out.write(Data(text.utf8)) } else { texts[index, default: ""] += text }
            case .logprobs:
                break  // printed with the response, under --json
            case let .finished(response):
                if request.n > 1 {
                    for choice in response.choices {
                        out.write(Data("--- choice \(choice.index) (cumulative logprob \(choice.cumulativeLogprob))\n".utf8))
                        out.write(Data((texts[choice.index] ?? choice.text).utf8 + [10]))
                    }
                } else {
                    out.write(Data("\n".utf8))
                }
                let t = response.timing
                let finish = response.choices.map(\.finishReason.rawValue).joined(separator: ", ")
                if t.loadSeconds > 0 { note(String(format: "loaded %@ in %.2f s", response.model, t.loadSeconds)) }
                note(String(format: "prompt: %d tokens, %.1f tokens/s; generated %d tokens, %.1f tokens/s; finish: %@",
                            response.usage.promptTokens, t.promptTokensPerSecond, response.usage.completionTokens,
                            t.generationTokensPerSecond, finish))
            }
        }
    }

    /// The request from --request, or an empty one with the command line's max_tokens default.
    private func baseRequest() throws -> GenerateRequest {
        guard let source = request else { return GenerateRequest(maxTokens: 256) }
        let data: Data
        if source == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: source) else {
                throw CommandError("cannot read the request file \(source)")
            }
            data = contents
        }
        do {
            var decoded = try JSONDecoder().decode(GenerateRequest.self, from: data)
            decoded.readConstraintInOrder(fromBody: data)  // a schema's properties in the file's order
            return decoded
        } catch let error as GenerateError {
            throw CommandError(error.description)
        } catch {
            throw CommandError(GenerateError.invalidJSON(reason: "\(source) is not a JSON object: \(error.localizedDescription)").description)
        }
    }

    /// Every flag given on the command line replaces the request's field.
    private func applyFlags(to r: inout GenerateRequest) throws {
        let inputs = [text != nil, prompt != nil, messages != nil].filter { $0 }.count
        if inputs > 1 { throw CommandError("give only one of TEXT, --prompt and --messages") }
        if let text { r.messages = [ChatMessage(role: "user", content: text)]; r.prompt = nil }
        if let prompt { r.prompt = prompt; r.messages = nil }
        if let messages {
            do {
                r.messages = try JSONDecoder().decode([ChatMessage].self, from: Data(messages.utf8))
            } catch {
                throw CommandError("invalid --messages: expected a JSON array of {\"role\", \"content\"} objects")
            }
            r.prompt = nil
        }
        if request == nil, inputs == 0, !mockResponse {
            throw CommandError("nothing to generate from: give TEXT, --prompt, --messages or --request")
        }
        if let model { r.model = model }
        if let maxTokens { r.maxTokens = maxTokens }
        if let temperature { r.temperature = temperature }
        if let topP { r.topP = topP }
        if let topK { r.topK = topK }
        if let minP { r.minP = minP }
        if let presencePenalty { r.presencePenalty = presencePenalty }
        if let frequencyPenalty { r.frequencyPenalty = frequencyPenalty }
        if let repetitionPenalty { r.repetitionPenalty = repetitionPenalty }
        if let n { r.n = n }
        if let bestOf { r.bestOf = bestOf }
        if beamSearch { r.useBeamSearch = true }
        if let lengthPenalty { r.lengthPenalty = lengthPenalty }
        if let earlyStopping {
            switch earlyStopping {
            case "true": r.earlyStopping = .atOnce
            case "false": r.earlyStopping = .heuristic
            case "never": r.earlyStopping = .never
            default: throw CommandError("invalid early_stopping: expected true, false or never, got \(earlyStopping)")
            }
        }
        if let seed { r.seed = seed }
        if !stop.isEmpty { r.stop = stop }
        if !stopTokenId.isEmpty { r.stopTokenIDs = stopTokenId }
        r.ignoreEOS = ignoreEos
        if let logprobs { r.logprobs = logprobs }
        if mockResponse { r.mockResponse = true }
    }
}
