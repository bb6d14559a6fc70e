import Sampling

/// The canned answer to `mock_response: true`: well-formed, deterministic, and made without a
/// model, so that services can test their integration without weights.
///
/// - `text`: the first `max_tokens` words of a fixed sentence (joined by single spaces), followed
///   for choice i > 0 by " (i)" so choices differ; `finish_reason` is `"length"` when `max_tokens`
///   cut the sentence, else `"stop"`.
/// - `token_ids`: placeholders `0 ..< words` (there is no tokenizer to make real ids).
/// - `usage.prompt_tokens`: the number of whitespace-separated words of the prompt or messages.
/// - `id`: `mock-` and a digest of the request, so the same request gets the same answer.
/// The request's sampling fields are validated exactly as for a real model.
enum MockResponse {
    static let words = "This is a mock response from Sparrow: no model was loaded and no tokens were sampled."
        .split(separator: " ").map(String.init)

    static func make(for request: GenerateRequest, modelName: String) -> GenerateResponse {
        let count = min(max(request.maxTokens ?? words.count, 0), words.count)
        let truncated = count < words.count
        let choices = (0..<request.n).map { i in
            GenerateChoice(
                index: i, text: words.prefix(count).joined(separator: " ") + (i > 0 ? " (\(i))" : ""),
                tokenIDs: Array(0..<count), finishReason: truncated ? .length : .stop, stopReason: nil,
                cumulativeLogprob: 0, logprobs: nil)
        }
        let promptText = request.prompt ?? (request.messages ?? []).map(\.content).joined(separator: " ")
        let promptWords = promptText.split(whereSeparator: { $0.isWhitespace }).count
        return GenerateResponse(
            id: "mock-" + digest(of: request), model: modelName, choices: choices,
            usage: .init(promptTokens: promptWords, completionTokens: count * request.n), timing: .zero)
    }

    /// FNV-1a over the request's canonical fields: stable across runs and machines (unlike
    /// `Hasher`, which is seeded per process).
    private static func digest(of request: GenerateRequest) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) {
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3  // separator, so ("ab","c") and ("a","bc") differ
        }
        mix(request.model ?? "")
        mix(request.prompt ?? "")
        for m in request.messages ?? [] { mix(m.role); mix(m.content) }
        mix("\(request.maxTokens.map(String.init) ?? "null") \(request.n) \(request.seed.map(String.init) ?? "-")")
        return String(h, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
