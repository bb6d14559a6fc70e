import Testing
import Tokenizer

/// llama.cpp's byte-level BPE test vectors (`Fixtures/vocab/ggml-vocab-<name>.gguf{,.inp,.out}`):
/// every text must encode to the expected ids, and decode (one-shot and streaming) back to itself.
@Suite("Vocabulary test vectors: byte-level BPE")
struct ByteLevelBPEVectorTests {
    @Test func llamaBPE() throws { try assertVocabVectors("llama-bpe") }
    @Test func gpt2() throws { try assertVocabVectors("gpt-2") }
    @Test func qwen2() throws { try assertVocabVectors("qwen2") }
    @Test func starcoder() throws { try assertVocabVectors("starcoder") }
    @Test func deepseekLLM() throws { try assertVocabVectors("deepseek-llm") }
    @Test func falcon() throws { try assertVocabVectors("falcon") }
}
