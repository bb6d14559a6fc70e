import Foundation
import ModelFormats
import Testing
import Tensor
import Tokenizer
import Transformer
@testable import GenerateAPI
import SparrowTestSupport

/// A Hugging Face directory and the GGUF file `ModelQuantizer` converts it to tokenize alike and
/// render the same chat template: the tiny fixtures of Fixtures/transformer, each given a real
/// model's template in its `tokenizer_config.json` (the fixtures carry none).
@Suite("Converted models: tokenizer and chat template")
struct ConvertedModelTests {
    static let cases: [(arch: String, template: String)] = [
        ("llama", "tinyllama.jinja"), ("mistral", "mistral-v0.2.jinja"), ("phi3", "phi3-2024-05.jinja"),
    ]

    /// Fixtures/convert/tokenization.json (make_tokenization_reference.py): the test texts, and the
    /// ids Hugging Face `tokenizers` gives on each directory and llama.cpp on its converted GGUF.
    struct TokenizationReference: Decodable {
        struct Transformers: Decodable { let add_special_tokens: Bool; let ids: [[Int]] }
        struct LlamaCpp: Decodable { let add_bos: Bool; let special: Bool; let ids: [[Int]] }
        struct Arch: Decodable { let transformers: [Transformers]; let llamacpp: [LlamaCpp] }
        let texts: [String]
        let llama: Arch
        let mistral: Arch
        let phi3: Arch

        func callAsFunction(_ arch: String) -> Arch { arch == "llama" ? llama : arch == "mistral" ? mistral : phi3 }

        static func load() throws -> Self {
            try JSONDecoder().decode(Self.self, from: Data(contentsOf: FixturePaths.url("convert/tokenization.json")))
        }
    }

    /// The fixture directory with `template` as its chat template, and its conversion to `type`.
    static func convert(_ arch: String, template: String, type: QuantizationType) throws -> (directory: String, gguf: String, cleanup: () -> Void) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-convert-\(UUID().uuidString)").path
        let directory = root + "/\(arch)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let fixtures = FixturePaths.url("transformer/\(arch)").path
        try FileManager.default.copyItem(atPath: fixtures, toPath: directory)
        let configURL = URL(fileURLWithPath: directory + "/tokenizer_config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] ?? [:]
        config["chat_template"] = try String(contentsOf: FixturePaths.url("templates/\(template)"), encoding: .utf8)
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let gguf = root + "/\(arch).gguf"
        try ModelQuantizer(type: type).quantize(input: directory, output: gguf)
        return (directory, gguf, { try? FileManager.default.removeItem(atPath: root) })
    }

    /// The directory tokenizes as transformers does and the GGUF as llama.cpp does; where those two
    /// references agree, so do the directory and the GGUF. They disagree only on a space at the start
    /// of the text or after a special token: these checkpoints' `Metaspace` pre-tokenizer prepends "▁"
    /// only at the start of the text, llama.cpp after every special token too.
    @Test("Token ids: the directory's are transformers', the GGUF's llama.cpp's, the same where those agree",
          arguments: cases.map(\.arch))
    func tokenIDs(arch: String) throws {
        let template = try #require(Self.cases.first { $0.arch == arch }).template
        let (directory, gguf, cleanup) = try Self.convert(arch, template: template, type: .q8_0)
        defer { cleanup() }
        let fromDirectory = try Tokenizer(huggingFaceDirectory: directory)
        let fromGGUF = try Tokenizer(gguf: GGUFFile(path: gguf).metadata)
        #expect(fromDirectory.bosID == fromGGUF.bosID && fromDirectory.eosID == fromGGUF.eosID)
        let reference = try TokenizationReference.load()
        for run in reference(arch).llamacpp {
            for (text, expected) in zip(reference.texts, run.ids) {
                let ids = fromGGUF.encode(text, addSpecial: run.add_bos, parseSpecial: run.special)
                #expect(ids == expected, "GGUF \(arch) \(text.debugDescription) bos \(run.add_bos) special \(run.special)")
            }
        }
        var agreeing = 0
        for run in reference(arch).transformers {
            let llamaCpp = try #require(reference(arch).llamacpp.first { $0.add_bos == run.add_special_tokens && $0.special })
            for (index, text) in reference.texts.enumerated() {
                let ids = fromDirectory.encode(text, addSpecial: run.add_special_tokens, parseSpecial: true)
                #expect(ids == run.ids[index], "directory \(arch) \(text.debugDescription) special \(run.add_special_tokens)")
                if run.ids[index] == llamaCpp.ids[index] {
                    agreeing += 1
                    #expect(ids == fromGGUF.encode(text, addSpecial: run.add_special_tokens, parseSpecial: true))
                }
            }
        }
        #expect(agreeing >= reference.texts.count, "the references agree on \(agreeing) of \(2 * reference.texts.count)")
    }

    @Test("The chat template and its renders are the same from the directory and from its GGUF", arguments: cases.map(\.arch))
    func chatTemplate(arch: String) throws {
        let template = try #require(Self.cases.first { $0.arch == arch }).template
        let (directory, gguf, cleanup) = try Self.convert(arch, template: template, type: .f16)
        defer { cleanup() }
        let fromDirectory = try ChatTemplate.source(modelPath: directory)
        let fromGGUF = try ChatTemplate.source(modelPath: gguf)
        #expect(fromDirectory == fromGGUF)
        #expect(fromGGUF.template == (try String(contentsOf: FixturePaths.url("templates/\(template)"), encoding: .utf8)))
        let conversation = [ChatMessage(role: "user", content: "Hi there"), ChatMessage(role: "assistant", content: "Hello!"),
                            ChatMessage(role: "user", content: "How are you?")]
        for generationPrompt in [true, false] {
            let a = try ChatTemplate(source: fromDirectory.template).render(
                messages: conversation, bosToken: fromDirectory.bosToken, eosToken: fromDirectory.eosToken,
                addGenerationPrompt: generationPrompt)
            let b = try ChatTemplate(source: fromGGUF.template).render(
                messages: conversation, bosToken: fromGGUF.bosToken, eosToken: fromGGUF.eosToken,
                addGenerationPrompt: generationPrompt)
            #expect(a == b && !a.isEmpty)
        }
    }
}
