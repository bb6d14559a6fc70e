import Foundation
import Sampling
import Testing
@testable import GenerateAPI

@Suite("GenerateRequest JSON")
struct RequestDecodingTests {
    /// The sample body of shared/seed/generate-api-doc.txt, converted from its Ruby-hash notation
    /// to JSON with nothing else changed.
    static let docSampleBody = """
        {"model":"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "formatted_prompt":"<string>", "messages":[{"role":"<string>", \
        "content":"<string>"}, {"role":"<string>", "content":"<string>"}], "max_tokens":256, "n":1, "best_of":1, \
        "presence_penalty":0, "frequency_penalty":0, "repetition_penalty":1, "temperature":1, "top_p":1, "top_k":-1, \
        "min_p":0, "use_beam_search":false, "length_penalty":1, "early_stopping":false, "mock_response":false}
        """

    static func decode(_ json: String) throws -> GenerateRequest {
        try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
    }

    @Test("the document's sample body decodes as it is")
    func sampleBody() throws {
        let r = try Self.decode(Self.docSampleBody)
        #expect(r.model == "TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        #expect(r.prompt == "<string>")  // formatted_prompt
        #expect(r.messages == [ChatMessage(role: "<string>", content: "<string>"), ChatMessage(role: "<string>", content: "<string>")])
        #expect(r.maxTokens == 256 && r.n == 1 && r.bestOf == 1)
        #expect(r.presencePenalty == 0 && r.frequencyPenalty == 0 && r.repetitionPenalty == 1)
        #expect(r.temperature == 1 && r.topP == 1 && r.topK == -1 && r.minP == 0)
        #expect(!r.useBeamSearch && r.lengthPenalty == 1 && r.earlyStopping == .heuristic && !r.mockResponse)
    }

