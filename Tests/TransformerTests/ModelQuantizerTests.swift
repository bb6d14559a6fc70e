import Foundation
import ModelFormats
import Testing
import Tensor
@testable import Transformer
import SparrowTestSupport

/// ``ModelQuantizer``'s behaviour beyond the bytes (QuantizationReferenceTests): bad input is a typed
/// error, and nothing is ever left under the output's name, nor a temporary file beside it.
@Suite("Model quantizer")
struct ModelQuantizerTests {
    static let kquant = FixturePaths.url("quantize/kquant-f16.gguf").path

    /// A llama-shaped file with the given metadata and one 2-D weight of `values`.
    static func model(architecture: String = "llama", blockCount: UInt32? = 2, values: [Float] = Array(repeating: 0.5, count: 64))
        throws -> String
    {
        var w = GGUFWriter()
        w.metadata = [("general.architecture", .string(architecture))]
        if let blockCount { w.metadata.append(("\(architecture).block_count", .u32(blockCount))) }
        w.tensors = [("blk.0.attn_q.weight", [2, values.count / 2], values), ("output_norm.weight", [4], [1, 1, 1, 1])]
        return try w.write()
    }

    @Test func theOutputLoadsAndRuns() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path + "/llama-q8_0.gguf"
        let plan = try ModelQuantizer(type: .q8_0).quantize(input: FixturePaths.url("transformer/llama-f32.gguf").path, output: output)
        #expect(plan.tensors.filter(\.isConverted).allSatisfy { $0.output.type == .q8_0 })
        let model = try loadModel(path: output)
        let logits = try model.prefillAllPositions(tokens: [1, 5, 9])
        #expect(logits.count == 3 && logits.allSatisfy { $0.allSatisfy(\.isFinite) })
        #expect(try directory.contents() == ["llama-q8_0.gguf"])
    }

    @Test func replacesAnExistingFile() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path + "/out.gguf"
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        try ModelQuantizer(type: .q4_0).quantize(input: Self.kquant, output: output)
        #expect(try GGUFFile(path: output).metadata.int("general.file_type") == 2)
    }

    @Test func progressCoversEveryTensorOnce() throws {
        let directory = try TemporaryDirectory()
        var seen: [Int] = []
        var last: QuantizationProgress?
        let plan = try ModelQuantizer(type: .q4_K_M).quantize(input: Self.kquant, output: directory.path + "/out.gguf") {
            if seen.last != $0.tensorIndex { seen.append($0.tensorIndex) }
            last = $0
        }
        #expect(seen == Array(0..<plan.tensors.count))
        #expect(last.map { $0.completedBytes == $0.totalBytes } == true)
    }

    @Test func slabsOfOneRowGiveTheSameFile() throws {
        let directory = try TemporaryDirectory()
        var quantizer = ModelQuantizer(type: .q3_K_M, threadCount: 3)
        try quantizer.quantize(input: Self.kquant, output: directory.path + "/a.gguf")
        quantizer.slabBytes = 1
        try quantizer.quantize(input: Self.kquant, output: directory.path + "/b.gguf")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/a.gguf"))
            == Data(contentsOf: URL(fileURLWithPath: directory.path + "/b.gguf")))
    }

    @Test func unsupportedArchitecture() throws {
        let input = try Self.model(architecture: "gpt2")
        defer { try? FileManager.default.removeItem(atPath: input) }
        let directory = try TemporaryDirectory()
        #expect(throws: ModelQuantizationError.unsupportedArchitecture("gpt2")) {
            try ModelQuantizer(type: .q4_0).quantize(input: input, output: directory.path + "/out.gguf")
        }
        #expect(try directory.contents().isEmpty)
    }

    @Test func missingBlockCount() throws {
        let input = try Self.model(blockCount: nil)
        defer { try? FileManager.default.removeItem(atPath: input) }
        #expect(throws: ModelQuantizationError.missingMetadata(key: "llama.block_count")) {
            try QuantizationPlan(type: .q4_0, file: GGUFFile(path: input))
        }
        let zero = try Self.model(blockCount: 0)
        defer { try? FileManager.default.removeItem(atPath: zero) }
        #expect(throws: ModelQuantizationError.invalidMetadata(key: "llama.block_count", reason: "0 is not in 1...512")) {
            try QuantizationPlan(type: .q4_0, file: GGUFFile(path: zero))
        }
    }

    @Test func notAGGUFFile() throws {
        let directory = try TemporaryDirectory()
        let input = directory.path + "/model.gguf"
        try Data("not a model at all".utf8).write(to: URL(fileURLWithPath: input))
        #expect(throws: ModelQuantizationError.input(.badMagic(Array("not ".utf8)))) {
            try ModelQuantizer(type: .q4_0).quantize(input: input, output: directory.path + "/out.gguf")
        }
        // A directory is a Hugging Face checkpoint; this one has no config.json.
        #expect(throws: ModelQuantizationError.missingFile(path: directory.path + "/config.json")) {
            try ModelQuantizer(type: .q4_0).quantize(input: directory.path, output: directory.path + "/out.gguf")
        }
        #expect(try directory.contents() == ["model.gguf"])
    }

    @Test func alreadyQuantizedTensorsAreNotRequantized() throws {
        let directory = try TemporaryDirectory()
        let input = FixturePaths.url("transformer/llama-q8_0.gguf").path
        #expect(throws: ModelQuantizationError.requantization(tensor: "token_embd.weight", type: .q8_0)) {
            try ModelQuantizer(type: .q4_0).quantize(input: input, output: directory.path + "/out.gguf")
        }
        // To its own type every tensor is copied, as llama.cpp does.
        let plan = try ModelQuantizer(type: .q8_0).quantize(input: input, output: directory.path + "/same.gguf")
        #expect(plan.tensors.allSatisfy { !$0.isConverted })
    }

    @Test func missingOutputDirectory() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path + "/no/such/dir/out.gguf"
        #expect(throws: ModelQuantizationError.outputDirectoryMissing(path: directory.path + "/no/such/dir")) {
            try ModelQuantizer(type: .q4_0).quantize(input: Self.kquant, output: output)
        }
        #expect(try directory.contents().isEmpty)
    }

    @Test func aValueNoTypeHoldsLeavesNothing() throws {
        var values = [Float](repeating: 0.25, count: 512)
        values[300] = .nan
        let input = try Self.model(values: values)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let directory = try TemporaryDirectory()
        #expect(throws: ModelQuantizationError.invalidValue(tensor: "blk.0.attn_q.weight", .nonFiniteValue(index: 300))) {
            try ModelQuantizer(type: .q4_K_M).quantize(input: input, output: directory.path + "/out.gguf")
        }
        values[300] = 1e6  // beyond Float16
        let big = try Self.model(values: values)
        defer { try? FileManager.default.removeItem(atPath: big) }
        #expect(throws: ModelQuantizationError.invalidValue(tensor: "blk.0.attn_q.weight", .valueOverflow(index: 300))) {
            try ModelQuantizer(type: .f16).quantize(input: big, output: directory.path + "/out.gguf")
        }
        #expect(try directory.contents().isEmpty)
    }

    @Test func cancellationLeavesNothing() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path + "/out.gguf"
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return Result { () throws(ModelQuantizationError) in try ModelQuantizer(type: .q4_0).quantize(input: Self.kquant, output: output) }
        }
        let result = await task.value
        #expect(throws: ModelQuantizationError.cancelled) { try result.get() }
        #expect(try directory.contents().isEmpty)
    }

    @Test func typeNames() {
        #expect(QuantizationType(name: "q4_k_m") == .q4_K_M)
        #expect(QuantizationType(name: "Q4_K") == nil)
        #expect(QuantizationType.allCases.map(\.fileType) == [1, 32, 7, 2, 3, 8, 9, 10, 12, 15, 17, 18, 0])
        #expect(QuantizationType.allCases.filter(\.isFloat) == [.f16, .bf16, .f32])
    }

    @Test func blockNumbersAsSscanfReadsThem() {
        func n(_ s: String) -> Int? { blockNumber(Array(s.utf8)) }
        #expect(n("blk.12.attn_q.weight") == 12)
        #expect(n("blk. +7x") == 7)
        #expect(n("blk.-3.") == -3)
        #expect(n("blk.x") == nil)
        #expect(n("output.weight") == nil)
        #expect(n("blk.99999999999999999999.") == -1)  // LONG_MAX, as an int
    }
}
