import Foundation
import Sampling
import SparrowTestSupport
import Testing
@testable import GenerateAPI

/// Tools in the library: `ChatMessage`'s tool fields, the request fields, the generic format's
/// schema and parser, and how a conversation with tools reaches a template.
@Suite("Tool calls in the library")
struct ToolPromptTests {
    static let weatherParameters = JSONNode.object([
        ("type", .string("object")),
        ("properties", .object([("city", .object([("type", .string("string"))])),
                                ("unit", .object([("enum", .array([.string("celsius"), .string("fahrenheit")]))]))])),
        ("required", .array([.string("city"), .string("unit")])),
    ])
    static let weather = FunctionTool(name: "get_weather", description: "Weather in a city", parameters: weatherParameters)
    static let history = [
        ChatMessage(role: "user", content: "Weather in Paris?"),
        ChatMessage(role: "assistant", content: "",
                    toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city": "Paris", "unit": "celsius"}"#)]),
        ChatMessage(role: "tool", content: "21 degrees", toolCallID: "call_1"),
    ]

    @Test("ChatMessage reads and writes OpenAI's tool_calls and tool_call_id; null content is empty")
    func messageJSON() throws {
        let json = #"[{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees"}]"#
        let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
        #expect(messages == Array(Self.history.dropFirst()))
        let again = try JSONDecoder().decode([ChatMessage].self, from: JSONEncoder().encode(messages))
        #expect(again == messages)
        let plain = try JSONEncoder().encode(ChatMessage(role: "user", content: "Hi"))
        #expect(String(decoding: plain, as: UTF8.self).contains("tool") == false)
    }

    @Test("GenerateRequest decodes tools, tool_choice and parallel_tool_calls, and names the field at fault")
    func requestFields() throws {
        let body = #"{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"unit": {"enum": ["celsius"]}, "city": {"type": "string"}}}}}], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": true}"#
        var r = try JSONDecoder().decode(GenerateRequest.self, from: Data(body.utf8))
        r.readConstraintInOrder(fromBody: Array(body.utf8))
        #expect(r.tools?.map(\.name) == ["get_weather"])
        // The client's property order survives (it is the order of the output's arguments).
        #expect(r.tools?.first?.parameters["properties"].map { if case let .object(m) = $0 { m.map(\.key) } else { [] } } == ["unit", "city"])
        #expect(r.toolChoice == .function("get_weather"))
        #expect(r.parallelToolCalls)
        #expect(r.usesTools)
        let round = try JSONDecoder().decode(GenerateRequest.self, from: JSONEncoder().encode(r))
        #expect(round.toolChoice == r.toolChoice && round.parallelToolCalls && round.tools?.first?.name == "get_weather")
        try r.validate()

        func field(_ json: String) -> String? {
            do {
                try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8)).validate()
                return nil
            } catch let GenerateError.invalidField(field, _) { return field } catch { return "\(error)" }
        }
        let m = #""messages": [{"role": "user", "content": "x"}]"#
        #expect(field(#"{\#(m), "tools": [{"type": "code_interpreter"}]}"#) == "tools[0].type")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "any"}"#) == "tool_choice")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}"#) == "tool_choice")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f", "parameters": {"not": {}}}}]}"#) == "tools[0].function.parameters")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]}"#) == "tools[1].function.name")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f"}}], "guided_regex": "a"}"#) == "guided_regex")
        #expect(field(#"{\#(m), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none", "guided_regex": "a"}"#) == nil)
    }

    @Test("The generic format's schema compiles, accepts calls with valid arguments only, and parses")
    func format() throws {
        let time = FunctionTool(name: "get_time")
        for (choice, parallel) in [(ToolChoice.required, false), (.auto, false), (.required, true), (.function("get_time"), false)] {
            let schema = try #require(try ToolCallFormat.schema(tools: [Self.weather, time], choice: choice, parallel: parallel))
            let grammar = try JSONSchemaGrammar.compile(schema)
            let recognizer = try GrammarRecognizer(grammar: grammar)
            func accepts(_ text: String) -> Bool { recognizer.matches(text) }
            let call = #"{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}"#
            let wrapped = parallel ? #"{"tool_calls": [\#(call), {"name": "get_time", "arguments": {}}]}"# : #"{"tool_call": \#(call)}"#
            #expect(accepts(wrapped) == (choice != .function("get_time")), "\(choice) \(parallel)")
            #expect(!accepts(#"{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "kelvin"}}}"#))
            #expect(!accepts(#"{"tool_call": {"name": "get_rain", "arguments": {}}}"#))
            #expect(accepts(#"{"response": "Hello"}"#) == (choice == .auto), "\(choice)")
        }
        #expect(try ToolCallFormat.schema(tools: [Self.weather], choice: .none, parallel: false) == nil)

        guard case let .calls(calls)? = ToolCallFormat.parse(#"{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}"#) else {
            Issue.record("no call parsed")
            return
        }
        #expect(calls.map(\.name) == ["get_weather"])
        #expect(calls[0].arguments == #"{"city":"Paris","unit":"celsius"}"#)
        #expect(calls[0].id.hasPrefix("call_") && calls[0].id.count == 29)
        if case let .calls(two)? = ToolCallFormat.parse(#"{"tool_calls": [{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}]}"#) {
            #expect(two.map(\.name) == ["a", "b"] && two[0].id != two[1].id)
        } else {
            Issue.record("no calls parsed")
        }
        #expect(ToolCallFormat.parse(#"{"response": "It is sunny."}"#) == .text("It is sunny."))
        #expect(ToolCallFormat.parse(#"{"tool_call": {"name": "get_weather", "argu"#) == nil)
    }

    @Test("A template that uses tools gets the tools variable and messages with tool_calls and tool_call_id")
    func nativeTemplate() throws {
        let template = try ChatTemplate(source: """
            {%- if tools %}[TOOLS]{% for t in tools %}{{ t.function.name }}({{ t.function.parameters.properties | list | join(',') }}){% endfor %}[/TOOLS]{% endif -%}
            {%- for m in messages %}<{{ m.role }}>{{ m.content }}
            {%- if m.tool_calls %}{% for c in m.tool_calls %}[CALL {{ c.id }} {{ c.function.name }} {{ c.function.arguments | tojson }}]{% endfor %}{% endif %}
            {%- if m.tool_call_id %}[RESULT {{ m.tool_call_id }}]{% endif %}
            {%- endfor %}{% if add_generation_prompt %}<assistant>{% endif %}
            """)
        #expect(ToolPrompt.templateRendersTools(template))
        let tools = ToolPrompt(tools: [Self.weather], choice: .auto, parallel: false)
        let text = try ToolPrompt.render(template, messages: Self.history, tools: tools, bosToken: "", eosToken: "")
        #expect(text.hasPrefix("[TOOLS]get_weather(city,unit)[/TOOLS]<system>Respond in JSON format, either with `tool_call`"), "\(text)")
        #expect(!text.contains("You can call these tools"), "the template shows the tools itself")
        #expect(text.contains(#"<assistant>[CALL call_1 get_weather {"city": "Paris", "unit": "celsius"}]"#), "\(text)")
        #expect(text.hasSuffix("<tool>21 degrees[RESULT call_1]<assistant>"), "\(text)")
        // tool_choice none: no tools variable, no instruction.
        let none = try ToolPrompt.render(template, messages: Self.history, tools: ToolPrompt(tools: [Self.weather], choice: .none, parallel: false),
                                         bosToken: "", eosToken: "")
        #expect(none.hasPrefix("<user>Weather in Paris?"), "\(none)")
    }

    @Test("A template without tools gets them in the system message, and the history as plain messages")
    func plainTemplate() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}<assistant>")
        #expect(!ToolPrompt.templateRendersTools(template))
        let system = [ChatMessage(role: "system", content: "Be brief.")]
        let tools = ToolPrompt(tools: [Self.weather], choice: .required, parallel: false)
        let text = try ToolPrompt.render(template, messages: system + Self.history, tools: tools, bosToken: "", eosToken: "")
        let expected = """
            <system>Be brief.

            You can call these tools:
            {"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]}}

            Respond in JSON format with `tool_call` (a request to call tools)
            <user>Weather in Paris?
            <assistant>{"tool_call":{"name":"get_weather","arguments":{"city":"Paris","unit":"celsius"}}}
            <user>{"tool_response":{"tool":"get_weather","tool_call_id":"call_1","content":"21 degrees"}}
            <assistant>
            """
        #expect(text == expected)
        let none = try ToolPrompt.render(template, messages: Self.history, tools: ToolPrompt(tools: [Self.weather], choice: .none, parallel: false),
                                         bosToken: "", eosToken: "")
        #expect(none.hasPrefix("<user>Weather in Paris?\n<assistant>{\"tool_call\""), "\(none)")
    }
}

