import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// Finding a model's template: GGUF metadata, Hugging Face directories (string, named list,
/// `chat_template.jinja`), special-token texts as strings or objects, and the typed error when
/// there is no template. Plus the public value type's JSON reading.
@Suite("Chat templates: sources and values")
struct ChatTemplateSourceTests {
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

    @Test("TemplateValue(json:) keeps member order, integers apart from floats, and refuses bad input")
    func json() throws {
        let v = try TemplateValue(json: Array(#"{"b": 1, "a": [1.0, 2e3, -0, true, null, "\u00e9\ud83e\udd80\n"]}"#.utf8))
        #expect(v == ["b": 1, "a": [1.0, 2000.0, 0, true, nil, "é🦀\n"]])
        let out = try ChatTemplate(source: "{{ v | tojson }} {{ v.a[0] }} {{ v.a[2] }}").render(variables: ["v": v])
        #expect(out == #"{"b": 1, "a": [1.0, 2000.0, 0, true, null, "é🦀\n"]} 1.0 0"#)
        for bad in ["", "[1,]", "{\"a\" 1}", "01", "\"\\ud800\"", "[" + String(repeating: "[", count: 200) + String(repeating: "]", count: 201), "1 2"] {
            #expect(throws: TemplateError.self, "\(bad)") { try TemplateValue(json: Array(bad.utf8)) }
        }
    }

    @Test("extra variables override the defaults and are visible to the template")
    func extraVariables() throws {
        let t = try ChatTemplate(source: "{{ add_generation_prompt }} {{ tools | length }} {{ date_string }}")
        let out = try t.render(messages: [], bosToken: "", eosToken: "", addGenerationPrompt: false,
                               extraVariables: ["tools": [["name": "f"]], "date_string": "1 Jan 2025"])
        #expect(out == "False 1 1 Jan 2025")
    }

    @Test("a template can be shared across tasks and rendered concurrently")
    func concurrent() async throws {
        let t = try ChatTemplate(source: TemplateFixtures.source("llama3.jinja"))
        let results = await withTaskGroup(of: String?.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try? t.render(messages: [ChatMessage(role: "user", content: "m\(i)")], bosToken: "<s>", eosToken: "</s>",
                                  addGenerationPrompt: false)
                }
            }
            var out: [String] = []
            for await r in group { if let r { out.append(r) } }
            return out
        }
        #expect(results.count == 8)
        #expect(Set(results).count == 8)
    }
}

@Suite("Chat templates: Hugging Face globals")
struct ChatTemplateGlobalsTests {
    @Test("strftime_now formats the current local time")
    func strftimeNow() throws {
        let out = try ChatTemplate(source: "{{ strftime_now('%Y-%m-%d') | length }} {{ strftime_now('%d %b %Y') | length >= 10 }}").render(variables: [:])
        #expect(out == "10 True")
    }

    @Test("namespaces refuse underscore-prefixed attributes, as transformers' TemplateNamespace does")
    func underscoreAttributes() {
        for source in ["{% set ns = namespace(_x=1) %}", "{% set ns = namespace() %}{% set ns._y = 1 %}"] {
            do {
                _ = try ChatTemplate(source: source).render(variables: [:])
                Issue.record("\(source) rendered")
            } catch {
                guard case let .runtime(message) = error else { Issue.record("\(error)"); continue }
                #expect(message.hasPrefix("Chat templates cannot store underscore-prefixed attributes on a namespace"))
            }
        }
    }
}