    @Test("the sampling fields are one SamplingParameters value, which the request's own names reach")
    func oneCopy() throws {
        var r = try Self.decode(Self.docSampleBody)
        #expect(r.sampling == SamplingParameters(maxTokens: 256, n: 1, bestOf: 1))
        r.maxTokens = nil
        r.temperature = 0.5
        r.stop = ["\n"]
        #expect(r.sampling.maxTokens == nil && r.sampling.temperature == 0.5 && r.sampling.stop == ["\n"])
        r.sampling.topK = 3
        #expect(r.topK == 3)
        #expect(GenerateRequest(prompt: "x", sampling: r.sampling)
            == GenerateRequest(prompt: "x", maxTokens: nil, bestOf: 1, temperature: 0.5, topK: 3, stop: ["\n"]))
    }

    @Test("missing fields take vLLM's defaults")
    func defaults() throws {
        let r = try Self.decode(#"{"prompt": "Hi"}"#)
        #expect(r == GenerateRequest(prompt: "Hi"))
        #expect(r.maxTokens == 16 && r.n == 1 && r.bestOf == nil && r.temperature == 1 && r.topK == -1)
        #expect(r.model == nil && r.seed == nil && r.stop.isEmpty && r.logprobs == nil)
    }

    @Test("early_stopping accepts true, false and \"never\"")
    func earlyStopping() throws {
        #expect(try Self.decode(#"{"early_stopping": true}"#).earlyStopping == .atOnce)
        #expect(try Self.decode(#"{"early_stopping": false}"#).earlyStopping == .heuristic)
        #expect(try Self.decode(#"{"early_stopping": "never"}"#).earlyStopping == .never)
        #expect(try Self.decode(#"{"early_stopping": null}"#).earlyStopping == .heuristic)
    }

    @Test("stop is a string or a list of strings")
    func stop() throws {
        #expect(try Self.decode(#"{"stop": "\n"}"#).stop == ["\n"])
        #expect(try Self.decode(#"{"stop": ["a", "bc"]}"#).stop == ["a", "bc"])
    }

    @Test("the same prompt under both names is accepted; two different ones are not")
    func promptSpellings() throws {
        #expect(try Self.decode(#"{"prompt": "x", "formatted_prompt": "x"}"#).prompt == "x")
        #expect(throws: GenerateError.invalidField(field: "prompt", reason: "prompt and formatted_prompt differ; send one of them")) {
            try Self.decode(#"{"prompt": "x", "formatted_prompt": "y"}"#)
        }
    }

    @Test("a field of the wrong JSON type is an error naming the field",
          arguments: [
            (#"{"model": 3}"#, "model"), (#"{"prompt": ["a"]}"#, "prompt"), (#"{"formatted_prompt": 1}"#, "formatted_prompt"),
            (#"{"messages": "hi"}"#, "messages"), (#"{"messages": [{"role": "user"}]}"#, "messages"),
            (#"{"max_tokens": "16"}"#, "max_tokens"), (#"{"max_tokens": 1.5}"#, "max_tokens"), (#"{"n": true}"#, "n"),
            (#"{"best_of": "2"}"#, "best_of"), (#"{"presence_penalty": "0"}"#, "presence_penalty"),
            (#"{"frequency_penalty": []}"#, "frequency_penalty"), (#"{"repetition_penalty": {}}"#, "repetition_penalty"),
            (#"{"temperature": "hot"}"#, "temperature"), (#"{"top_p": null, "top_k": 2.5}"#, "top_k"),
            (#"{"top_p": "1"}"#, "top_p"), (#"{"min_p": false}"#, "min_p"), (#"{"use_beam_search": 1}"#, "use_beam_search"),
            (#"{"length_penalty": "1"}"#, "length_penalty"), (#"{"early_stopping": "always"}"#, "early_stopping"),
            (#"{"early_stopping": 1}"#, "early_stopping"), (#"{"mock_response": "true"}"#, "mock_response"),
            (#"{"seed": 1.5}"#, "seed"), (#"{"seed": "7"}"#, "seed"), (#"{"stop": 5}"#, "stop"), (#"{"stop": [1]}"#, "stop"),
            (#"{"stop_token_ids": [1.5]}"#, "stop_token_ids"), (#"{"logprobs": "all"}"#, "logprobs"),
            (#"{"max_tokens": 1e300}"#, "max_tokens"), (#"{"ignore_eos": "yes"}"#, "ignore_eos"),
          ])
    func wrongType(json: String, field: String) throws {
        do {
            _ = try Self.decode(json)
            Issue.record("\(json) decoded")
        } catch let error as GenerateError {
            #expect(error.field == field, "\(json): \(error)")
        }
    }

    @Test("a body that is not a JSON object fails to decode")
    func notAnObject() {
        #expect(throws: (any Error).self) { try Self.decode("[1, 2]") }
        #expect(throws: (any Error).self) { try Self.decode("{\"prompt\": ") }
    }

    @Test("encoding writes the documented keys and decodes back to the same request")
    func roundTrip() throws {
        let r = GenerateRequest(
            model: "m", messages: [ChatMessage(role: "user", content: "é")], maxTokens: 5, n: 2, bestOf: 3,
            presencePenalty: 0.5, frequencyPenalty: -0.5, repetitionPenalty: 1.2, temperature: 0, topP: 0.9, topK: 4,
            minP: 0.1, useBeamSearch: true, lengthPenalty: 2, earlyStopping: .never, mockResponse: true, seed: 42,
            stop: ["x"], stopTokenIDs: [7], logprobs: 2, ignoreEOS: true)
        let data = try JSONEncoder().encode(r)
        let keys = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys.sorted()
        #expect(keys == ["best_of", "early_stopping", "frequency_penalty", "ignore_eos", "length_penalty", "logprobs", "max_tokens",
                         "messages", "min_p", "mock_response", "model", "n", "presence_penalty", "repetition_penalty",
                         "seed", "stop", "stop_token_ids", "temperature", "top_k", "top_p", "use_beam_search"])
        #expect(try JSONDecoder().decode(GenerateRequest.self, from: data) == r)
    }
}
