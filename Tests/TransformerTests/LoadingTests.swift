import Foundation
import ModelFormats
import Tensor
import Testing
@testable import Transformer

/// `loadModel(path:)` on GGUF files and Hugging Face directories written by the tests, and the
/// typed errors for checkpoints that do not fit their architecture.
@Suite("Transformer loading")
struct LoadingTests {
    static let prompt = [1, 7, 22, 3, 39, 15, 8, 30, 2, 11]

    @Test("A llama GGUF file loads with adjacent-pair RoPE and gives the Hugging Face logits")
    func ggufFile() throws {
        let tiny = TinyModel(TinyModel.config())
        let path = try GGUFWriter.llama(tiny).write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try loadModel(path: path)
        #expect(model.config.architecture == .llama)
        #expect(model.config.ropeConvention == .adjacentPairs)
        #expect(model.config.tieWordEmbeddings == false)
        #expect(model.config.vocabularySize == 40)
        #expect(model.config.headDimension == 8)
        #expect(model.weights.tokenEmbedding.storage.isMapped)
        let delta = maxAbsDifference(try model.prefillAllPositions(tokens: Self.prompt),
                                     try tiny.model().prefillAllPositions(tokens: Self.prompt))
        #expect(delta < 1e-5, "max |Δlogit| = \(delta)")
    }

    @Test("A GGUF file without output.weight is tied to its embedding")
    func ggufTied() throws {
        let tiny = TinyModel(TinyModel.config(tied: true))
        let path = try GGUFWriter.llama(tiny).write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try loadModel(path: path)
        #expect(model.config.tieWordEmbeddings)
        let delta = maxAbsDifference(try model.prefillAllPositions(tokens: Self.prompt),
                                     try tiny.model().prefillAllPositions(tokens: Self.prompt))
        #expect(delta < 1e-5)
    }

    @Test("A Hugging Face directory (Mistral with a sliding window) loads and runs")
    func huggingFaceDirectory() throws {
        let tiny = TinyModel(TinyModel.config(architecture: .mistral, window: 3))
        let dir = try HuggingFaceWriter.llama(tiny).write()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try loadModel(path: dir, options: ModelOptions(maxContextLength: 16))
        #expect(model.config.architecture == .mistral)
        #expect(model.config.slidingWindow == 3)
        #expect(model.contextLength == 16)
        let expected = ReferenceForward(model: tiny).logits(Self.prompt)
        #expect(maxAbsDifference(try model.prefillAllPositions(tokens: Self.prompt), expected) < 1e-4)
        // The .safetensors file itself works too, with config.json beside it.
        let file = try loadModel(path: dir + "/model.safetensors")
        #expect(file.config == model.config)
    }

    @Test("GGUF: a missing tensor is named")
    func ggufMissingTensor() throws {
        var writer = GGUFWriter.llama(TinyModel(TinyModel.config()))
        writer.tensors.removeAll { $0.name == "blk.1.ffn_down.weight" }
        let path = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TransformerError.missingTensor("blk.1.ffn_down.weight")) { try loadModel(path: path) }
    }

    @Test("GGUF: a tensor of the wrong shape is named with both shapes")
    func ggufWrongShape() throws {
        var writer = GGUFWriter.llama(TinyModel(TinyModel.config()))
        let i = try #require(writer.tensors.firstIndex { $0.name == "blk.0.attn_k.weight" })
        writer.tensors[i] = ("blk.0.attn_k.weight", [32, 32], [Float](repeating: 0, count: 32 * 32))
        let path = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TransformerError.wrongShape(tensor: "blk.0.attn_k.weight", expected: [16, 32], actual: [32, 32])) {
            try loadModel(path: path)
        }
    }

    @Test("GGUF: an unknown architecture and a missing key are refused by name")
    func ggufBadMetadata() throws {
        var writer = GGUFWriter.llama(TinyModel(TinyModel.config()))
        writer.metadata[0] = ("general.architecture", .string("gpt2"))
        let path = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TransformerError.unsupportedArchitecture("gpt2")) { try loadModel(path: path) }

        var missing = GGUFWriter.llama(TinyModel(TinyModel.config()))
        missing.metadata.removeAll { $0.0 == "llama.block_count" }
        let path2 = try missing.write()
        defer { try? FileManager.default.removeItem(atPath: path2) }
        #expect(throws: TransformerError.gguf(.missingKey("llama.block_count"))) { try loadModel(path: path2) }
    }

    @Test("Hugging Face: a missing tensor, an integer tensor and a missing config key are named")
    func huggingFaceErrors() throws {
        let tiny = TinyModel(TinyModel.config())
        var writer = HuggingFaceWriter.llama(tiny)
        writer.tensors.removeAll { $0.name == "lm_head.weight" }
        let dir = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: TransformerError.missingTensor("lm_head.weight")) { try loadModel(path: dir) }

        var ints = HuggingFaceWriter.llama(tiny)
        ints.dtypes["model.layers.0.mlp.up_proj.weight"] = "I32"
        let dir2 = try ints.write()
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(throws: TransformerError.unsupportedTensorType(tensor: "model.layers.0.mlp.up_proj.weight", type: "I32")) {
            try loadModel(path: dir2)
        }

        var noLayers = HuggingFaceWriter.llama(tiny)
        noLayers.config["num_hidden_layers"] = nil
        let dir3 = try noLayers.write()
        defer { try? FileManager.default.removeItem(atPath: dir3) }
        #expect(throws: TransformerError.missingConfigValue(key: "num_hidden_layers")) { try loadModel(path: dir3) }
    }

    @Test("Something that is not a model is refused")
    func notAModel() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/LoadingTests.swift"
        #expect(throws: TransformerError.self) { try loadModel(path: readme) }
        #expect(throws: TransformerError.self) { try loadModel(path: "/nonexistent/model.gguf") }
    }
}
