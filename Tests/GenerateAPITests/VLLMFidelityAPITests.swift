import Foundation
import Sampling
import Testing
@testable import GenerateAPI

/// Issue 24's vLLM 0.4.x details through the request, the response and the engine, on the tiny
/// models of Fixtures/transformer (context 128). Each test names the vLLM code it follows.
@Suite("vLLM 0.4 fidelity through the API")
struct VLLMFidelityAPITests {
    static let engine = EngineTests.engine

    static func decode(_ json: String) throws -> GenerateRequest {
        try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
    }

    @Test("SamplingParams(max_tokens=None): null is no limit, omitted is 16; encoding keeps the null")
    func maxTokensNull() throws {
        #expect(try Self.decode(#"{"prompt": "x"}"#).maxTokens == 16)
        #expect(try Self.decode(#"{"prompt": "x", "max_tokens": null}"#).maxTokens == nil)
        #expect(try Self.decode(#"{"prompt": "x", "max_tokens": 5}"#).maxTokens == 5)
        let unlimited = GenerateRequest(prompt: "x", maxTokens: nil)
        let data = try JSONEncoder().encode(unlimited)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["max_tokens"] is NSNull)
        #expect(try JSONDecoder().decode(GenerateRequest.self, from: data).maxTokens == nil)
        // No engine limit applies to it before the prompt is known: it stays vLLM's None.
        #expect(try unlimited.validatedSampling(limits: EngineLimits(maxTokens: 8)).maxTokens == nil)
    }

    @Test("LLMEngine with max_tokens=None runs until prompt + output exceed max_model_len (StopChecker)")
    func maxTokensNullRunsToTheContext() async throws {
        // ignore_eos keeps the model from ending early; the sequence ends when its length passes
        // the context of 128: 128 - prompt + 1 tokens, finish_reason length.
        let request = GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: nil, temperature: 0, ignoreEOS: true)
        let response = try await Self.engine.generate(request: request)
        let choice = try #require(response.choices.first)
        #expect(choice.tokenIDs.count == 128 - response.usage.promptTokens + 1)
        #expect(choice.finishReason == .length && choice.stopReason == nil)
        #expect(response.usage.completionTokens == choice.tokenIDs.count)
    }

    @Test("max_tokens against the context: the engine's None (StopChecker), the chat server's None and its refusal (_validate_prompt_and_tokenize)")
    func maxTokensFitTheContext() throws {
        func fit(_ maxTokens: Int?, _ unlimited: GenerateRequest.UnlimitedMaxTokens, prompt: Int) throws -> Int? {
            let sampling = try GenerateRequest(prompt: "x", maxTokens: maxTokens).validatedSampling(limits: .init())
            return try Engine.fitting(sampling, unlimited: unlimited, promptTokens: prompt, contextLength: 128).maxTokens
        }
        // The engine: until prompt + output exceed 128, so a prompt of 128 still gets one token;
        // a longer one vLLM's scheduler ignores, an error here.
        #expect(try fit(nil, .pastContext, prompt: 100) == 29)
        #expect(try fit(nil, .pastContext, prompt: 128) == 1)
        #expect(throws: GenerateError.promptTooLong(promptTokens: 129, contextLength: 128)) { try fit(nil, .pastContext, prompt: 129) }
        // The chat server: max_tokens = 128 - token_num, which SamplingParams refuses below 1.
        #expect(try fit(nil, .contextRemainder, prompt: 100) == 28)
        #expect(throws: GenerateError.invalidField(field: "max_tokens", reason: "must be at least 1, got 0")) {
            try fit(nil, .contextRemainder, prompt: 128)
        }
        #expect(throws: GenerateError.invalidField(field: "max_tokens", reason: "must be at least 1, got -2")) {
            try fit(nil, .contextRemainder, prompt: 130)
        }
        // An explicit max_tokens: token_num + max_tokens > max_model_len is refused, whatever the reading of None.
        #expect(try fit(28, .pastContext, prompt: 100) == 28)
        #expect(throws: GenerateError.contextExceeded(promptTokens: 100, maxTokens: 29, contextLength: 128)) {
            try fit(29, .contextRemainder, prompt: 100)
        }
        #expect(throws: GenerateError.contextExceeded(promptTokens: 128, maxTokens: 1, contextLength: 128)) {
            try fit(1, .pastContext, prompt: 128)
        }
        #expect(GenerateError.contextExceeded(promptTokens: 100, maxTokens: 29, contextLength: 128).description
            == "This model's maximum context length is 128 tokens. However, you requested 129 tokens (100 in the messages, 29 in the completion). Please reduce the length of the messages or completion.")
    }

    @Test("StopChecker.maybe_stop_sequence: a stop_token_ids hit stays in token_ids and completion_tokens")
    func stopTokenCounted() async throws {
        let base = GenerateRequest(model: "llama", prompt: "Hello world", maxTokens: 8, temperature: 0, ignoreEOS: true)
        let free = try #require(try await Self.engine.generate(request: base).choices.first)
        let target = free.tokenIDs[3]
        let firstHit = try #require(free.tokenIDs.firstIndex(of: target))
        var request = base
        request.stopTokenIDs = [target]
        let response = try await Self.engine.generate(request: request)
        let choice = try #require(response.choices.first)
        #expect(choice.tokenIDs == Array(free.tokenIDs[...firstHit]))
        #expect(response.usage.completionTokens == firstHit + 1)
        #expect(choice.finishReason == .stop && choice.stopReason == .token(target))
    }

    @Test("sampling_params.py's seed is any Python int torch takes: -1 and -2^63 decode; beyond is refused")
    func negativeSeed() throws {
        #expect(try Self.decode(#"{"seed": -1}"#).seed == UInt64.max)
        #expect(try Self.decode(#"{"seed": -9223372036854775808}"#).seed == 1 << 63)
        #expect(try Self.decode(#"{"seed": 18446744073709551615}"#).seed == UInt64.max)
        #expect(throws: GenerateError.self) { try Self.decode(#"{"seed": 1.5}"#) }
    }

    @Test("SamplingParams._verify_args and friends through the request: stop [\"\"], ε bounds, negative stop ids")
    func validationEpsilon() throws {
        let accepted = [
            #"{"prompt": "x", "stop": [""]}"#,
            #"{"prompt": "x", "stop_token_ids": [-1]}"#,
            #"{"prompt": "x", "seed": -1}"#,
            #"{"prompt": "x", "length_penalty": 1.00001}"#,
            #"{"prompt": "x", "length_penalty": 0.99999}"#,
            #"{"prompt": "x", "use_beam_search": true, "n": 2, "temperature": 1e-5}"#,
            #"{"prompt": "x", "use_beam_search": true, "n": 2, "temperature": 0, "top_p": 0.99999}"#,
        ]
        for json in accepted { #expect(throws: Never.self, "\(json)") { try Self.decode(json).validate() } }
        let refused: [(String, String)] = [
            (#"{"prompt": "x", "length_penalty": 1.0001}"#, "length_penalty"),
            (#"{"prompt": "x", "use_beam_search": true, "n": 2, "temperature": 2e-5}"#, "temperature"),
            (#"{"prompt": "x", "use_beam_search": true, "n": 2, "temperature": 0, "top_p": 0.9999}"#, "top_p"),
        ]
        for (json, field) in refused {
            do {
                try Self.decode(json).validate()
                Issue.record("\(json) accepted")
            } catch let error as GenerateError {
                #expect(error.field == field, "\(json)")
            }
        }
    }

    @Test("A dead beam's -inf cumulative logprob is written as the string \"-Infinity\" and read back")
    func infiniteLogprobJSON() throws {
        let choice = GenerateChoice(index: 1, text: "", tokenIDs: [0], finishReason: .stop, stopReason: nil,
                                    cumulativeLogprob: -.infinity,
                                    logprobs: [TokenLogprobJSON(TokenLogprob(token: 0, logprob: -.infinity, top: []))])
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let data = try encoder.encode(choice)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["cumulative_logprob"] as? String == "-Infinity")
        #expect(object["stop_reason"] is NSNull)
        let back = try JSONDecoder().decode(GenerateChoice.self, from: data)
        #expect(back == choice)
    }
}
