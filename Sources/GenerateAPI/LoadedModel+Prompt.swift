import Tokenizer

extension LoadedModel {
    /// The request's prompt as token ids.
    ///
    /// Raw text and rendered conversations are tokenized alike: special-token texts such as
    /// `<|im_start|>` become their ids, and BOS is added when the tokenizer's configuration asks
    /// for it — unless the text already begins with the BOS text (templates such as Llama-3's and
    /// Phi-3's write it themselves), so a prompt never starts with two BOS tokens.
    func promptTokens(for source: GenerateRequest.PromptSource, modelName: String) throws(GenerateError) -> [Int] {
        let text: String
        switch source {
        case let .text(prompt):
            text = prompt
        case let .conversation(messages, tools):
            text = try render(messages, tools: tools, modelName: modelName)
        case let .tokens(ids):
            if let outside = ids.first(where: { $0 >= vocabularySize }) {
                throw .invalidField(field: "prompt_token_ids", reason: "token id \(outside) is outside the vocabulary of \(vocabularySize) tokens")
            }
            return ids
        }
        let startsWithBOS = !bosText.isEmpty && text.hasPrefix(bosText)
        let ids = tokenizer.encode(text, addSpecial: !startsWithBOS, parseSpecial: true)
        guard !ids.isEmpty else { throw .invalidField(field: "prompt", reason: "the prompt is empty") }
        return ids
    }

    /// The conversation put through the model's chat template, ending with the assistant's cue;
    /// `tools` as ``ToolPrompt`` shows them.
    func render(_ messages: [ChatMessage], tools: ToolPrompt? = nil, modelName: String) throws(GenerateError) -> String {
        guard let (template, source) = template else { throw .noChatTemplate(model: modelName) }
        do {
            return try ToolPrompt.render(template, messages: messages, tools: tools, bosToken: source.bosToken,
                                         eosToken: source.eosToken)
        } catch {
            throw .templateFailed(model: modelName, reason: error.description)
        }
    }
}
