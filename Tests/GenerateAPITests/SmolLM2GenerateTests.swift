import Foundation
import Testing
@testable import GenerateAPI

/// The default model end to end: a chat through its own template, streamed and not.
///
/// The 98 MB model is not in the repository, so this runs only when `SPARROW_SMOLLM2` holds its
/// path; `scripts/check-generate.sh` (run by CI) fetches it and sets it.
@Suite("SmolLM2-135M-Instruct through generate(request:) (needs SPARROW_SMOLLM2)")
struct SmolLM2GenerateTests {
    static let modelPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]
    static let engine = Engine(configuration: .init(
        registry: ModelRegistry(aliases: modelPath.map { ["SmolLM2-135M-Instruct": $0] } ?? [:]),
        defaultModel: "SmolLM2-135M-Instruct"))
    static let chat = [
        ChatMessage(role: "system", content: "You are a concise assistant."),
        ChatMessage(role: "user", content: "What is the capital of France?"),
    ]

    @Test("a chat with messages returns text and a finish reason; streamed deltas equal the whole text",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func chat() async throws {
        let request = GenerateRequest(messages: Self.chat, maxTokens: 48, temperature: 0.7, seed: 1234)
        let whole = try await Self.engine.generate(request: request)
        let choice = try #require(whole.choices.first)
        #expect(!choice.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(choice.tokenIDs.count <= 48)
        #expect(choice.finishReason == (choice.tokenIDs.count == 48 ? .length : .stop))
        // The rendered ChatML prompt: system turn, user turn, assistant cue; one prompt, no BOS token.
        let rendered = try await Self.engine.renderPrompt(messages: Self.chat)
        #expect(rendered == "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
        var streamed = ""
        var final: GenerateResponse?
        for try await event in Self.engine.stream(request: request) {
            switch event {
            case let .delta(_, text): streamed += text
            case .logprobs: break
            case let .finished(response): final = response
            }
        }
        #expect(streamed == choice.text)
        #expect(final?.choices.first?.tokenIDs == choice.tokenIDs)
        print("SmolLM2 chat: \(choice.text.debugDescription) [\(choice.finishReason.rawValue)]")
    }

    /// A chat whose greedy answer is not decided by a near tie. llama.cpp (llama-cpp-python 0.3.36,
    /// `create_chat_completion`, temperature 0) answers it "The capital of France is Paris." and ends
    /// its turn; Sparrow's first token leads the next by 1.7. (`chat` above is no such chat: there
    /// llama.cpp itself answers "Le Grand Paris, le Grand-Bien-…" and never stops, and with "You are a
    /// helpful assistant." its first two candidates lie 0.09 apart, less than its own batched and
    /// one-token logits differ.)
    static let greedyChat = [
        ChatMessage(role: "system", content: "You are a concise assistant."),
        ChatMessage(role: "user", content: "What is the capital of France? Answer in one sentence."),
    ]

    @Test("greedy chat: the capital of France is Paris",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func greedyAnswer() async throws {
        let request = GenerateRequest(messages: Self.greedyChat, maxTokens: 32, temperature: 0)
        let response = try await Self.engine.generate(request: request)
        let text = try #require(response.choices.first).text
        #expect(text == "The capital of France is Paris.", "\(text)")
        #expect(response.choices[0].finishReason == .stop)  // it ends its turn with <|im_end|>
    }

    @Test("n, best_of, seed and beam search work on the real model",
          .enabled(if: modelPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func modes() async throws {
        let sampled = GenerateRequest(messages: Self.chat, maxTokens: 16, n: 2, bestOf: 3, temperature: 1, seed: 5)
        let a = try await Self.engine.generate(request: sampled)
        #expect(a.choices.count == 2)
        #expect(a.choices[0].cumulativeLogprob >= a.choices[1].cumulativeLogprob)
        #expect(try await Self.engine.generate(request: sampled).choices == a.choices)
        let beams = GenerateRequest(messages: Self.chat, maxTokens: 12, n: 2, bestOf: 3, temperature: 0,
                                    useBeamSearch: true, earlyStopping: .atOnce)
        let b = try await Self.engine.generate(request: beams)
        #expect(b.choices.count == 2)
        #expect(b.choices[0].text != b.choices[1].text || b.choices[0].tokenIDs != b.choices[1].tokenIDs)
    }
}
