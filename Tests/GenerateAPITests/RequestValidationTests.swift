import Foundation
import Testing
@testable import GenerateAPI

/// Each rule of shared/notes/generate-api.md ("Defaults and validation", "Mode rules") and each
/// request-shape rule, as the field the error names.
@Suite("GenerateRequest validation")
struct RequestValidationTests {
    static func field(of json: String, limits: EngineLimits = .init()) throws -> String? {
        let request = try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
        do {
            try request.validate(limits: limits)
            return nil
        } catch {
            return error.field
        }
    }

    @Test("a valid request passes", arguments: [
        #"{"prompt": "x"}"#,
        #"{"messages": [{"role": "user", "content": "x"}]}"#,
        #"{"prompt": "x", "temperature": 0}"#,
        #"{"prompt": "x", "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "n": 2, "best_of": 3, "seed": 1}"#,
        #"{"prompt": "x", "use_beam_search": true, "best_of": 4, "n": 2, "temperature": 0, "length_penalty": 0.5, "early_stopping": "never"}"#,
        #"{"prompt": "x", "presence_penalty": -2, "frequency_penalty": 2, "repetition_penalty": 2}"#,
        #"{"prompt": "x", "stop": ["\n"], "stop_token_ids": [0], "logprobs": 5}"#,
    ])
    func valid(json: String) throws {
        #expect(try Self.field(of: json) == nil)
    }

    @Test("each invalid value names its field", arguments: [
        (#"{"prompt": "x", "max_tokens": 0}"#, "max_tokens"),
        (#"{"prompt": "x", "n": 0}"#, "n"),
        (#"{"prompt": "x", "n": 3, "best_of": 2}"#, "best_of"),
        (#"{"prompt": "x", "presence_penalty": 2.5}"#, "presence_penalty"),
        (#"{"prompt": "x", "presence_penalty": -2.01}"#, "presence_penalty"),
        (#"{"prompt": "x", "frequency_penalty": -3}"#, "frequency_penalty"),
        (#"{"prompt": "x", "repetition_penalty": 0}"#, "repetition_penalty"),
        (#"{"prompt": "x", "repetition_penalty": 2.1}"#, "repetition_penalty"),
        (#"{"prompt": "x", "temperature": -0.1}"#, "temperature"),
        (#"{"prompt": "x", "top_p": 0}"#, "top_p"),
        (#"{"prompt": "x", "top_p": 1.1}"#, "top_p"),
        (#"{"prompt": "x", "top_k": 0}"#, "top_k"),
        (#"{"prompt": "x", "top_k": -2}"#, "top_k"),
        (#"{"prompt": "x", "min_p": -0.1}"#, "min_p"),
        (#"{"prompt": "x", "min_p": 1.5}"#, "min_p"),
        (#"{"prompt": "x", "length_penalty": 2}"#, "length_penalty"),
        (#"{"prompt": "x", "early_stopping": true}"#, "early_stopping"),
        (#"{"prompt": "x", "temperature": 0, "n": 2}"#, "n"),
        (#"{"prompt": "x", "temperature": 0, "n": 1, "best_of": 2}"#, "best_of"),
        (#"{"prompt": "x", "use_beam_search": true, "best_of": 1, "temperature": 0}"#, "best_of"),
        (#"{"prompt": "x", "use_beam_search": true, "best_of": 2, "temperature": 0.5}"#, "temperature"),
        (#"{"prompt": "x", "use_beam_search": true, "best_of": 2, "temperature": 0, "top_p": 0.9}"#, "top_p"),
        (#"{"prompt": "x", "use_beam_search": true, "best_of": 2, "temperature": 0, "top_k": 5}"#, "top_k"),
        (#"{"prompt": "x", "logprobs": -1}"#, "logprobs"),
        (#"{"prompt": "x", "temperature": 1e39}"#, "temperature"),
    ])
    func invalidValue(json: String, field: String) throws {
        #expect(try Self.field(of: json) == field, "\(json)")
    }

    @Test("prompt and messages: exactly one, non-empty, with known roles", arguments: [
        (#"{}"#, "prompt"),
        (#"{"prompt": "x", "messages": [{"role": "user", "content": "y"}]}"#, "messages"),
        (#"{"messages": []}"#, "messages"),
        (#"{"messages": [{"role": "user", "content": "a"}, {"role": "wizard", "content": "b"}]}"#, "messages[1].role"),
    ])
    func promptShape(json: String, field: String) throws {
        #expect(try Self.field(of: json) == field, "\(json)")
    }

    @Test("absurd sizes hit the engine's limits", arguments: [
        (#"{"prompt": "x", "max_tokens": 1000000000000}"#, "max_tokens"),
        (#"{"prompt": "x", "n": 1000000}"#, "n"),
        (#"{"prompt": "x", "n": 2, "best_of": 1000000}"#, "best_of"),
        (#"{"prompt": "x", "stop": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}"#, "stop"),
    ])
    func limits(json: String, field: String) throws {
        #expect(try Self.field(of: json) == field, "\(json)")
    }

    @Test("limits are configurable")
    func configurableLimits() throws {
        let tight = EngineLimits(maxBestOf: 2, maxStopStrings: 1, maxStopStringBytes: 3, maxStopTokenIDs: 1,
                                 maxMessages: 1, maxPromptBytes: 4)
        #expect(try Self.field(of: #"{"prompt": "x", "n": 3}"#, limits: tight) == "n")
        #expect(try Self.field(of: #"{"prompt": "x", "stop": ["abcd"]}"#, limits: tight) == "stop")
        #expect(try Self.field(of: #"{"prompt": "x", "stop_token_ids": [1, 2]}"#, limits: tight) == "stop_token_ids")
        #expect(try Self.field(of: #"{"prompt": "12345"}"#, limits: tight) == "prompt")
        #expect(try Self.field(of: #"{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}"#,
                               limits: tight) == "messages")
        #expect(try Self.field(of: #"{"prompt": "x", "n": 2}"#, limits: tight) == nil)
        #expect(try Self.field(of: #"{"prompt": "x", "max_tokens": 65}"#, limits: EngineLimits(maxTokens: 64)) == "max_tokens")
        #expect(try Self.field(of: #"{"prompt": "x", "max_tokens": 64}"#, limits: EngineLimits(maxTokens: 64)) == nil)
        #expect(EngineLimits().maxTokens == 1_048_576)
    }
}
