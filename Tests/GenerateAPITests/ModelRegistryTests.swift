import Foundation
import Testing
@testable import GenerateAPI

@Suite("ModelRegistry")
struct ModelRegistryTests {
    /// A models folder: `a.gguf`, `org/b.gguf`, `org/hf/` (config.json), and `single/` and `empty/`,
    /// which are not models (a directory is a model by its config.json, not by a .gguf inside).
    static func makeRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-registry-\(UUID().uuidString)").path
        let fm = FileManager.default
        for dir in ["org/hf", "single", "empty"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for file in ["a.gguf", "org/b.gguf", "org/hf/config.json", "single/model-q4.gguf", "empty/readme.txt"] {
            _ = fm.createFile(atPath: root + "/" + file, contents: Data("x".utf8))
        }
        return root
    }

    @Test("names resolve as <root>/<name>.gguf and <root>/<name>/")
    func names() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = ModelRegistry(roots: [root])
        #expect(try registry.resolve("a") == root + "/a.gguf")
        #expect(try registry.resolve("org/b") == root + "/org/b.gguf")
        #expect(try registry.resolve("org/hf") == root + "/org/hf")
        #expect(try registry.resolve("single/model-q4") == root + "/single/model-q4.gguf")
        #expect(throws: GenerateError.self) { try registry.resolve("single") }
        #expect(registry.availableModels() == ["a", "org/b", "org/hf", "single/model-q4"])
    }

    @Test("an unknown name lists what is available")
    func unknown() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = ModelRegistry(roots: [root])
        #expect(throws: GenerateError.unknownModel(name: "meta-llama/Meta-Llama-3-8B-Instruct", available: ["a", "org/b", "org/hf", "single/model-q4"])) {
            try registry.resolve("meta-llama/Meta-Llama-3-8B-Instruct")
        }
        #expect(throws: GenerateError.self) { try registry.resolve("empty") }
        let message = GenerateError.unknownModel(name: "x", available: ["a", "b"]).description
        #expect(message == "unknown model \"x\" (available: a, b)")
    }

    @Test("paths are accepted unless turned off; names cannot climb out of their root")
    func paths() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try ModelRegistry(roots: []).resolve(root + "/a.gguf") == root + "/a.gguf")
        let closed = ModelRegistry(roots: [root + "/org"], allowsPaths: false)
        #expect(throws: GenerateError.self) { try closed.resolve(root + "/a.gguf") }
        #expect(throws: GenerateError.self) { try closed.resolve("../a") }
        #expect(throws: GenerateError.self) { try closed.resolve("./b/../../a") }
        #expect(try closed.resolve("b") == root + "/org/b.gguf")
    }

    @Test("SPARROW_MODELS adds roots; the default model's names are aliases of the cached file")
    func standard() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = ModelRegistry.standard(roots: ["/nonexistent"], environment: ["SPARROW_MODELS": root, "SPARROW_CACHE": root])
        #expect(registry.roots == ["/nonexistent", root])
        #expect(registry.aliases["SmolLM2-135M-Instruct"] == root + "/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(try registry.resolve("a") == root + "/a.gguf")
        // The alias's file does not exist here, so it is not listed and does not resolve.
        #expect(!registry.availableModels().contains("SmolLM2-135M-Instruct"))
        #expect(throws: GenerateError.self) { try registry.resolve("SmolLM2-135M-Instruct") }
    }
}
