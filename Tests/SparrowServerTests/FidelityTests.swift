import Foundation
import GenerateAPI
import Testing
@testable import SparrowServer

/// Issue 24's vLLM 0.4.x details over HTTP. The mock tests run everywhere; the SmolLM2 ones send
/// the issue's own example requests to `POST /v1/generate` and need `SPARROW_SMOLLM2`.
@Suite("vLLM 0.4 fidelity over HTTP", .serialized)
struct FidelityTests {
    static let modelPath = SmolLM2ServerTests.modelPath

    @Test("SamplingParams._verify_args / _verify_beam_search over /v1/generate: what vLLM 0.4 accepts is 200, what it refuses 400")
    func validation() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            for extra in [#""stop": [""]"#, #""seed": -1"#, #""stop_token_ids": [-1]"#, #""length_penalty": 1.00001"#,
                          #""use_beam_search": true, "n": 2, "temperature": 1e-5, "top_p": 0.99999"#] {
                let r = try await server.client.post("v1/generate", #"{"prompt": "x", "mock_response": true, "# + extra + "}")
                #expect(r.status == 200, "\(extra): \(r.text)")
            }
            let refused = try await server.client.post(
                "v1/generate", #"{"prompt": "x", "mock_response": true, "use_beam_search": true, "n": 2, "temperature": 0, "top_p": 0.9999}"#)
            #expect(refused.status == 400)
            #expect(try refused.error()["param"] as? String == "top_p")
        }
    }

    @Test("vLLM's OpenAI choices carry stop_reason (CompletionResponseChoice.stop_reason)")
    func openAIStopReasonKey() async throws {
        try await TestServer.with(backend: TestServer.mockEngine()) { server in
            let r = try await server.client.post("v1/completions", #"{"prompt": "x", "mock_response": true}"#)
            let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice.keys.contains("stop_reason") && choice["stop_reason"] is NSNull)
            let chat = try await server.client.post(
                "v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "mock_response": true}"#)
            let chatChoice = try #require((try chat.json()["choices"] as? [[String: Any]])?.first)
            #expect(chatChoice.keys.contains("stop_reason"))
        }
    }

    /// The choices of a `/v1/generate` answer.
    static func choices(_ server: TestServer, _ body: String) async throws -> (choices: [[String: Any]], usage: [String: Any]) {
        let r = try await server.client.post("v1/generate", body)
        #expect(r.status == 200, "\(r.text)")
        let json = try r.json()
        return (try #require(json["choices"] as? [[String: Any]]), try #require(json["usage"] as? [String: Any]))
    }

    @Test("The issue's example requests give vLLM's answers through POST /v1/generate",
          .enabled(if: modelPath != nil, SmolLM2ServerTests.skipReason))
    func issueExamples() async throws {
        try await TestServer.with(backend: try SmolLM2ServerTests.engine()) { server in
            // 1. StopChecker.maybe_stop_sequence: <|im_end|> (2, the GGUF eos) stays in token_ids,
            //    counts in completion_tokens, stop_reason null, and is not in the text.
            let chat = #"{"messages": [{"role": "system", "content": "You are a concise assistant."}, {"role": "user", "content": "What is the capital of France? Answer in one sentence."}], "temperature": 0, "max_tokens": 32}"#
            let (eos, eosUsage) = try await Self.choices(server, chat)
            let eosIDs = try #require(eos.first?["token_ids"] as? [Int])
            #expect(eosIDs.last == 2)
            #expect(eos.first?["stop_reason"] is NSNull && eos.first?["finish_reason"] as? String == "stop")
            #expect(eosUsage["completion_tokens"] as? Int == eosIDs.count)
            #expect((eos.first?["text"] as? String)?.contains("<|im_end|>") == false)

            // 2. StopChecker._check_stop_strings: "s" is first in the list, so it wins over "P".
            let (stop, _) = try await Self.choices(
                server, #"{"prompt": "The capital of France is", "temperature": 0, "max_tokens": 4, "stop": ["s", "P"]}"#)
            #expect(stop.first?["text"] as? String == " Pari")
            #expect(stop.first?["stop_reason"] as? String == "s")

            // 3. RequestOutput.from_seq_group: sorted by cumulative logprob with best_of == n.
            let (ranked, _) = try await Self.choices(
                server, #"{"prompt": "Once upon a time", "n": 3, "seed": 2, "max_tokens": 8}"#)
            let totals = ranked.compactMap { $0["cumulative_logprob"] as? Double }
            #expect(totals.count == 3 && totals == totals.sorted(by: >))

            // 4. outputs.py's final ranking: " Paris." and its eos.
            let (beam, _) = try await Self.choices(
                server, #"{"prompt": "The capital of France is", "use_beam_search": true, "best_of": 4, "n": 1, "temperature": 0, "max_tokens": 12}"#)
            #expect(beam.count == 1)
            #expect(beam.first?["text"] as? String == " Paris.")
            #expect(beam.first?["token_ids"] as? [Int] == [7042, 30, 2])

            // 5. _beam_search_sample with min_p 1: n beams, the dead ones at "-Infinity".
            let (dead, _) = try await Self.choices(
                server, #"{"prompt": "The capital of France is", "use_beam_search": true, "best_of": 4, "n": 4, "temperature": 0, "min_p": 1, "max_tokens": 4}"#)
            #expect(dead.count == 4)
            #expect(dead.first?["cumulative_logprob"] as? Double == 0)
            #expect(dead.dropFirst().allSatisfy { $0["cumulative_logprob"] as? String == "-Infinity" })

            // The OpenAI endpoint reports the same stop string as vLLM's server does.
            let completion = try await server.client.post(
                "v1/completions", #"{"prompt": "The capital of France is", "temperature": 0, "max_tokens": 4, "stop": ["s", "P"]}"#)
            let choice = try #require((try completion.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == " Pari" && choice["stop_reason"] as? String == "s")
            #expect(choice["finish_reason"] as? String == "stop")
        }
    }
}
