import Foundation
import Jinja
import Testing

/// The context value type, its JSON reading, sharing a template across tasks, and the globals
/// Hugging Face's environment adds.
@Suite("Jinja: values, sharing and globals")
struct ValueTests {
    @Test("TemplateValue(json:) keeps member order, integers apart from floats, and refuses bad input")
    func json() throws {
        let v = try TemplateValue(json: Array(#"{"b": 1, "a": [1.0, 2e3, -0, true, null, "\u00e9\ud83e\udd80\n"]}"#.utf8))
        #expect(v == ["b": 1, "a": [1.0, 2000.0, 0, true, nil, "é🦀\n"]])
        let out = try Template(source: "{{ v | tojson }} {{ v.a[0] }} {{ v.a[2] }}").render(["v": v])
        #expect(out == #"{"b": 1, "a": [1.0, 2000.0, 0, true, null, "é🦀\n"]} 1.0 0"#)
        for bad in ["", "[1,]", "{\"a\" 1}", "01", "\"\\ud800\"", "[" + String(repeating: "[", count: 200) + String(repeating: "]", count: 201), "1 2"] {
            #expect(throws: TemplateError.self, "\(bad)") { try TemplateValue(json: Array(bad.utf8)) }
        }
    }

    @Test("a template can be shared across tasks and rendered concurrently")
    func concurrent() async throws {
        let t = try Template(source: TemplateFixtures.source("llama3.jinja"))
        let results = await withTaskGroup(of: String?.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try? t.render(TemplateFixtures.chatContext(messages: TemplateFixtures.messages([("user", "m\(i)")]),
                                                               bos: "<s>", eos: "</s>", addGenerationPrompt: false))
                }
            }
            var out: [String] = []
            for await r in group { if let r { out.append(r) } }
            return out
        }
        #expect(results.count == 8)
        #expect(Set(results).count == 8)
    }

    @Test("strftime_now formats the current local time")
    func strftimeNow() throws {
        let out = try Template(source: "{{ strftime_now('%Y-%m-%d') | length }} {{ strftime_now('%d %b %Y') | length >= 10 }}").render([:])
        #expect(out == "10 True")
    }

    @Test("namespaces refuse underscore-prefixed attributes, as transformers' TemplateNamespace does")
    func underscoreAttributes() {
        for source in ["{% set ns = namespace(_x=1) %}", "{% set ns = namespace() %}{% set ns._y = 1 %}"] {
            do {
                _ = try Template(source: source).render([:])
                Issue.record("\(source) rendered")
            } catch {
                guard case let .runtime(message) = error else { Issue.record("\(error)"); continue }
                #expect(message.hasPrefix("Chat templates cannot store underscore-prefixed attributes on a namespace"))
            }
        }
    }
}
