import ArgumentParser
import Foundation
import GenerateAPI
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
            """
    )

    @Option(help: "The default model: a .gguf file, a Hugging Face directory, or a model name (default: SmolLM2-135M-Instruct).")
    var model: String?

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port, printed at start).") var port = 8080

    @Option(help: "A folder to look model names up in (repeatable; SPARROW_MODELS adds more).")
    var modelsDir: [String] = []

    @Option(help: "Generations that run at once per model.") var maxConcurrent = 1
    @Option(help: "Requests that may wait per model before the server answers 429.") var maxQueue = 32
    @Option(help: "The largest request body in bytes (larger: 413).") var maxBodyBytes = 8 << 20

    @Option(help: "Cap the KV cache at this many positions (default: the model's context length).")
    var maxContext: Int?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must not be negative") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
    }

    func run() async throws {
        var registry = ModelRegistry.standard(roots: modelsDir)
        // Clients name models; they must not be able to name arbitrary files on this machine.
        registry.allowsPaths = false
        let defaultName = try defaultModel(registry: &registry)
        var options = ModelOptions()
        options.maxContextLength = maxContext
        let engine = Engine(configuration: .init(registry: registry, defaultModel: defaultName, modelOptions: options))
        do {
            let path = try await engine.preload(model: defaultName)
            note("loaded \(defaultName) (\(path))")
        } catch let error as GenerateError {
            throw CommandError(error.description)
        }
        let server = SparrowServer(backend: engine, configuration: .init(
            host: host, port: port, concurrencyPerModel: maxConcurrent, queuePerModel: maxQueue, maxBodyBytes: maxBodyBytes))
        let host = host
        try await server.runService { port in
            note("sparrow serve: listening on http://\(host):\(port) (POST /v1/generate, /v1/completions, /v1/chat/completions; GET /v1/models, /health)")
        }
    }

    /// The name requests get without `model`. A path given with --model is served under its file
    /// name (without `.gguf`), since requests cannot name paths; the default model is fetched.
    private func defaultModel(registry: inout ModelRegistry) throws -> String {
        let requested = model ?? DefaultModel.name
        if DefaultModel.names.contains(requested) {
            let path = try DefaultModelFetcher.ensure()
            for name in DefaultModel.names { registry.aliases[name] = path }
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
