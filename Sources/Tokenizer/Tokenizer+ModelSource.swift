import ModelFormats

extension Tokenizer {
    /// The tokenizer of an opened model: `tokenizer.ggml.*` of a GGUF file's metadata, parsed
    /// once by `source` (``init(gguf:)``), or a Hugging Face directory's `tokenizer.json`
    /// (``init(huggingFaceDirectory:preTokenizer:)``).
    public init(model source: ModelSource) throws(TokenizerError) {
        switch source.kind {
        case let .gguf(file): try self.init(gguf: file.metadata)
        case let .huggingFace(directory, _): try self.init(huggingFaceDirectory: directory)
        }
    }
}
