import Foundation
import Sampling
import Testing
@testable import GenerateAPI
import SparrowTestSupport

/// The constraint fields of a request: how each JSON form decodes, the one-constraint rule, and
/// the 400-style errors (naming the field) for what cannot be compiled, in bounded time.
@Suite("Constraint request fields")
struct ConstraintRequestTests {
    func decode(_ json: String) throws -> GenerateRequest {
        var r = try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
        r.readConstraintInOrder(fromBody: Array(json.utf8))
        return r
    }

    @Test("Every field decodes to its constraint and names itself")
    func fields() throws {
        let cases: [(String, OutputConstraint?, String)] = [
            (#"{"guided_json": {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}}}"#,
             .jsonSchema(.object([("type", .string("object")), ("properties", .object([("b", .object([("type", .string("string"))])), ("a", .object([("type", .string("integer"))]))]))])),
             "guided_json"),
            (#"{"guided_json": "{\"type\": \"string\"}"}"#, .jsonSchema(.object([("type", .string("string"))])), "guided_json"),
            (#"{"guided_choice": ["yes", "no"]}"#, .choice(["yes", "no"]), "guided_choice"),
            (#"{"guided_regex": "\\d+"}"#, .regex("\\d+"), "guided_regex"),
            (#"{"guided_grammar": "root ::= \"a\""}"#, .grammar("root ::= \"a\""), "guided_grammar"),
            (#"{"grammar": "root ::= \"a\""}"#, .grammar("root ::= \"a\""), "grammar"),
            (#"{"json_schema": {"type": "boolean"}}"#, .jsonSchema(.object([("type", .string("boolean"))])), "json_schema"),
            (#"{"response_format": {"type": "json_object"}}"#, .jsonObject, "response_format"),
            (#"{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": {"type": "null"}}}}"#,
             .jsonSchema(.object([("type", .string("null"))])), "response_format"),
            (#"{"response_format": {"type": "text"}}"#, nil, "guided_json"),
            (#"{"guided_json": null}"#, nil, "guided_json"),
        ]
        for (json, expected, field) in cases {
            let r = try decode(json)
            #expect(r.constraint == expected, "\(json)")
            #expect(r.constraintFieldName == field, "\(json)")
        }
    }

    @Test("Property order survives from the request text (Codable alone sorts keys)")
    func order() throws {
        let json = #"{"guided_json": {"properties": {"zeta": {"type": "string"}, "alpha": {"type": "string"}}, "type": "object"}}"#
        let plain = try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8))
        guard case let .jsonSchema(sorted)? = plain.constraint, case let .object(members)? = sorted["properties"] else {
            Issue.record("no schema")
            return
        }
        #expect(members.map(\.key) == ["alpha", "zeta"])
        guard case let .jsonSchema(ordered)? = try decode(json).constraint, case let .object(kept)? = ordered["properties"] else {
            Issue.record("no schema")
            return
        }
        #expect(kept.map(\.key) == ["zeta", "alpha"])
    }

    @Test("Two constraints, wrong shapes and unknown response formats are invalid fields")
    func shapeErrors() {
        let cases: [(String, String)] = [
            (#"{"guided_json": {"type": "string"}, "guided_regex": "a"}"#, "guided_regex"),
            (#"{"response_format": {"type": "json_object"}, "grammar": "root ::= \"a\""}"#, "response_format"),
            (#"{"guided_choice": "yes"}"#, "guided_choice"),
            (#"{"guided_choice": [1, 2]}"#, "guided_choice"),
            (#"{"guided_regex": 5}"#, "guided_regex"),
            (#"{"json_schema": "x"}"#, "json_schema"),
            (#"{"guided_json": "{not json"}"#, "guided_json"),
            (#"{"response_format": {"type": "xml"}}"#, "response_format"),
            (#"{"response_format": {"type": "json_schema", "json_schema": {"schema": 3}}}"#, "response_format.json_schema.schema"),
        ]
        for (json, field) in cases {
            do {
                _ = try decode(json)
                Issue.record("\(json) decoded")
            } catch let GenerateError.invalidField(f, _) {
                #expect(f == field, "\(json)")
            } catch {
                Issue.record("\(json): \(error)")
            }
        }
    }

    func validationError(_ request: GenerateRequest) -> (String, String)? {
        do {
            try request.validate()
            return nil
        } catch let GenerateError.invalidField(field, reason) {
            return (field, reason)
        } catch {
            return ("?", "\(error)")
        }
    }

    @Test("A constraint that cannot compile is an invalid field naming it, with the reason")
    func compileErrors() throws {
        var r = GenerateRequest(prompt: "x")
        r.constraint = .grammar("root ::= root \"a\"")
        #expect(validationError(r)?.0 == "guided_grammar")
        #expect(validationError(r)?.1.contains("left-recursive") == true)
        r = try decode(#"{"prompt": "x", "grammar": "root ::= undefined"}"#)
        #expect(validationError(r)?.0 == "grammar")
        r = try decode(#"{"prompt": "x", "guided_regex": "(a"}"#)
        #expect(validationError(r)?.0 == "guided_regex")
        r = try decode(#"{"prompt": "x", "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "wat"}}}}"#)
        #expect(validationError(r)?.0 == "response_format")
        r = try decode(#"{"prompt": "x", "guided_choice": ["a"], "use_beam_search": true, "best_of": 2, "temperature": 0}"#)
        #expect(validationError(r)?.0 == "guided_choice")
        #expect(validationError(r)?.1.contains("beam search") == true)
    }

    @Test("The 20 schemas of Fixtures/structured compile, with the recognizer's start, in well under a second")
    func fixtureSchemasCompile() throws {
        let text = try String(contentsOf: FixturePaths.url("structured/schemas.json"), encoding: .utf8)
        guard case let .array(entries) = try JSONNode.parse(text) else { throw GrammarError.missingRoot }
        #expect(entries.count == 20)
        // CPU time of this thread, not wall time: the other suites share the cores.
        let start = ThreadCPUClock.now
        for entry in entries {
            let schema = try #require(entry["schema"])
            _ = try GrammarRecognizer(grammar: JSONSchemaGrammar.compile(schema))
        }
        let elapsed = ThreadCPUClock.now - start
        print("compiled the 20 fixture schemas in \(elapsed) of CPU time")
        #expect(elapsed < TimeScale.seconds(1))
    }

    @Test("Hostile constraints are refused in bounded time: left recursion, 10k alternatives, deep nesting, huge regexes")
    func hostile() throws {
        // CPU time of this thread, not wall time: the other suites share the cores.
        let clock = ThreadCPUClock.self
        let nestedArrays = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let deepSchema = String(repeating: #"{"type":"array","items":"#, count: 200) + "{}" + String(repeating: "}", count: 200)
        func with(_ c: OutputConstraint) -> String {
            var r = GenerateRequest(prompt: "x")
            r.constraint = c
            return String(decoding: try! JSONEncoder().encode(r), as: UTF8.self)
        }
        let inputs: [(String, String)] = [
            ("left recursion", with(.grammar("root ::= a\na ::= b \"x\"\nb ::= a | \"\""))),
            ("10k alternatives", with(.grammar("root ::= " + (0 ..< 10_000).map { "\"a\($0)\"" }.joined(separator: " | ")))),
            ("10k choices", with(.choice((0 ..< 10_000).map { "c\($0)" }))),
            ("10k enum values", with(.jsonSchema(.object([("enum", .array((0 ..< 10_000).map { .number("\($0)") }))])))),
            ("10k nested groups", with(.grammar("root ::= " + String(repeating: "(", count: 10_000) + "\"a\"" + String(repeating: ")", count: 10_000)))),
            ("10k nested regex groups", with(.regex(String(repeating: "(", count: 10_000) + "a" + String(repeating: ")", count: 10_000)))),
            ("10k nested arrays in a schema", #"{"prompt": "x", "guided_json": {"type": "array", "items": "# + nestedArrays + "}}"),
            ("10k nested arrays as schema text", #"{"prompt": "x", "guided_json": "# + String(reflecting: nestedArrays) + "}"),
            ("a schema nested 200 deep", #"{"prompt": "x", "json_schema": "# + deepSchema + "}"),
            ("huge regex", with(.regex(String(repeating: "(a|b)", count: 300_000)))),
            ("huge repetition", with(.regex("a{1000000}"))),
            ("repetitions past the symbol limit", with(.grammar("root ::= " + String(repeating: #""a"{4000} "#, count: 100)))),
            ("huge maxLength", with(.jsonSchema(.object([("type", .string("string")), ("maxLength", .number("100000000"))])))),
        ]
        for (name, body) in inputs {
            let start = clock.now
            do {
                var r = try JSONDecoder().decode(GenerateRequest.self, from: Data(body.utf8))
                r.readConstraintInOrder(fromBody: Array(body.utf8))
                try r.validate()
                Issue.record("\(name) was accepted")
            } catch {
                // Foundation's decoder refuses some of the deepest nestings itself; either way the
                // request is refused as a whole.
                #expect(error is GenerateError || error is DecodingError, "\(name): \(error)")
            }
            let elapsed = clock.now - start
            // The slowest, 10k choices, takes about 1.2 s of CPU in a debug build.
            #expect(elapsed < .seconds(5), "\(name) took \(elapsed)")
        }
        // Nested repetitions are rules of rules: a language of 4000³ characters costs 12,000 symbols.
        let start = clock.now
        let product = try CompiledGrammar(gbnf: #"root ::= (("a"{4000}){4000}){4000}"#)
        #expect(product.symbolCount < 20_000)
        #expect(clock.now - start < .seconds(2))
    }
}
