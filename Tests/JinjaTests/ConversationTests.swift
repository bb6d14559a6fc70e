import Foundation
import Jinja
import Testing

/// The six model templates against jinja2 3.1.6 on the conversations of
/// `Fixtures/templates/conversations.json` (written by `make_template_expectations.py`): every
/// render byte-identical, every raised error with the same message.
@Suite("Jinja: model templates against jinja2")
struct ConversationTests {
    @Test("every conversation through every model template renders as jinja2 does")
    func conversations() throws {
        let fixture = try TemplateFixtures.load("conversations.json")
        let cases = try #require(fixture["cases"]?.arrayValue)
        let conversationList = try #require(fixture["conversations"]?.arrayValue)
        var conversations: [String: TemplateValue] = [:]
        for c in conversationList {
            let id = try #require(c["id"]?.stringValue)
            conversations[id] = TemplateFixtures.messages(try #require(c["messages"]?.arrayValue).map { m in
                (role: try #require(m["role"]?.stringValue), content: try #require(m["content"]?.stringValue))
            })
        }
        var templates: [String: (Template, String, String)] = [:]
        for (name, t) in try #require(fixture["templates"]?.objectMembers) {
            let source = try TemplateFixtures.source(try #require(t["file"]?.stringValue))
            templates[name] = (try Template(source: source), try #require(t["bos_token"]?.stringValue),
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
                result = .success(try template.render(TemplateFixtures.chatContext(messages: messages, bos: bos, eos: eos, addGenerationPrompt: agp)))
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
}

@Suite("Jinja: budgets of real conversations")
struct ConversationBudgetTests {
    @Test("1000 messages through each model template fit in 1% of the default step budget")
    func longConversation() throws {
        let messages = TemplateFixtures.messages((0..<1000).map {
            (role: $0 % 2 == 0 ? "user" : "assistant", content: String(repeating: "word \($0) ", count: 25))
        })
        for file in ["tinyllama", "phi3-2024-05", "phi3-2024-07", "llama3", "mistral-v0.2", "smollm2"] {
            let t = try Template(source: TemplateFixtures.source("\(file).jinja"), limits: TemplateLimits(maxSteps: 50_000))
            let out = try t.render(TemplateFixtures.chatContext(messages: messages, bos: "<s>", eos: "</s>", addGenerationPrompt: true))
            #expect(out.utf8.count > 200_000, "\(file)")
        }
    }
}
