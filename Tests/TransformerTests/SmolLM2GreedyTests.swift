import Foundation
import Testing
@testable import Transformer

/// The real-model check: SmolLM2-135M-Instruct Q4_1's greedy continuations against llama.cpp's on
/// the same file (`Fixtures/transformer/smollm2-greedy.json`, made by `make_smollm2_greedy.py`).
///
/// The 98 MB model is not in the repository, so this runs only when `SPARROW_SMOLLM2` holds its
/// path; `scripts/check-smollm2-greedy.sh` fetches it and sets it. Without it the test is reported
/// as skipped, with the reason. `SPARROW_SMOLLM2_EXPECTED` may point at another reference file.
@Suite("SmolLM2-135M-Instruct greedy decoding vs llama.cpp (needs SPARROW_SMOLLM2)")
struct SmolLM2GreedyTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let prompt: String
            let prompt_ids: [Int]
            let greedy_ids: [Int]
        }
        let cases: [Case]
    }

    static let modelPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]
    static let referencePath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2_EXPECTED"]
        ?? FixturePaths.url("transformer/smollm2-greedy.json").path

    @Test("32 greedy tokens agree with llama.cpp's for every prompt",
          .enabled(if: modelPath != nil,
                   "SKIPPED: set SPARROW_SMOLLM2 to SmolLM2-135M-Instruct.Q4_1.gguf (scripts/check-smollm2-greedy.sh does)"))
    func greedyMatchesLlamaCpp() throws {
        let path = try #require(Self.modelPath)
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.referencePath)))
        try #require(reference.cases.count == 5)
        // llama.cpp's reference ran with its default Float16 KV cache: round as it does.
        let model = try loadModel(path: path, options: ModelOptions(maxContextLength: 512, kvCachePrecision: .float16))
        #expect(model.usesLlamaCppNumerics)
        for c in reference.cases {
            model.reset()
            var logits = try model.prefill(tokens: c.prompt_ids)
            var ours: [Int] = []
            for _ in c.greedy_ids {
                let next = argmax(logits)
                ours.append(next)
                try model.decode(token: next, into: &logits)
            }
            let agreeing = zip(ours, c.greedy_ids).prefix { $0 == $1 }.count
            print("SmolLM2 greedy \(c.prompt.prefix(30).debugDescription): \(agreeing)/\(c.greedy_ids.count) tokens agree")
            #expect(ours == c.greedy_ids, "prompt \(c.prompt.debugDescription): first difference at token \(agreeing)")
        }
    }
}
