import Crypto
import Foundation
import ModelFormats
import Testing
import Tensor
@testable import Transformer
import SparrowTestSupport

/// Converting the tiny Hugging Face fixtures (Fixtures/transformer/<arch>/) to GGUF: the files are
/// llama.cpp's own, byte for byte (Fixtures/convert/reference.json, made by
/// make_convert_reference.py from convert_hf_to_gguf.py's output and llama_model_quantize), and they
/// run as the directory does. `scripts/check-convert.sh` loads them in llama.cpp.
@Suite("Hugging Face conversion")
struct HuggingFaceConversionTests {
    static let architectures = ["llama", "mistral", "phi3"]

    struct Reference: Decodable {
        struct Arch: Decodable {
            let hashes: [String: String]
            let llamacpp_f16: LlamaCpp

            struct LlamaCpp: Decodable {
                let expectation: String
                let ids: [Int]
                let logits: [[Float]]
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: AnyKey.self)
                var hashes: [String: String] = [:]
                for key in container.allKeys where key.stringValue != "llamacpp_f16" {
                    hashes[key.stringValue] = try container.decode(String.self, forKey: key)
                }
                self.hashes = hashes
                llamacpp_f16 = try container.decode(LlamaCpp.self, forKey: AnyKey(stringValue: "llamacpp_f16"))
            }
        }

        struct AnyKey: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        let llama: Arch
        let mistral: Arch
        let phi3: Arch

        func callAsFunction(_ arch: String) -> Arch { arch == "llama" ? llama : arch == "mistral" ? mistral : phi3 }

