import Foundation
import ModelFormats
import Testing
import Tokenizer
import Transformer
@testable import GenerateAPI
import SparrowTestSupport

/// A model path is opened once: the weights, the tokenizer and the chat template read one
/// `ModelSource`, so a GGUF file's header is parsed once per load.
@Suite("Model loading opens the path once")
struct ModelSourceLoadingTests {
    static let gguf = FixturePaths.url("transformer/llama-q8_0.gguf").path

    @Test("loading a GGUF model parses its header once")
    func ggufParsedOnce() throws {
        let counter = GGUFParseCounter()
        let model = try GGUFParseCounter.$current.withValue(counter) {
            try LoadedModel(path: Self.gguf, options: .init())
        }
        #expect(counter.count == 1)
        // The tokenizer came from that parse: it is the file's own (llama.cpp's tokenizer.ggml.*).
        let reference = try Tokenizer(gguf: GGUFFile(path: Self.gguf).metadata)
        #expect(model.tokenizer.vocabularySize == reference.vocabularySize)
        #expect(model.tokenizer.bosID == reference.bosID)
    }

    @Test("the counter sees every parse of its task, and only those")
    func counterCountsParses() throws {
        let counter = GGUFParseCounter()
        try GGUFParseCounter.$current.withValue(counter) {
            _ = try ModelSource(path: Self.gguf)
            _ = try ModelSource(path: Self.gguf)
        }
        _ = try ModelSource(path: Self.gguf)
        #expect(counter.count == 2)
    }

    @Test("a Hugging Face directory parses no GGUF header")
    func huggingFaceParsesNoGGUF() throws {
        let counter = GGUFParseCounter()
        _ = try GGUFParseCounter.$current.withValue(counter) {
            try LoadedModel(path: FixturePaths.url("transformer/llama").path, options: .init())
        }
        #expect(counter.count == 0)
    }
}
