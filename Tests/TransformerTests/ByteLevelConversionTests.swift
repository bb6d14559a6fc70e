import Foundation
import JSON
import ModelFormats
import Testing
import Tensor
@testable import Tokenizer
@testable import Transformer
import SparrowTestSupport

/// Byte-level BPE tokenizers (Llama 3, SmolLM2) converted as llama.cpp's converter does. The
/// references are GGUF vocabularies llama.cpp's converter wrote from the real checkpoints:
/// `Fixtures/vocab/ggml-vocab-llama-bpe.gguf` (Llama 3) and `Fixtures/tokenizer/smollm2-vocab.gguf`
/// (SmolLM2-135M-Instruct). Each test rebuilds a `tokenizer.json` from one of them with the
/// checkpoint's own pre-tokenizer configuration, converts it, and compares. The pre-tokenizer's
/// name is the strongest check: it comes from the SHA-256 of the tokenization of llama.cpp's test
/// text, which matches the converter's table only if Sparrow tokenizes that text exactly as
/// transformers tokenized the real checkpoint.
@Suite("Byte-level BPE conversion")
struct ByteLevelConversionTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let vocabulary: String
        let preTokenizer: String
        let postProcessor: String
        let ignoreMerges: Bool
        let tokenizerConfig: [String: String]
        var description: String { name }
    }

    static let llama3 = Case(
        name: "Llama 3", vocabulary: "vocab/ggml-vocab-llama-bpe.gguf",
        preTokenizer: #"""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
               "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
            """#,
        postProcessor: #"""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}
            """#,
        ignoreMerges: true,
        tokenizerConfig: ["bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"])

    static let smolLM2 = Case(
        name: "SmolLM2", vocabulary: "tokenizer/smollm2-vocab.gguf",
        preTokenizer: #"""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Digits", "individual_digits": true},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}
            """#,
        postProcessor: #"{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}"#,
        ignoreMerges: false,
        tokenizerConfig: ["bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
                          "pad_token": "<|im_end|>"])

    /// A checkpoint directory holding `tokenizer.json`, `tokenizer_config.json` and `config.json`
    /// rebuilt from `reference`: its normal tokens as `model.vocab`, its control tokens as special
    /// added tokens (also in `model.vocab`, as SmolLM2's file has them), its merges.
    static func directory(for testCase: Case, reference: GGUFMetadata) throws -> TemporaryDirectory {
        let tokens = try reference.requireStringArray("tokenizer.ggml.tokens")
        let types = try reference.requireIntArray("tokenizer.ggml.token_type")
        let merges = try reference.requireStringArray("tokenizer.ggml.merges")
        var vocab: [String: Int] = [:]
        var added: [[String: Any]] = []
        for (id, text) in tokens.enumerated() {
            if types[id] == 3 {
                added.append(["id": id, "content": text, "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": false, "special": true])
                if testCase.ignoreMerges { continue }
            }
            vocab[text] = id
        }
        func object(_ json: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(json.utf8)) }
        let tokenizer: [String: Any] = [
            "version": "1.0", "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": try object(testCase.preTokenizer), "post_processor": try object(testCase.postProcessor),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": testCase.ignoreMerges, "vocab": vocab, "merges": merges] as [String: Any],
        ]
        var config: [String: Any] = testCase.tokenizerConfig
        if testCase.name == "SmolLM2" { config["add_prefix_space"] = false }
        let directory = try TemporaryDirectory()
        func write(_ value: Any, _ name: String) throws {
            try JSONSerialization.data(withJSONObject: value).write(to: URL(fileURLWithPath: directory.path + "/" + name))
        }
        try write(tokenizer, "tokenizer.json")
        try write(config, "tokenizer_config.json")
        try write(["vocab_size": tokens.count, "architectures": ["LlamaForCausalLM"]], "config.json")
        return directory
    }

    @Test("tokens, types, merges, pre-tokenizer and special ids are llama.cpp's", arguments: [llama3, smolLM2])
    func vocabularyIsLlamaCpps(testCase: Case) throws {
        let reference = try GGUFFile(path: FixturePaths.url(testCase.vocabulary).path).metadata
        let directory = try Self.directory(for: testCase, reference: reference)
        let config = try #require(try JSONValue.file(directory.path + "/config.json"))
        var writer = MetadataBuilder(architecture: "llama")
        try HuggingFaceVocabulary.add(to: &writer, directory: directory.path, config: config, architecture: "llama")
        let converted = Dictionary(writer.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })

        #expect(converted["tokenizer.ggml.model"] == .string("gpt2"))
        #expect(converted["tokenizer.ggml.pre"] == reference["tokenizer.ggml.pre"])
        for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
            #expect(converted[key] == reference[key], "\(key)")
        }
        if testCase.name == "SmolLM2" {
            for key in ["tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_space_prefix",
                        "tokenizer.ggml.add_bos_token"] {
                #expect(converted[key] == reference[key], "\(key)")
            }
        } else {
            #expect(converted["tokenizer.ggml.add_bos_token"] == .bool(true))
        }
        // The order `_set_vocab_gpt2` writes, then gguf-py's SpecialVocab.
        let keys = writer.entries.map(\.key).filter { $0.hasPrefix("tokenizer.ggml.") && $0 != "tokenizer.ggml.add_space_prefix" }
        #expect(Array(keys.prefix(5)) == ["tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
                                          "tokenizer.ggml.token_type", "tokenizer.ggml.merges"])
    }

    @Test("merges as pairs are written as strings, a space inside a part as U+0120")
    func pairMerges() throws {
        let json = try #require(try? JSONValue(parsing: Array(#"{"model": {"merges": [["a b", "c"], ["Ġt", "he"]]}}"#.utf8)))
        #expect(try HuggingFaceVocabulary.merges(json: json, directory: "/nonexistent") == ["a\u{0120}b c", "Ġt he"])
    }

    @Test("SHA-256 gives the FIPS 180-4 digests")
    func sha256() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hexDigest(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("a pre-tokenizer llama.cpp's table does not know is refused with its hash")
    func unknownPreTokenizer() throws {
        // GPT-2's first 1000 merges: GPT-2's pre-tokenizer, but not GPT-2's tokenization of the text.
        let source = FixturePaths.url("tokenizer/gpt2-small").path
        let directory = try TemporaryDirectory()
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: directory.path + "/" + name)
        }
        let config = try #require(try? JSONValue(parsing: Array(#"{"vocab_size": 1257}"#.utf8)))
        var writer = MetadataBuilder(architecture: "llama")
        #expect {
            try HuggingFaceVocabulary.add(to: &writer, directory: directory.path, config: config, architecture: "llama")
        } throws: { error in
            guard case let .invalidFile(path, reason) = error as? ModelQuantizationError else { return false }
            return path == directory.path + "/tokenizer.json" && reason.contains("chkhsh")
        }
    }
}
