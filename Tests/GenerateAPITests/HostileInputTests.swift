import Foundation
import Testing
@testable import GenerateAPI
import SparrowTestSupport
import Jinja

/// The hostile inputs issue 9 names, end to end: each ends in a typed error naming its problem, fast.
@Suite("Hostile requests and templates")
struct HostileInputTests {
    /// The field a request's error names, or nil when it succeeds.
    static func failingField(_ engine: Engine, _ json: String) async throws -> String? {
        let request = try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
        do {
            _ = try await engine.generate(request: request)
            return nil
        } catch let error as GenerateError {
            return error.field
        }
    }

    @Test("absurd max_tokens, n and best_of are refused before anything runs, for mock and real models", arguments: [
        (#""max_tokens": 1000000000000"#, "max_tokens"),
        (#""max_tokens": 9223372036854775807"#, "max_tokens"),
        (#""n": 1000000"#, "n"),
        (#""n": 2, "best_of": 1000000"#, "best_of"),
        (#""n": 9223372036854775807"#, "n"),
    ])
    func absurdValues(field: String, expected: String) async throws {
        for mock in [true, false] {
            // An engine of its own, so that "nothing ran" is visible: its model is never loaded. A
            // wall-clock bound would not show it, and fails when the other suites fill both cores.
            let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                     defaultModel: "llama"))
            let json = #"{"model": "llama", "prompt": "Hello", "mock_response": \#(mock), \#(field)}"#
            #expect(try await Self.failingField(engine, json) == expected, "\(json)")
            #expect(try await engine.batchingStatus(model: "llama") == nil, "\(json) loaded the model")
        }
    }

    @Test("max_tokens is capped by the context even when the engine's own limit is lifted")
    func maxTokensAgainstContext() async throws {
        let lifted = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                 defaultModel: "llama", limits: EngineLimits(maxTokens: .max)))
        // Int.max once overflowed `prompt + max_tokens`; the tiny models' context is 128 tokens.
        for maxTokens in [Int.max, 1_000_000_000_000, 128] {
            let request = GenerateRequest(model: "llama", prompt: "Hello", maxTokens: maxTokens)
            await #expect(throws: GenerateError.self) { try await lifted.generate(request: request) }
            do { _ = try await lifted.generate(request: request) } catch let error as GenerateError {
                #expect(error.field == "max_tokens", "\(error)")
            }
        }
        #expect(try await lifted.generate(request: GenerateRequest(model: "llama", prompt: "Hello", maxTokens: 4, temperature: 0))
            .choices[0].tokenIDs.count == 4)
    }

    /// Parses and renders `source` with the default limits; returns the error and the CPU time the
    /// thread took (the other suites' load on the shared cores does not inflate it).
    static func renderFailure(_ source: String) -> (TemplateError?, Duration) {
        let start = ThreadCPUClock.now
        do {
            _ = try ChatTemplate(source: source).render(messages: [ChatMessage(role: "user", content: "Hi")],
                                                        bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true)
            return (nil, ThreadCPUClock.now - start)
        } catch {
            return (error, ThreadCPUClock.now - start)
        }
    }

    @Test("huge loops, nested loops, deep parentheses and unclosed blocks fail with typed errors, quickly")
    func hostileTemplates() {
        let cases: [(String, String, (TemplateError) -> Bool)] = [
            ("a loop over range(10**9)", "{% for i in range(10**9) %}x{% endfor %}",
             { if case .limitExceeded(.valueSize, _) = $0 { true } else { false } }),
            ("three nested loops of 100 000", "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}",
             { if case .limitExceeded(.steps, _) = $0 { true } else { false } }),
            ("100 000 parentheses", "{{ " + String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000) + " }}",
             { if case .limitExceeded(.nesting, _) = $0 { true } else { false } }),
            // Inside open brackets "}}" is two braces, as in jinja2's lexer: the tag never closes.
            ("100 000 unclosed parentheses before }}", "{{ " + String(repeating: "(", count: 100_000) + " }}",
             { if case .syntax = $0 { true } else { false } }),
            // The lexer finds the missing "}}" before the parser sees any parenthesis.
            ("100 000 unclosed parentheses in an unclosed tag", "{{ " + String(repeating: "(", count: 100_000),
             { if case .syntax = $0 { true } else { false } }),
            ("an unclosed for", "{% for m in messages %}{{ m.content }}",
             { if case .syntax = $0 { true } else { false } }),
            ("an unclosed if inside a for", "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endfor %}",
             { if case .syntax = $0 { true } else { false } }),
            ("an unclosed expression", "{{ messages[0].content ",
             { if case .syntax = $0 { true } else { false } }),
        ]
        for (name, source, isExpected) in cases {
            let (error, elapsed) = Self.renderFailure(source)
            guard let error else {
                Issue.record("\(name): rendered")
                continue
            }
            #expect(isExpected(error), "\(name): \(error)")
            // Nested loops spend the whole default budget (5 million steps): about a second in a
            // release build, several in a debug build on a shared machine; the rest take milliseconds.
            #expect(elapsed < TimeScale.seconds(30), "\(name): \(elapsed)")
        }
    }
}
