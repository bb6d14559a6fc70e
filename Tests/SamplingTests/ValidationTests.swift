import Testing
@testable import Sampling

/// Every rule of the notes' table and mode rules, each asserting the JSON field it names.
@Suite("Sampling parameter validation")
struct ValidationTests {
    static func field(_ p: SamplingParameters) -> String? {
        do {
            try p.validate()
            return nil
        } catch {
            if case let .invalidParameter(field, _) = error { return field }
            return nil
        }
    }

    static let invalid: [(String, SamplingParameters)] = [
        ("max_tokens", SamplingParameters(maxTokens: 0)),
        ("n", SamplingParameters(n: 0)),
        ("best_of", SamplingParameters(n: 3, bestOf: 2)),
        ("presence_penalty", SamplingParameters(presencePenalty: 2.5)),
        ("presence_penalty", SamplingParameters(presencePenalty: -2.01)),
        ("presence_penalty", SamplingParameters(presencePenalty: .nan)),
        ("frequency_penalty", SamplingParameters(frequencyPenalty: -3)),
        ("frequency_penalty", SamplingParameters(frequencyPenalty: .infinity)),
        ("repetition_penalty", SamplingParameters(repetitionPenalty: 0)),
        ("repetition_penalty", SamplingParameters(repetitionPenalty: 2.1)),
        ("repetition_penalty", SamplingParameters(repetitionPenalty: .nan)),
        ("temperature", SamplingParameters(temperature: -0.1)),
        ("temperature", SamplingParameters(temperature: .infinity)),
        ("top_p", SamplingParameters(topP: 0)),
        ("top_p", SamplingParameters(topP: 1.01)),
        ("top_p", SamplingParameters(topP: .nan)),
        ("top_k", SamplingParameters(topK: 0)),
        ("top_k", SamplingParameters(topK: -2)),
        ("min_p", SamplingParameters(minP: -0.1)),
        ("min_p", SamplingParameters(minP: 1.5)),
        ("min_p", SamplingParameters(minP: .nan)),
        ("top_p", SamplingParameters(topP: -.infinity)),
        ("length_penalty", SamplingParameters(lengthPenalty: 2)),
        ("length_penalty", SamplingParameters(n: 2, temperature: 0, useBeamSearch: true, lengthPenalty: .nan)),
        ("early_stopping", SamplingParameters(earlyStopping: .atOnce)),
        ("early_stopping", SamplingParameters(earlyStopping: .never)),
        ("logprobs", SamplingParameters(logprobs: -1)),
        ("logprobs", SamplingParameters(logprobs: 21)),
        // Greedy: one sequence only.
        ("best_of", SamplingParameters(n: 1, bestOf: 2, temperature: 0)),
        ("n", SamplingParameters(n: 2, temperature: 0)),
        ("n", SamplingParameters(n: 2, temperature: 1e-6)),
        // Beam search: a width above 1, temperature 0, no top-p / top-k.
        ("n", SamplingParameters(n: 1, temperature: 0, useBeamSearch: true)),
        ("best_of", SamplingParameters(n: 1, bestOf: 1, temperature: 0, useBeamSearch: true)),
        ("temperature", SamplingParameters(n: 2, temperature: 0.5, useBeamSearch: true)),
        ("top_p", SamplingParameters(n: 2, temperature: 0, topP: 0.9, useBeamSearch: true)),
        ("top_k", SamplingParameters(n: 2, temperature: 0, topK: 5, useBeamSearch: true)),
    ]

    @Test("Each invalid field or combination names its JSON key", arguments: 0 ..< invalid.count)
    func invalidNamesField(index: Int) {
        let (expected, parameters) = Self.invalid[index]
        #expect(Self.field(parameters) == expected)
    }