        static let shared: Result<Reference, any Error> = Result {
            try JSONDecoder().decode(Reference.self, from: Data(contentsOf: FixturePaths.url("convert/reference.json")))
        }
    }

    static func directory(_ arch: String) -> String { FixturePaths.url("transformer/\(arch)").path }

    static func sha256(_ path: String) throws -> String {
        SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
    }

    /// Every type the reference covers: the converter's three float types, and llama_model_quantize
    /// of its F16 file for the quantized ones.
    static let typeCases: [(String, QuantizationType)] = architectures.flatMap { arch in
        [QuantizationType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_K_M, .q6_K].map { (arch, $0) }
    }

    @Test("Directory → GGUF is llama.cpp's file byte for byte", arguments: typeCases)
    func identicalToLlamaCpp(arch: String, type: QuantizationType) throws {
        let reference = try Reference.shared.get()
        let directory = try TemporaryDirectory()
        let output = directory.path + "/out.gguf"
        let plan = try ModelQuantizer(type: type).quantize(input: Self.directory(arch), output: output)
        #expect(plan.architecture == (arch == "phi3" ? "phi3" : "llama"))
        #expect(try Self.sha256(output) == reference(arch).hashes[type.name])
        #expect(try directory.contents() == ["out.gguf"])
    }

    @Test("The F32 conversion is the committed convert_hf_to_gguf.py output", arguments: architectures)
    func f32IsTheCommittedFile(arch: String) throws {
        let directory = try TemporaryDirectory()
        let output = directory.path + "/out.gguf"
        try ModelQuantizer(type: .f32).quantize(input: Self.directory(arch), output: output)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output))
            == Data(contentsOf: FixturePaths.url("transformer/\(arch)-f32.gguf")))
    }

    @Test("The plan: names, Q/K permutation, Phi-3's fused tensors, the auto type")
    func plan() throws {
        let llama = try HuggingFaceConversion(directory: Self.directory("llama"))
        #expect(llama.fileType == .f16)  // float32 weights: the converter's auto is F16
        let q = try #require(llama.tensors.first { $0.plan.name == "blk.0.attn_q.weight" })
        #expect(q.sourceName == "model.layers.0.self_attn.q_proj.weight" && q.permutedHeads == 4 && q.plan.type == .f16)
        let k = try #require(llama.tensors.first { $0.plan.name == "blk.1.attn_k.weight" })
        #expect(k.permutedHeads == 2 && k.plan.shape.dims == [32, 64])
        #expect(llama.tensors.first { $0.plan.name == "output_norm.weight" }?.plan.type == .f32)

        let phi3 = try HuggingFaceConversion(directory: Self.directory("phi3"), type: .f32)
        let qkv = try #require(phi3.tensors.first { $0.plan.name == "blk.0.attn_qkv.weight" })
        #expect(qkv.sourceName == "model.layers.0.self_attn.qkv_proj.weight" && qkv.permutedHeads == nil)
        #expect(qkv.plan.shape.dims == [128, 64])
        #expect(phi3.tensors.first { $0.plan.name == "blk.0.ffn_up.weight" }?.plan.shape.dims == [192, 64])
        #expect(!phi3.tensors.contains { $0.plan.name == "output.weight" })
    }

    /// Sparrow on the converted F16 file against llama.cpp on the same file, and against Sparrow on
    /// the directory: within the parity tests' bounds for files llama.cpp runs (1% of the logit
    /// range, the same argmax at ≥ 95% of positions); the F32 file against transformers within 1e-4.
    @Test("Logits: the converted GGUF in Sparrow, the directory in Sparrow, the GGUF in llama.cpp", arguments: architectures)
    func logits(arch: String) throws {
        let reference = try Reference.shared.get()(arch).llamacpp_f16
        let directory = try TemporaryDirectory()
        let f16 = directory.path + "/f16.gguf"
        let f32 = directory.path + "/f32.gguf"
        try ModelQuantizer(type: .f16).quantize(input: Self.directory(arch), output: f16)
        try ModelQuantizer(type: .f32).quantize(input: Self.directory(arch), output: f32)

        func run(_ path: String) throws -> [[Float]] {
            let model = try loadModel(path: path)
            return try model.prefillAllPositions(tokens: reference.ids)
        }
        let onF16 = try run(f16)
        let onF32 = try run(f32)
        // Mistral's directory has a sliding window of 8 that GGUF does not carry (README of
        // Fixtures/transformer); its logits agree with the GGUF's for the first 8 positions only.
        let compared = arch == "mistral" ? 8 : reference.ids.count
        let onDirectory = Array(try run(Self.directory(arch)).prefix(compared))

        let all = reference.logits.joined()
        let range = (all.max() ?? 0) - (all.min() ?? 0)
        func check(_ ours: [[Float]], _ theirs: [[Float]], _ what: String) {
            let delta = maxAbsDifference(ours, theirs)
            let agree = zip(ours, theirs).filter { argmax($0) == argmax($1) }.count
            print("conversion \(arch) \(what): max |Δlogit| \(delta) = \(delta / range) of the range; argmax \(agree)/\(ours.count)")
            #expect(ours.count == theirs.count)
            #expect(delta <= 0.01 * range, "\(what): max |Δlogit| \(delta) over 1% of \(range)")
            #expect(Double(agree) >= 0.95 * Double(ours.count), "\(what): argmax agrees at \(agree)/\(ours.count)")
        }
        check(onF16, reference.logits, "Sparrow F16 GGUF vs llama.cpp F16 GGUF")
        check(Array(onF16.prefix(compared)), onDirectory, "Sparrow F16 GGUF vs Sparrow directory")

        let expected = try ExpectedLogits.load(reference.expectation)
        // Positions 0..31: the prompt's 24 rows, then the 8 decode steps (Fixtures/transformer/README.md).
        let transformers = expected.prompt_logits + expected.decode_logits
        #expect(maxAbsDifference(onF32, transformers) <= 1e-4)
    }

    /// `values` rounded to bfloat16 and widened back.
    static func throughBF16(_ values: [Float]) throws -> [Float] {
        var bytes = [UInt8](repeating: 0, count: values.count * 2)
        try values.withUnsafeBufferPointer { v in
            try bytes.withUnsafeMutableBytes { try ElementType.bf16.quantize(v, into: $0) }
        }
        var out = [Float](repeating: 0, count: values.count)
        bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBufferPointer { o in
                if let base = b.baseAddress, let oBase = o.baseAddress { ElementType.bf16.dequantize(base, count: values.count, into: oBase) }
            }
        }
        return out
    }

    @Test("A BF16 checkpoint: auto picks BF16, and its values pass through the permutation exactly")
    func bf16Checkpoint() throws {
        let source = try SafetensorsCheckpoint(path: Self.directory("llama"))
        let input = try Self.copy("llama") { dir in
            var header: [String: Any] = [:]
            var body = Data()
            for name in source.tensorNames {
                let info = try #require(source.info(name))
                let values = try Self.throughBF16(try source.tensor(name).toFloats())
                var bytes = [UInt8](repeating: 0, count: values.count * 2)
                try values.withUnsafeBufferPointer { v in try bytes.withUnsafeMutableBytes { try ElementType.bf16.quantize(v, into: $0) } }
                header[name] = ["dtype": "BF16", "shape": info.shape.dims, "data_offsets": [body.count, body.count + bytes.count]] as [String: Any]
                body.append(contentsOf: bytes)
            }
            try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
            try HuggingFaceWriter.safetensors(header: header, body: body).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        }
        #expect(try HuggingFaceConversion(directory: input.path).fileType == .bf16)
        let directory = try TemporaryDirectory()
        let output = directory.path + "/out.gguf"
        try ModelQuantizer(type: .f32).quantize(input: input.path, output: output)
        let converted = try GGUFFile(path: output)
        let reference = try GGUFFile(path: FixturePaths.url("transformer/llama-f32.gguf").path)
        for name in ["blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.0.attn_v.weight", "output_norm.weight"] {
            let expected = try Self.throughBF16(try reference.tensor(named: name).toFloats())
            #expect(try converted.tensor(named: name).toFloats() == expected, "\(name)")
        }
    }

    // MARK: - Bad input

    /// A copy of a fixture directory, with `edit` applied.
    static func copy(_ arch: String, edit: (String) throws -> Void) throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory(arch)) {
            try FileManager.default.copyItem(atPath: directory(arch) + "/" + name, toPath: copy.path + "/" + name)
        }
        try edit(copy.path)
        return copy
    }

    static func editConfig(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        let file = URL(fileURLWithPath: path + "/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: file)
    }

    /// Converting `input` fails with `error` and leaves the output directory empty.
    static func expectFailure(_ input: String, _ error: ModelQuantizationError, type: QuantizationType = .f16) throws {
        let output = try TemporaryDirectory()
        #expect(throws: error) { try ModelQuantizer(type: type).quantize(input: input, output: output.path + "/out.gguf") }
        #expect(try output.contents().isEmpty)
    }

    @Test func unsupportedArchitecture() throws {
        let input = try Self.copy("llama") { try Self.editConfig($0) { $0["architectures"] = ["GPT2LMHeadModel"] } }
        try Self.expectFailure(input.path, .unsupportedArchitecture("GPT2LMHeadModel"), type: .q4_K_M)
        let none = try Self.copy("llama") { try Self.editConfig($0) { $0["architectures"] = nil } }
        try Self.expectFailure(none.path, .unsupportedArchitecture("(config.json has no architectures)"))
    }

    @Test func missingFiles() throws {
        let noConfig = try Self.copy("llama") { try FileManager.default.removeItem(atPath: $0 + "/config.json") }
        try Self.expectFailure(noConfig.path, .missingFile(path: noConfig.path + "/config.json"))

        let noTokenizer = try Self.copy("phi3") {
            try FileManager.default.removeItem(atPath: $0 + "/tokenizer.model")
            try FileManager.default.removeItem(atPath: $0 + "/tokenizer.json")
        }
        try Self.expectFailure(noTokenizer.path, .missingFile(path: noTokenizer.path + "/tokenizer.model"))

        // A llama checkpoint whose only tokenizer file is a SentencePiece-style tokenizer.json
        // (gguf-py's LlamaHfVocab) is refused by name.
        let onlyJSON = try Self.copy("llama") { try FileManager.default.removeItem(atPath: $0 + "/tokenizer.model") }
        let output = try TemporaryDirectory()
        #expect {
            try ModelQuantizer(type: .f16).quantize(input: onlyJSON.path, output: output.path + "/out.gguf")
        } throws: { error in
            guard case let .invalidFile(path, _) = error as? ModelQuantizationError else { return false }
            return path == onlyJSON.path + "/tokenizer.json"
        }

        let noWeights = try Self.copy("llama") { try FileManager.default.removeItem(atPath: $0 + "/model.safetensors") }
        try Self.expectFailure(noWeights.path, .safetensors(.noCheckpoint(directory: noWeights.path)))
    }

    @Test func corruptTokenizerModel() throws {
        let input = try Self.copy("llama") { try Data([0x0A, 0xFF, 0x01]).write(to: URL(fileURLWithPath: $0 + "/tokenizer.model")) }
        let output = try TemporaryDirectory()
        #expect {
            try ModelQuantizer(type: .f16).quantize(input: input.path, output: output.path + "/out.gguf")
        } throws: { error in
            guard case let .invalidFile(path, reason) = error as? ModelQuantizationError else { return false }
            return path == input.path + "/tokenizer.model" && reason.hasPrefix("not a SentencePiece model")
        }
        #expect(try output.contents().isEmpty)
    }

    @Test func shapeMismatch() throws {
        let input = try Self.copy("llama") { try Self.editConfig($0) { $0["intermediate_size"] = 96 } }
        try Self.expectFailure(input.path, .tensorShape(tensor: "model.layers.0.mlp.down_proj.weight", expected: [64, 96], actual: [64, 128]))
        let heads = try Self.copy("phi3") { try Self.editConfig($0) { $0["num_key_value_heads"] = 4 } }
        try Self.expectFailure(heads.path, .tensorShape(tensor: "model.layers.0.self_attn.qkv_proj.weight", expected: [192, 64], actual: [128, 64]))
    }

    @Test("RoPE scaling the converter or Sparrow cannot take is refused")
    func ropeScaling() throws {
        let longRope = try Self.copy("phi3") {
            try Self.editConfig($0) {
                $0["rope_parameters"] = ["rope_type": "longrope", "rope_theta": 10000.0, "long_factor": [1.0], "short_factor": [1.0]]
            }
        }
        try Self.expectFailure(longRope.path, .config(.unsupportedFeature("rope scaling type \"longrope\"")))
        // The fixtures carry transformers 5's rope_parameters, which wins over rope_scaling.
        let linear = try Self.copy("phi3") {
            try Self.editConfig($0) { $0["rope_parameters"] = ["rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0] }
        }
        try Self.expectFailure(linear.path, .unsupportedInput(path: linear.path + "/config.json",
                                                              reason: "Phi-3 with RoPE scaling is not converted"))
        let yarn = try Self.copy("llama") {
            try Self.editConfig($0) { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0] }
        }
        try Self.expectFailure(yarn.path, .config(.unsupportedFeature("rope scaling type \"yarn\"")))
    }

    @Test func missingAndUnmappedTensors() throws {
        // One layer more than the weights hold: layer 2's tensors are missing.
        let deeper = try Self.copy("llama") { try Self.editConfig($0) { $0["num_hidden_layers"] = 3 } }
        try Self.expectFailure(deeper.path, .missingTensor("model.layers.2.self_attn.k_proj.weight"))
        // One layer fewer: layer 1's tensors have no GGUF name.
        let shallower = try Self.copy("llama") { try Self.editConfig($0) { $0["num_hidden_layers"] = 1 } }
        try Self.expectFailure(shallower.path, .unmappedTensor("model.layers.1.input_layernorm.weight"))
    }

    @Test func aQuantizedTypeIsNotAConversionType() throws {
        #expect(throws: ModelQuantizationError.unsupportedInput(
            path: Self.directory("llama"), reason: "a Hugging Face checkpoint converts to F32, F16 or BF16, not Q4_0"))
        {
            try HuggingFaceConversion(directory: Self.directory("llama"), type: .q4_0)
        }
    }

    @Test func sentencePieceModelFile() throws {
        let bytes = try [UInt8](Data(contentsOf: FixturePaths.url("transformer/phi3/tokenizer.model")))
        let model = try SentencePieceModelFile(bytes: bytes)
        #expect(model.pieces.count == 507)
        #expect(model.pieces[0] == .init(text: "<unk>", score: 0, type: .unknown))
        #expect(model.pieces[1].type == .control && model.pieces[3] == .init(text: "<0x00>", score: 0, type: .byte))
        for cut in [1, 2, 7] {
            #expect(throws: SentencePieceModelFile.FormatError.self) { try SentencePieceModelFile(bytes: Array(bytes.prefix(cut))) }
        }
    }

    @Test("general.name and size_label as gguf-py derives them")
    func generalMetadata() {
        #expect(HuggingFaceConversion.titleCased("llama") == "Llama")
        #expect(HuggingFaceConversion.titleCased("phi3") == "Phi3")
        #expect(HuggingFaceConversion.titleCased("TinyLlama-1.1B-Chat-v1.0") == "TinyLlama 1.1B Chat v1.0")
        #expect(HuggingFaceConversion.titleCased("mistral-7b-instruct-v0.2") == "Mistral 7b Instruct v0.2")
        #expect(HuggingFaceConversion.sizeLabel(123_456) == "123K")
        #expect(HuggingFaceConversion.sizeLabel(1_100_048_384) == "1.1B")
        #expect(HuggingFaceConversion.sizeLabel(8_030_261_248) == "8.0B")
        #expect(HuggingFaceConversion.sizeLabel(134_515_008) == "135M")
    }
}
