import Foundation
import Testing
@testable import GenerateAPI
import Jinja
import SparrowTestSupport

/// Finding a model's template: GGUF metadata, Hugging Face directories (string, named list,
/// `chat_template.jinja`), special-token texts as strings or objects, and the typed error when
/// there is no template. Plus the variables a conversation is rendered with.
@Suite("Chat templates: sources and conversations")
struct ChatTemplateTests {
    /// A fresh directory holding `files` (name → contents), removed by the caller.
    func directory(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    @Test("tokenizer_config.json: a template string, BOS as a string and EOS as an AddedToken object")
    func huggingFaceString() throws {
        let dir = try directory(["tokenizer_config.json": #"""
            {"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false, "__type": "AddedToken"},
             "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}"}
            """#])
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try ChatTemplate.source(modelPath: dir.path)
        #expect(s == ChatTemplateSource(template: "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}",
                                        bosToken: "<s>", eosToken: "</s>"))
        let out = try ChatTemplate(source: s.template).render(messages: [ChatMessage(role: "user", content: "hi")],
                                                              bosToken: s.bosToken, eosToken: s.eosToken, addGenerationPrompt: true)
        #expect(out == "<s>hi</s>")
    }

    @Test("tokenizer_config.json: a list of named templates gives the one named default; null tokens are empty")
    func huggingFaceList() throws {
        let dir = try directory(["tokenizer_config.json": #"""
            {"bos_token": null, "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
            """#])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try ChatTemplate.source(modelPath: dir.path) == ChatTemplateSource(template: "D", bosToken: "", eosToken: ""))
    }

    @Test("chat_template.jinja takes precedence over tokenizer_config.json")
    func huggingFaceJinjaFile() throws {
        let dir = try directory(["tokenizer_config.json": #"{"chat_template": "old", "eos_token": "<|end|>"}"#,
                                 "chat_template.jinja": "new\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try ChatTemplate.source(modelPath: dir.path) == ChatTemplateSource(template: "new\n", bosToken: "", eosToken: "<|end|>"))
    }

    @Test("a model without a template is a typed error")
    func missing() throws {
        let dir = try directory(["tokenizer_config.json": #"{"bos_token": "<s>"}"#])
        defer { try? FileManager.default.removeItem(at: dir) }
        for path in [dir.path, dir.appendingPathComponent("nope").path, FixturePaths.url("vocab/ggml-vocab-gpt-2.gguf").path] {
            do {
                _ = try ChatTemplate.source(modelPath: path)
                Issue.record("\(path): found a template")
            } catch {
                guard case .templateNotFound = error else { Issue.record("\(path): \(error)"); continue }
            }
        }
    }

    @Test("GGUF: BOS and EOS texts come from the vocabulary")
    func gguf() throws {
        let qwen = try ChatTemplate.source(modelPath: FixturePaths.url("vocab/ggml-vocab-qwen2.gguf").path)
        #expect(qwen.bosToken == "<|endoftext|>")
        #expect(qwen.eosToken == "<|endoftext|>")
        let out = try ChatTemplate(source: qwen.template).render(messages: [ChatMessage(role: "user", content: "hi")],
                                                                 bosToken: qwen.bosToken, eosToken: qwen.eosToken, addGenerationPrompt: true)
        #expect(out == "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("extra variables override the defaults and are visible to the template")
    func extraVariables() throws {
        let t = try ChatTemplate(source: "{{ add_generation_prompt }} {{ tools | length }} {{ date_string }}")
        let out = try t.render(messages: [], bosToken: "", eosToken: "", addGenerationPrompt: false,
                               extraVariables: ["tools": [["name": "f"]], "date_string": "1 Jan 2025"])
        #expect(out == "False 1 1 Jan 2025")
    }

    @Test("tools and documents are defined and none, as transformers passes them")
    func transformersVariables() throws {
        let t = try ChatTemplate(source: "{{ tools is defined }} {{ tools is none }} {{ documents is none }} {{ add_generation_prompt }}")
        #expect(try t.render(messages: [], bosToken: "", eosToken: "", addGenerationPrompt: true) == "True True True True")
    }

    @Test("a four-message conversation renders through three model templates")
    func modelTemplates() throws {
        let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U"),
                        ChatMessage(role: "assistant", content: "A"), ChatMessage(role: "user", content: "V")]
        let tiny = try ChatTemplate(source: FixturePaths.text("templates/tinyllama.jinja"))
        #expect(try tiny.render(messages: messages, bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
                == "<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\nA</s>\n<|user|>\nV</s>\n<|assistant|>\n")
        let llama = try ChatTemplate(source: FixturePaths.text("templates/llama3.jinja"))
        #expect(try llama.render(messages: messages, bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", addGenerationPrompt: true)
                == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nV<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        let mistral = try ChatTemplate(source: FixturePaths.text("templates/mistral-v0.2.jinja"))
        #expect(throws: TemplateError.raised(message: "Conversation roles must alternate user/assistant/user/assistant/...")) {
            try mistral.render(messages: messages, bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
        }
        #expect(try mistral.render(messages: Array(messages.dropFirst()), bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
                == "<s>[INST] U [/INST]A</s>[INST] V [/INST]")
    }

    @Test("templates read from GGUF files equal the fixture texts")
    func ggufTemplates() throws {
        let phi3 = try ChatTemplate.source(modelPath: FixturePaths.url("vocab/ggml-vocab-phi-3.gguf").path)
        #expect(phi3.template == (try FixturePaths.text("templates/phi3-2024-05.jinja")))
        #expect(phi3.bosToken == "<s>")
        let smol = FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/sparrow/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        if FileManager.default.fileExists(atPath: smol) {
            let s = try ChatTemplate.source(modelPath: smol)
            #expect(s.template == (try FixturePaths.text("templates/smollm2.jinja")))
            #expect(s.bosToken == "<|im_start|>")
            #expect(s.eosToken == "<|im_end|>")
        }
    }
}
