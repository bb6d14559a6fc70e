import Foundation

/// Finds the model a request names.
///
/// `model` may be
/// - a path to a `.gguf` file or a Hugging Face directory (when ``allowsPaths``);
/// - a name such as `TinyLlama/TinyLlama-1.1B-Chat-v1.0`, looked up under each root as
///   `<root>/<name>.gguf` or `<root>/<name>/` (a Hugging Face directory: `config.json` and
///   safetensors);
/// - one of the ``aliases`` (the default model's short names).
///
/// Roots come from the engine's configuration and from `SPARROW_MODELS` (colon-separated).
public struct ModelRegistry: Sendable, Equatable {
    /// The folders names are looked up in, in order.
    public var roots: [String]
    /// Names that stand for a fixed path (e.g. `SmolLM2-135M-Instruct` → the cached GGUF).
    public var aliases: [String: String]
    /// Whether `model` may be a filesystem path. A server exposed to clients turns this off so
    /// that requests can only name the models under its roots.
    public var allowsPaths: Bool

    public init(roots: [String] = [], aliases: [String: String] = [:], allowsPaths: Bool = true) {
        self.roots = roots
        self.aliases = aliases
        self.allowsPaths = allowsPaths
    }

    /// A registry with `roots` followed by the folders of `SPARROW_MODELS`, and the default
    /// model's aliases.
    public static func standard(roots: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ModelRegistry
    {
        let fromEnvironment = (environment["SPARROW_MODELS"] ?? "").split(separator: ":").map(String.init)
        var aliases: [String: String] = [:]
        let cached = DefaultModel.cachedPath(environment: environment)
        for name in DefaultModel.names { aliases[name] = cached }
        return ModelRegistry(roots: roots + fromEnvironment, aliases: aliases)
    }

    /// The path of the model `name` refers to.
    /// - Throws: ``GenerateError/unknownModel(name:available:)`` listing ``availableModels()``.
    public func resolve(_ name: String) throws(GenerateError) -> String {
        let fm = FileManager.default
        if let path = aliases[name], fm.fileExists(atPath: path) { return path }
        if allowsPaths, isModel(at: name) { return name }
        // A name must stay inside its root: no absolute paths, no "..", no empty components.
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !name.isEmpty && !name.hasPrefix("/") && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
        if safe {
            for root in roots {
                let base = URL(fileURLWithPath: root).appendingPathComponent(name).path
                if isModel(at: base + ".gguf") { return base + ".gguf" }
                if isDirectory(base), isModel(at: base) { return base }
            }
        }
        throw .unknownModel(name: name, available: availableModels())
    }

    /// The names a request can use: the aliases whose file exists, and every model under the roots
    /// (one or two levels deep, so `org/name` directories are found), sorted.
    public func availableModels() -> [String] {
        let fm = FileManager.default
        var names = Set(aliases.filter { fm.fileExists(atPath: $0.value) }.keys)
        for root in roots {
            for entry in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
                let path = URL(fileURLWithPath: root).appendingPathComponent(entry).path
                if let name = modelName(entry, at: path) {
                    names.insert(name)
                } else if isDirectory(path) {
                    for inner in (try? fm.contentsOfDirectory(atPath: path)) ?? [] {
                        let innerPath = URL(fileURLWithPath: path).appendingPathComponent(inner).path
                        if let name = modelName(inner, at: innerPath) { names.insert(entry + "/" + name) }
                    }
                }
            }
        }
        return names.sorted()
    }

    /// A `.gguf` file, or a directory with `config.json`.
    private func isModel(at path: String) -> Bool {
        if isDirectory(path) { return FileManager.default.fileExists(atPath: path + "/config.json") }
        return path.hasSuffix(".gguf") && FileManager.default.fileExists(atPath: path)
    }

    /// The name a directory entry is requested by, if it is a model.
    private func modelName(_ entry: String, at path: String) -> String? {
        guard isModel(at: path) else { return nil }
        return entry.hasSuffix(".gguf") ? String(entry.dropLast(5)) : entry
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// The default model for demos and tests: SmolLM2-135M-Instruct, Q4_1 GGUF, cached under
/// `$SPARROW_CACHE/models` (else `$XDG_CACHE_HOME/sparrow`, else `~/.cache/sparrow`).
/// The `sparrow` command fetches it on first use; the library only looks for it.
public enum DefaultModel {
    /// The names that stand for it.
    public static let names = ["SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct"]
    /// The name responses report.
    public static let name = "SmolLM2-135M-Instruct"
    /// The file name in the cache.
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Where the cached file lives (whether or not it is there yet).
    public static func cachedPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let cache: String
        if let explicit = environment["SPARROW_CACHE"], !explicit.isEmpty {
            cache = explicit
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            cache = xdg + "/sparrow"
        } else {
            cache = (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/sparrow"
        }
        return cache + "/models/" + fileName
    }
}
