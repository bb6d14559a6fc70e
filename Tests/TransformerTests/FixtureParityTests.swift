import Foundation
import Testing
@testable import Transformer
import SparrowTestSupport

/// What `Fixtures/transformer/make_tiny_models.py` stores per architecture: transformers' float32
/// logits for a 24-token prompt and 8 greedy decode steps, and llama.cpp's logits for the same 32
/// tokens on the Q8_0 conversion.
struct ExpectedLogits: Decodable {
    let prompt_ids: [Int]
    let prompt_logits: [[Float]]
    let greedy_ids: [Int]
    let decode_logits: [[Float]]
    let llamacpp_q8_0: LlamaCpp

    struct LlamaCpp: Decodable { let logits: [[Float]] }

    static func load(_ name: String) throws -> ExpectedLogits {
        let data = try Data(contentsOf: FixturePaths.url("transformer/expected/\(name).json"))
        return try JSONDecoder().decode(ExpectedLogits.self, from: data)
    }
}

/// Sparrow against the reference logits, for the safetensors directory and both GGUF conversions.
@Suite("Transformer parity with transformers and llama.cpp (Fixtures/transformer)")
struct FixtureParityTests {
    static let architectures = ["llama", "mistral", "phi3"]

    static func present(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: FixturePaths.url("transformer/" + relative).path)
    }

    /// The fixtures are committed: a missing one fails the test rather than skipping it.
    static func require(_ relatives: String...) -> Bool {
        let missing = relatives.filter { !present($0) }
        for m in missing { Issue.record("Fixtures/transformer/\(m) is missing (make_tiny_models.py makes it)") }
        return missing.isEmpty
    }

    /// Runs the prompt in one batched pass, then the greedy ids one by one: 24 + 8 rows of logits.
    static func run(_ model: TransformerModel, _ e: ExpectedLogits) throws -> (prompt: [[Float]], decode: [[Float]]) {
        let prompt = try model.prefillAllPositions(tokens: e.prompt_ids)
        let decode = try e.greedy_ids.map { try model.decode(token: $0) }
        return (prompt, decode)
    }

    /// Float weights must match transformers to 1e-4 at every prompt position and decode step.
    func checkFloat(_ arch: String, model path: String, expected: String) throws {
        let e = try ExpectedLogits.load(expected)
        let model = try loadModel(path: FixturePaths.url("transformer/" + path).path)
        let (prompt, decode) = try Self.run(model, e)
        let promptDelta = maxAbsDifference(prompt, e.prompt_logits)
        let decodeDelta = maxAbsDifference(decode, e.decode_logits)
        print("parity \(path) vs transformers (\(expected)): max |Δlogit| prompt \(promptDelta), decode \(decodeDelta)")
        #expect(promptDelta <= 1e-4, "\(path): prompt max |Δlogit| = \(promptDelta)")
        #expect(decodeDelta <= 1e-4, "\(path): decode max |Δlogit| = \(decodeDelta)")
        // Greedy decoding picks the same continuation transformers did.
        let picks = [prompt.last ?? []] + decode.dropLast()
        #expect(picks.map(argmax) == e.greedy_ids)
    }

    @Test("safetensors directory vs transformers float32", arguments: architectures)
    func safetensors(arch: String) throws {
        guard Self.require("expected/\(arch).json", arch) else { return }
        try checkFloat(arch, model: arch, expected: arch)
    }

    @Test("F32 GGUF (llama.cpp's converter) vs transformers float32", arguments: architectures)
    func ggufF32(arch: String) throws {
        guard Self.require("expected/\(arch).json", "\(arch)-f32.gguf") else { return }
        try checkFloat(arch, model: "\(arch)-f32.gguf", expected: Self.ggufExpectation(arch))
    }

    /// llama.cpp's converter does not carry Mistral's sliding window into GGUF (its `llama`
    /// architecture has none), so the GGUF holds the same weights with full attention; the
    /// fixture script stores transformers' logits for that variant separately.
    static func ggufExpectation(_ arch: String) -> String {
        arch == "mistral" ? "mistral-full-attention" : arch
    }

    @Test("Q8_0 GGUF vs llama.cpp on the same file: within 1% of the range, same argmax ≥ 95%",
          arguments: architectures)
    func ggufQ8(arch: String) throws {
        guard Self.require("expected/\(arch).json", "\(arch)-q8_0.gguf") else { return }
        // llama.cpp ran the tokens of this expectation (prompt + greedy ids).
        let e = try ExpectedLogits.load(Self.ggufExpectation(arch))
        let model = try loadModel(path: FixturePaths.url("transformer/\(arch)-q8_0.gguf").path)
        let (prompt, decode) = try Self.run(model, e)
        let ours = prompt + decode
        let reference = e.llamacpp_q8_0.logits
        try #require(ours.count == reference.count)
        let all = reference.joined()
        let range = (all.max() ?? 0) - (all.min() ?? 0)
        let delta = maxAbsDifference(ours, reference)
        let agree = zip(ours, reference).filter { argmax($0) == argmax($1) }.count
        let share = Double(agree) / Double(reference.count)
        print("parity \(arch)-q8_0.gguf vs llama.cpp: max |Δlogit| \(delta) = \(delta / range) of the range "
              + "\(range); argmax agrees at \(agree)/\(reference.count)")
        #expect(delta <= 0.01 * range, "max |Δlogit| \(delta) exceeds 1% of the range \(range)")
        #expect(share >= 0.95, "argmax agrees at \(agree) of \(reference.count) positions")
    }

    @Test("A fixture model's forked KV state continues identically to the original")
    func forkOnFixture() throws {
        guard Self.require("expected/llama.json", "llama-q8_0.gguf") else { return }
        let e = try ExpectedLogits.load("llama")
        let model = try loadModel(path: FixturePaths.url("transformer/llama-q8_0.gguf").path)
        _ = try model.prefill(tokens: e.prompt_ids)
        let fork = try model.fork()
        let a = try e.greedy_ids.map { try fork.decode(token: $0) }
        let b = try e.greedy_ids.map { try model.decode(token: $0) }
        #expect(a == b)
    }
}
