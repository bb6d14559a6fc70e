import Foundation
import ModelFormats
import Testing
import SparrowTestSupport

/// What `ModelSource` decides a path holds.
@Suite("ModelSource")
struct ModelSourceTests {
    @Test("a GGUF file is recognised by its magic and parsed")
    func gguf() throws {
        let path = FixturePaths.url("transformer/llama-q8_0.gguf").path
        let source = try ModelSource(path: path)
        let file = try #require(source.ggufFile)
        #expect(file.architecture == "llama")
        #expect(file.path == path)
    }

    @Test("a directory is a Hugging Face checkpoint; a .safetensors file is read with its directory")
    func huggingFace() throws {
        let directory = FixturePaths.url("transformer/llama").path
        guard case let .huggingFace(d, c) = try ModelSource(path: directory).kind else {
            Issue.record("not a Hugging Face checkpoint")
            return
        }
        #expect(d == directory && c == directory)
        let file = directory + "/model.safetensors"
        guard case let .huggingFace(d2, c2) = try ModelSource(path: file).kind else {
            Issue.record("not a Hugging Face checkpoint")
            return
        }
        #expect(d2 == directory && c2 == file)
        #expect(try ModelSource(path: file).ggufFile == nil)
    }

    @Test("a missing path, a file of no model and a malformed GGUF header are typed errors")
    func errors() throws {
        let missing = "/nonexistent/model.gguf"
        #expect(throws: ModelSourceError.unrecognized(path: missing, reason: "no such file or directory")) {
            try ModelSource(path: missing)
        }
        let readme = FixturePaths.url("transformer/README.md").path
        #expect(throws: ModelSourceError.unrecognized(
            path: readme, reason: "neither a GGUF file nor a Hugging Face checkpoint with config.json")) {
            try ModelSource(path: readme)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-model-source-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let truncated = directory.appendingPathComponent("truncated.gguf").path
        try Data(Array("GGUF".utf8) + [3, 0]).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: ModelSourceError.gguf(.truncatedHeader(what: "version", offset: 4))) {
            try ModelSource(path: truncated)
        }
    }
}