    static let valid: [SamplingParameters] = [
        SamplingParameters(),
        SamplingParameters(maxTokens: 1, n: 3, bestOf: 5, presencePenalty: -2, frequencyPenalty: 2,
                           repetitionPenalty: 2, temperature: 0.7, topP: 1, topK: 1, minP: 1, seed: 0,
                           stop: ["\n"], stopTokenIDs: [0], logprobs: 0),
        SamplingParameters(presencePenalty: 2, frequencyPenalty: -2, repetitionPenalty: 0.01, topP: 0.01, topK: -1, minP: 0,
                           logprobs: 20),
        SamplingParameters(temperature: 0),  // greedy with best_of 1
        SamplingParameters(temperature: 0, topP: 0.5, topK: 3, minP: 0.2),  // greedy: filters ignored, not errors
        SamplingParameters(n: 2, temperature: 0, useBeamSearch: true, lengthPenalty: 0.5, earlyStopping: .never),
        SamplingParameters(n: 1, bestOf: 3, temperature: 0, useBeamSearch: true, lengthPenalty: -1, earlyStopping: .atOnce),
    ]

    @Test("Valid requests pass, including the edges of each range", arguments: 0 ..< valid.count)
    func validPasses(index: Int) {
        #expect(Self.field(Self.valid[index]) == nil)
    }

    @Test("Effective parameters: best_of resolved; greedy turns the filters off")
    func effective() {
        let sampled = SamplingParameters(n: 3, temperature: 0.8, topP: 0.9, topK: 5, minP: 0.1).effective
        #expect(sampled.bestOf == 3 && sampled.topP == 0.9 && sampled.topK == 5 && sampled.minP == 0.1 && sampled.temperature == 0.8)
        let greedy = SamplingParameters(temperature: 0, topP: 0.5, topK: 3, minP: 0.2).effective
        #expect(greedy.bestOf == 1 && greedy.topP == 1 && greedy.topK == -1 && greedy.minP == 0 && greedy.isGreedy)
        let beams = SamplingParameters(n: 2, temperature: 0, minP: 0.1, useBeamSearch: true).effective
        #expect(beams.bestOf == 2 && beams.minP == 0.1)
    }

    @Test("the checks compare the request's doubles as vLLM's Python floats do; values Float32 sampling would break are refused")
    func doublePrecision() {
        // 1 - 1e-5 computed in double, as vLLM computes its bound, is accepted; one step below is not.
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0, topP: 1 - 1e-5, useBeamSearch: true)) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: 0, topP: (1 - 1e-5).nextDown, useBeamSearch: true)) == "top_p")
        #expect(Self.field(SamplingParameters(n: 2, temperature: 1e-5, useBeamSearch: true)) == nil)
        #expect(Self.field(SamplingParameters(n: 2, temperature: (1e-5).nextUp, useBeamSearch: true)) == "temperature")
        #expect(SamplingParameters(temperature: (1e-5).nextDown).isGreedy && !SamplingParameters(temperature: 1e-5).isGreedy)
        // A repetition penalty Float32 rounds to 0 would divide by zero; a temperature over
        // Float32's range would scale every logit to 0 or NaN.
        #expect(Self.field(SamplingParameters(repetitionPenalty: 1e-50)) == "repetition_penalty")
        #expect(Self.field(SamplingParameters(temperature: 1e39)) == "temperature")
        #expect(Self.field(SamplingParameters(maxTokens: nil)) == nil)
    }

    @Test("SamplingParameters.Validated: only validated() makes one, so generation does not check again")
    func validatedForm() throws {
        #expect(throws: SamplingError.invalidParameter(field: "top_p", reason: "must be in (0, 1], got 2.0")) {
            try SamplingParameters(topP: 2).validated()
        }
        let checked = try SamplingParameters(maxTokens: nil, n: 2).validated()
        #expect(checked.parameters == SamplingParameters(maxTokens: nil, n: 2))
        #expect(checked.n == 2 && checked.maxTokens == nil)
        // What vLLM's chat server does once it knows the prompt: max_tokens = context - prompt,
        // which SamplingParams refuses below 1.
        #expect(try checked.withMaxTokens(5).maxTokens == 5)
        #expect(throws: SamplingError.invalidParameter(field: "max_tokens", reason: "must be at least 1, got 0")) {
            try checked.withMaxTokens(0)
        }
        // The setup from unchecked parameters checks them, once.
        #expect(throws: SamplingError.invalidParameter(field: "top_k", reason: "must be -1 (off) or at least 1, got 0")) {
            try GenerationSetup(parameters: SamplingParameters(topK: 0), promptTokens: [], endTokenIDs: [])
        }
        #expect(try GenerationSetup(parameters: SamplingParameters(n: 2), promptTokens: [], endTokenIDs: []).parameters.n == 2)
    }
}
