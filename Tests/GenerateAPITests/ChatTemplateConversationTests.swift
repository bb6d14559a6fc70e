import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// The six model templates against jinja2 3.1.6 on the conversations of
/// `Fixtures/templates/conversations.json` (written by `make_template_expectations.py`): every
/// render byte-identical, every raised error with the same message.
@Suite("Chat templates: model templates against jinja2")
struct ChatTemplateConversationTests {
    @Test("every conversation through every model template renders as jinja2 does")
    func conversations() throws {
        let fixture = try TemplateFixtures.load("conversations.json")
        let cases = try #require(fixture["cases"]?.arrayValue)
        let conversationList = try #require(fixture["conversations"]?.arrayValue)
        var conversations: [String: [ChatMessage]] = [:]
        for c in conversationList {
            let id = try #require(c["id"]?.stringValue)
            conversations[id] = try #require(c["messages"]?.arrayValue).map { m in
                ChatMessage(role: try #require(m["role"]?.stringValue), content: try #require(m["content"]?.stringValue))
            }
        }
        var templates: [String: (ChatTemplate, String, String)] = [:]
        for (name, t) in try #require(fixture["templates"]?.objectMembers) {
            let source = try TemplateFixtures.source(try #require(t["file"]?.stringValue))
            templates[name] = (try ChatTemplate(source: source), try #require(t["bos_token"]?.stringValue),
                               try #require(t["eos_token"]?.stringValue))
        }
        #expect(templates.count == 6)
        var perTemplate: [String: Int] = [:]
        for c in cases {
            let name = try #require(c["template"]?.stringValue)
            let conversation = try #require(c["conversation"]?.stringValue)
            guard case let .bool(agp)? = c["add_generation_prompt"] else { Issue.record("case without add_generation_prompt"); continue }
            let (template, bos, eos) = try #require(templates[name])
            let messages = try #require(conversations[conversation])
            let label = "\(name) / \(conversation) / add_generation_prompt=\(agp)"
            let result: Result<String, TemplateError>
            do throws(TemplateError) {
                result = .success(try template.render(messages: messages, bosToken: bos, eosToken: eos, addGenerationPrompt: agp))
            } catch {
                result = .failure(error)
            }
            switch result {
            case let .success(out):
                let expected = try #require(c["output"]?.stringValue, "\(label): rendered, but jinja2 raised")
                #expect(Array(out.utf8) == Array(expected.utf8),
                        "\(label)\n got: \(TemplateFixtures.visible(out))\nwant: \(TemplateFixtures.visible(expected))")
                if Array(out.utf8) == Array(expected.utf8) { perTemplate[name, default: 0] += 1 }
            case let .failure(error):
                let message = try #require(c["message"]?.stringValue, "\(label): threw \(error), but jinja2 rendered")
                #expect(error == .raised(message: message), "\(label)")
                if error == .raised(message: message) { perTemplate[name, default: 0] += 1 }
            }
        }
        // At least 10 conversations (each with and without the generation prompt) per template.
        for name in templates.keys { #expect(perTemplate[name, default: 0] >= 20, "\(name)") }
        #expect(cases.count == perTemplate.values.reduce(0, +))
    }

    @Test("the notes' example renders for each template")
    func notesExamples() throws {
        let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U"),
                        ChatMessage(role: "assistant", content: "A"), ChatMessage(role: "user", content: "V")]
        let tiny = try ChatTemplate(source: TemplateFixtures.source("tinyllama.jinja"))
        #expect(try tiny.render(messages: messages, bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
                == "<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\nA</s>\n<|user|>\nV</s>\n<|assistant|>\n")
        let llama = try ChatTemplate(source: TemplateFixtures.source("llama3.jinja"))
        #expect(try llama.render(messages: messages, bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", addGenerationPrompt: true)
                == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nV<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        let mistral = try ChatTemplate(source: TemplateFixtures.source("mistral-v0.2.jinja"))
        #expect(throws: TemplateError.raised(message: "Conversation roles must alternate user/assistant/user/assistant/...")) {
            try mistral.render(messages: messages, bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
        }
        #expect(try mistral.render(messages: Array(messages.dropFirst()), bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
                == "<s>[INST] U [/INST]A</s>[INST] V [/INST]")
    }

    @Test("templates read from GGUF files equal the fixture texts")
    func ggufTemplates() throws {
        let phi3 = try ChatTemplate.source(modelPath: FixturePaths.url("vocab/ggml-vocab-phi-3.gguf").path)
        #expect(phi3.template == (try TemplateFixtures.source("phi3-2024-05.jinja")))
        #expect(phi3.bosToken == "<s>")
        let smol = FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/sparrow/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        if FileManager.default.fileExists(atPath: smol) {
            let s = try ChatTemplate.source(modelPath: smol)
            #expect(s.template == (try TemplateFixtures.source("smollm2.jinja")))
            #expect(s.bosToken == "<|im_start|>")
            #expect(s.eosToken == "<|im_end|>")
        }
    }
}

@Suite("Chat templates: budgets of real conversations")
struct ChatTemplateBudgetTests {
    @Test("1000 messages through each model template fit in 1% of the default step budget")
    func longConversation() throws {
        let messages = (0..<1000).map { ChatMessage(role: $0 % 2 == 0 ? "user" : "assistant", content: String(repeating: "word \($0) ", count: 25)) }
        for file in ["tinyllama", "phi3-2024-05", "phi3-2024-07", "llama3", "mistral-v0.2", "smollm2"] {
            let t = try ChatTemplate(source: TemplateFixtures.source("\(file).jinja"), limits: TemplateLimits(maxSteps: 50_000))
            let out = try t.render(messages: messages, bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
            #expect(out.utf8.count > 200_000, "\(file)")
        }
    }
}
