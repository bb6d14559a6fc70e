import Foundation
import ModelFormats
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// `generation_config.json`'s `eos_token_id` adds end-of-generation ids for a Hugging Face
/// directory, as transformers' `GenerationConfig` reads it: one id or a list of them.
@Suite("generation_config.json end ids")
struct GenerationConfigTests {
    /// A copy of the tiny llama checkpoint with `generation_config.json` replaced by `json`.
    static func checkpoint(generationConfig json: String) throws -> URL {
        let source = FixturePaths.url("transformer/llama")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-genconfig-\(UUID())")
        try FileManager.default.copyItem(at: source, to: copy)
        try Data(json.utf8).write(to: copy.appendingPathComponent("generation_config.json"))
        return copy
    }

    @Test(arguments: [
        (#"{"eos_token_id": 2}"#, [2]),
        (#"{"eos_token_id": [2, 7, 11]}"#, [2, 7, 11]),
        (#"{"eos_token_id": null}"#, []),
        (#"{"eos_token_id": [2, "x", 3.5, 7]}"#, [2, 7]),
        (#"{"eos_token_id": 2,}"#, []),  // not JSON: the file is ignored
    ])
    func endIDs(json: String, expected: [Int]) throws {
        let directory = try Self.checkpoint(generationConfig: json)
        defer { try? FileManager.default.removeItem(at: directory) }
        let resources = try ModelResources(model: ModelSource(path: directory.path))
        #expect(resources.extraEndIDs == expected)
    }
}