extension ToolPromptTests {
    @Test("Engine.renderPrompt shows the tools as a request's prompt does")
    func engineRender() async throws {
        let (engine, root) = try ToolPromptTests.chatEngine()
        defer { try? FileManager.default.removeItem(at: root) }
        let plain = try await engine.renderPrompt(messages: [Self.history[0]])
        let tools = try await engine.renderPrompt(messages: [Self.history[0]], tools: [Self.weather])
        let none = try await engine.renderPrompt(messages: [Self.history[0]], tools: [Self.weather], toolChoice: ToolChoice.none)
        #expect(plain == "Weather in Paris?\n" && none == plain)
        #expect(tools.hasPrefix("You can call these tools:\n{\"name\":\"get_weather\""), "\(tools)")
        #expect(tools.hasSuffix("with `response` reply to the user's request\nWeather in Paris?\n"), "\(tools)")
    }

    /// The tiny Llama beside a template that joins the contents.
    static func chatEngine() throws -> (Engine, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-tools-\(UUID().uuidString)")
        let directory = root.appendingPathComponent("llama")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: FixturePaths.url("transformer/llama"), to: directory)
        try Data("{% for m in messages %}{{ m['content'] }}\n{% endfor %}".utf8)
            .write(to: directory.appendingPathComponent("chat_template.jinja"))
        return (Engine(configuration: .init(registry: ModelRegistry(roots: [root.path], allowsPaths: false), defaultModel: "llama")), root)
    }
}
