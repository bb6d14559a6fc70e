import Foundation
import Testing
import Jinja

/// One small template per feature (`Fixtures/templates/features.json`, rendered by jinja2 3.1.6):
/// whitespace control, trim_blocks / lstrip_blocks, scoping, loops, macros, operators, filters,
/// tests, printing, and the errors jinja2 raises.
@Suite("Jinja: features against jinja2")
struct FeatureTests {
    /// How a jinja2 exception maps to `TemplateError`; `exact` when the message must match too.
    static func matches(_ error: TemplateError, kind: String, message: String) -> Bool {
        switch (kind, error) {
        case ("syntax", .syntax): return true
        case ("undefined", let .undefined(m)): return m == message
        case ("raised", let .raised(m)): return m == message
        case ("TypeError", let .type(m)): return m == message
        case ("ZeroDivisionError", let .runtime(m)): return m == message
        case ("OverflowError", let .limitExceeded(limit, m)): return limit == .valueSize && m == message
        case ("RecursionError", let .limitExceeded(limit, _)): return limit == .recursion
        default: return false
        }
    }

    @Test("every feature template renders (or fails) as jinja2 does")
    func features() throws {
        let fixture = try TemplateFixtures.load("features.json")
        let cases = try #require(fixture["cases"]?.arrayValue)
        #expect(cases.count >= 100)
        var passed = 0
        for c in cases {
            let name = try #require(c["name"]?.stringValue)
            let source = try #require(c["template"]?.stringValue)
            var variables: [String: TemplateValue] = [:]
            for (k, v) in try #require(c["variables"]?.objectMembers) { variables[k] = v }
            let result: Result<String, TemplateError>
            do throws(TemplateError) {
                result = .success(try Template(source: source).render(variables))
            } catch {
                result = .failure(error)
            }
            switch result {
            case let .success(out):
                guard let expected = c["output"]?.stringValue else {
                    Issue.record("\(name): rendered \(TemplateFixtures.visible(out)), but jinja2 raised \(c["message"]?.stringValue ?? "")")
                    continue
                }
                #expect(Array(out.utf8) == Array(expected.utf8),
                        "\(name)\n got: \(TemplateFixtures.visible(out))\nwant: \(TemplateFixtures.visible(expected))")
                if Array(out.utf8) == Array(expected.utf8) { passed += 1 }
            case let .failure(error):
                guard let kind = c["error"]?.stringValue, let message = c["message"]?.stringValue else {
                    Issue.record("\(name): threw \(error), but jinja2 rendered \(TemplateFixtures.visible(c["output"]?.stringValue ?? ""))")
                    continue
                }
                // Random expressions (`fuzz-*`) compare errors by occurrence only: Python's messages for
                // exotic type mixes are not reproduced.
                let ok = name.hasPrefix("fuzz-") || Self.matches(error, kind: kind, message: message)
                #expect(ok, "\(name): threw \(error); jinja2: \(kind): \(message)")
                if ok { passed += 1 }
            }
        }
        #expect(passed == cases.count)
    }

    @Test("syntax errors carry the line and column")
    func syntaxPosition() {
        #expect(throws: TemplateError.syntax(message: "Encountered unknown tag 'frobnicate'.", line: 2, column: 3)) {
            try Template(source: "a\nb {% frobnicate %}")
        }
        do {
            _ = try Template(source: "{% for x in y %}\n{% if x %}")
            Issue.record("an unclosed block parsed")
        } catch let TemplateError.syntax(message, line, _) {
            #expect(message.contains("'if'"))
            #expect(line == 2)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("rendering a template twice gives the same text; variables do not leak between renders")
    func rendersAreIndependent() throws {
        let t = try Template(source: "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}{{ x | default('-') }}")
        let messages = TemplateFixtures.messages([("user", "a"), ("user", "b")])
        #expect(try t.render(["messages": messages, "x": 1]) == "21")
        #expect(try t.render(["messages": messages]) == "2-")
    }
}
