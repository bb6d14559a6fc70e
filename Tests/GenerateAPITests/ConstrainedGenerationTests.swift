import Foundation
import Sampling
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// Constrained generation end to end: the tiny random models of Fixtures/transformer (whose
/// unconstrained output is noise, so any structure comes from the mask), and SmolLM2 when
/// SPARROW_SMOLLM2 names it. Outputs are checked with independent tools: Foundation's JSON parser
/// and NSRegularExpression.
@Suite("Constrained generation")
struct ConstrainedGenerationTests {
    static let engine = Engine(configuration: .init(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                    defaultModel: "llama"))

    static func fullMatch(_ pattern: String, _ text: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else { return false }
        return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func request(_ model: String, _ constraint: OutputConstraint, n: Int = 3, seed: UInt64 = 1, maxTokens: Int = 100) -> GenerateRequest {
        var r = GenerateRequest(model: model, prompt: "Answer:", maxTokens: maxTokens, n: n, temperature: 1, seed: seed)
        r.constraint = constraint
        return r
    }

    @Test("Regex, choice and GBNF outputs on every tiny model match, n = 3 at temperature 1", arguments: ["llama", "mistral", "phi3"])
    func tinyModels(model: String) async throws {
        let pattern = #"[a-z]{2,6}-\d{2}"#
        var response = try await Self.engine.generate(request: Self.request(model, .regex(pattern)))
        for c in response.choices {
            #expect(c.finishReason == .stop, "\(model) \(c.text.debugDescription)")
            #expect(Self.fullMatch(pattern, c.text), "\(model) \(c.text.debugDescription)")
        }
        let choices = ["red", "green", "blue sky", "é😀"]
        response = try await Self.engine.generate(request: Self.request(model, .choice(choices), seed: 2))
        for c in response.choices {
            #expect(choices.contains(c.text), "\(model) \(c.text.debugDescription)")
            #expect(c.finishReason == .stop)
        }
        let grammar = #"""
            root ::= "(" item ("," item){0,2} ")"
            item ::= [0-9] | "x" [€😀]
            """#
        response = try await Self.engine.generate(request: Self.request(model, .grammar(grammar), seed: 3))
        for c in response.choices {
            #expect(Self.fullMatch(#"\((?:[0-9]|x[€😀])(?:,(?:[0-9]|x[€😀])){0,2}\)"#, c.text), "\(model) \(c.text.debugDescription)")
            #expect(c.finishReason == .stop)
        }
    }

    @Test("JSON schema outputs on a tiny model parse and hold the schema's values", arguments: [UInt64(1), 2, 3])
    func tinyJSON(seed: UInt64) async throws {
        let schema = try JSONNode.parse(#"""
            {"type":"object","properties":{"a":{"enum":["x","y"]},"b":{"type":"boolean"},
             "c":{"type":"array","items":{"type":"null"},"maxItems":1}},"required":["a","b"]}
            """#)
        let response = try await Self.engine.generate(request: Self.request("llama", .jsonSchema(schema), seed: seed, maxTokens: 120))
        for c in response.choices {
            guard c.finishReason == .stop else {
                // Only the length limit may cut an output short, never the mask.
                #expect(c.tokenIDs.count == 120)
                continue
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(c.text.utf8)) as? [String: Any], "\(c.text)")
            #expect(["x", "y"].contains(object["a"] as? String), "\(c.text)")
            #expect(object["b"] is Bool, "\(c.text)")
            #expect(Set(object.keys).isSubset(of: ["a", "b", "c"]), "\(c.text)")
        }
    }

    @Test("Greedy decoding under a constraint, streamed and whole, gives the same text")
    func streamedEqualsWhole() async throws {
        var r = GenerateRequest(model: "llama", prompt: "Hi", maxTokens: 40, temperature: 0)
        r.constraint = .regex(#"[a-c]{3}( [0-9]+)?"#)
        let whole = try await Self.engine.generate(request: r)
        var streamed = ""
        for try await event in Self.engine.stream(request: r) {
            if case let .delta(_, text) = event { streamed += text }
        }
        #expect(streamed == whole.choices[0].text)
        #expect(Self.fullMatch(#"[a-c]{3}( [0-9]+)?"#, streamed))
    }

    @Test("Twelve concurrent constrained requests share maskers and stay within the engine's grammar budget")
    func concurrentBudget() async throws {
        var configuration = Engine.Configuration(registry: ModelRegistry(roots: [FixturePaths.url("transformer").path]),
                                                 defaultModel: "llama")
        let budget = 64 << 10
        configuration.grammarCacheBytes = budget
        let engine = Engine(configuration: configuration)
        let pattern = #"[a-z]{2,6}-\d{2}"#
        let schema = try JSONNode.parse(#"{"type":"object","properties":{"a":{"enum":["x","y"]},"b":{"type":"boolean"}},"required":["a","b"]}"#)
        let choices = ["red", "green", "blue sky"]
        let constraints: [OutputConstraint] = [.regex(pattern), .jsonSchema(schema), .choice(choices)]
        let requests = (0 ..< 12).map { Self.request("llama", constraints[$0 % 3], n: 2, seed: UInt64($0), maxTokens: 60) }
        let responses = try await ConcurrentEngineTests.concurrently(engine, requests)
        for (i, response) in responses.enumerated() {
            for c in response.choices {
                switch i % 3 {
                case 0: #expect(Self.fullMatch(pattern, c.text), "\(c.text.debugDescription)")
                case 1 where c.finishReason == .stop:
                    #expect(try JSONSerialization.jsonObject(with: Data(c.text.utf8)) is [String: Any], "\(c.text)")
                case 1: #expect(c.tokenIDs.count == 60)
                default: #expect(choices.contains(c.text), "\(c.text.debugDescription)")
                }
            }
        }
        let cache = engine.grammarCache
        #expect(cache.peakAccountedBytes <= budget, "peak \(cache.peakAccountedBytes) over \(budget)")
        #expect(cache.overBudgetCharges == 0)
        #expect(cache.peakAccountedBytes > 0)
        #expect(cache.leaseCounts.total == 12)
        #expect(cache.accountedBytes <= budget)
    }

    static let smolPath = ProcessInfo.processInfo.environment["SPARROW_SMOLLM2"]
    static let smol = Engine(configuration: .init(
        registry: ModelRegistry(aliases: smolPath.map { ["SmolLM2-135M-Instruct": $0] } ?? [:]),
        defaultModel: "SmolLM2-135M-Instruct"))

    @Test("SmolLM2: JSON schema, json_object, regex and choices, n = 3 at temperature 1: all outputs valid",
          .enabled(if: smolPath != nil, "SKIPPED: set SPARROW_SMOLLM2 (scripts/check-generate.sh does)"))
    func smolLM2() async throws {
        let schema = try JSONNode.parse(#"""
            {"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer"},
             "hobbies":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":3},
             "pet":{"enum":["cat","dog","none"]}},"required":["name","age","pet"]}
            """#)
        var r = GenerateRequest(messages: [ChatMessage(role: "user", content: "Describe a person as JSON.")], maxTokens: 200,
                                n: 3, temperature: 1, seed: 5)
        r.constraint = .jsonSchema(schema)
        for c in try await Self.smol.generate(request: r).choices {
            #expect(c.finishReason == .stop, "\(c.text)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(c.text.utf8)) as? [String: Any], "\(c.text)")
            #expect(object["name"] is String && object["age"] is Int, "\(c.text)")
            #expect(["cat", "dog", "none"].contains(object["pet"] as? String), "\(c.text)")
        }
        r.constraint = .jsonObject
        for c in try await Self.smol.generate(request: r).choices {
            #expect(c.finishReason == .stop, "\(c.text)")
            #expect(try JSONSerialization.jsonObject(with: Data(c.text.utf8)) is [String: Any], "\(c.text)")
        }
        r.constraint = .regex(#"(Mon|Tues|Wednes)day, \d{1,2} [A-Z][a-z]+"#)
        for c in try await Self.smol.generate(request: r).choices {
            #expect(Self.fullMatch(#"(Mon|Tues|Wednes)day, \d{1,2} [A-Z][a-z]+"#, c.text) || c.finishReason == .length, "\(c.text)")
        }
        r.constraint = .choice(["positive", "negative", "neutral"])
        for c in try await Self.smol.generate(request: r).choices {
            #expect(["positive", "negative", "neutral"].contains(c.text))
        }
    }
}
