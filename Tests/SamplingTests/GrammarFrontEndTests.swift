import Foundation
import Testing
@testable import Sampling

/// JSON schemas, regular expressions and choice lists compiled to grammars: what they accept and
/// refuse, and the grammar text where llama.cpp's converter gives the same.
@Suite("Schema, regex and choice grammars")
struct GrammarFrontEndTests {
    func schema(_ json: String) throws -> GrammarRecognizer {
        try GrammarRecognizer(grammar: JSONSchemaGrammar.compile(JSONNode.parse(json)))
    }

    @Test("A required string property: llama.cpp's rules, its whitespace, nothing else")
    func simpleObject() throws {
        let text = try JSONSchemaGrammar.gbnf(for: JSONNode.parse(#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#))
        // llama.cpp's json_schema_to_grammar gives these rules for this schema (sorted by name there).
        #expect(text.contains(#"a-kv ::= "\"a\"" space ":" space string"#))
        #expect(text.contains(#"root ::= "{" space a-kv "}" space"#))
        #expect(text.contains(#"space ::= | " " | "\n"{1,2} [ \t]{0,20}"#))
        let m = try schema(#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#)
        #expect(m.matches(#"{"a":"x"}"#))
        #expect(m.matches("{ \"a\" : \"x\" }\n  "))
        #expect(!m.matches(#" {"a":"x"}"#))  // no space before the first value
        #expect(!m.matches(#"{}"#))
        #expect(!m.matches(#"{"a":"x","b":1}"#))  // no additional properties by default
        #expect(!m.matches(#"{"a":1}"#))
    }

    @Test("Optional properties in schema order, enums, const, arrays with bounds, nested objects")
    func richObject() throws {
        let m = try schema("""
            {"type":"object","properties":{
              "name":{"type":"string","minLength":1,"maxLength":3},
              "kind":{"enum":["a","b",3,null]},
              "v":{"const":{"x":[1,true]}},
              "tags":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2},
              "n":{"type":"number"},
              "ok":{"type":"boolean"},
              "sub":{"type":"object","properties":{"z":{"type":"null"}},"required":["z"]}
            },"required":["name","kind"]}
            """)
        #expect(m.matches(#"{"name":"ab","kind":"a"}"#))
        #expect(m.matches(#"{"name":"abc","kind":3,"v":{"x":[1,true]},"tags":[1,-2],"n":-1.5e3,"ok":false,"sub":{"z":null}}"#))
        #expect(m.matches(#"{"name":"a","kind":null,"tags":[0],"sub":{"z":null}}"#))
        #expect(!m.matches(#"{"name":"","kind":"a"}"#))  // minLength
        #expect(!m.matches(#"{"name":"abcd","kind":"a"}"#))  // maxLength
        #expect(!m.matches(#"{"name":"a","kind":"c"}"#))  // enum
        #expect(!m.matches(#"{"name":"a","kind":"a","tags":[]}"#))  // minItems
        #expect(!m.matches(#"{"name":"a","kind":"a","tags":[1,2,3]}"#))  // maxItems
        #expect(!m.matches(#"{"name":"a","kind":"a","tags":[1.5]}"#))  // integer
        #expect(!m.matches(#"{"name":"a","kind":"a","v":{"x":[1,false]}}"#))  // const
        #expect(!m.matches(#"{"kind":"a","name":"a"}"#))  // order is the schema's
        #expect(!m.matches(#"{"name":"a","kind":"a","n":01}"#))  // no leading zeros
    }

    @Test("anyOf, oneOf, type arrays, $ref to $defs and definitions, recursion")
    func referencesAndUnions() throws {
        let m = try schema("""
            {"$defs":{"node":{"type":"object","properties":{"v":{"type":["integer","null"]},
              "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},
             "definitions":{"s":{"type":"string"}},
             "oneOf":[{"$ref":"#/$defs/node"},{"$ref":"#/definitions/s"}]}
            """)
        #expect(m.matches(#"{"v":1,"next":{"v":null,"next":null}}"#))
        #expect(m.matches(#""text""#))
        #expect(!m.matches(#"{"v":"1","next":null}"#))
        #expect(!m.matches("3"))
    }

    @Test("json_object and the empty schema accept any object; additionalProperties adds keys")
    func anyObject() throws {
        let m = try GrammarRecognizer(grammar: JSONSchemaGrammar.anyObject())
        #expect(m.matches(#"{"a":[1,{"b":null}],"c":"\u00e9é"}"#))
        #expect(m.matches("{}"))
        #expect(!m.matches("[]"))
        let extra = try schema(#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}"#)
        #expect(extra.matches(#"{"a":1,"b":"x","c":"y"}"#))
        #expect(extra.matches(#"{"b":"x"}"#))
        #expect(!extra.matches(#"{"b":1}"#))
        #expect(!extra.matches(#"{"a":1,"a":"x"}"#))  // the declared key is not an additional one
    }

    @Test("Formats, patterns and small integer ranges")
    func formatsAndPatterns() throws {
        #expect(try schema(#"{"type":"string","format":"date"}"#).matches(#""2024-02-29""#))
        #expect(try !schema(#"{"type":"string","format":"date"}"#).matches(#""2024-13-01""#))
        #expect(try schema(#"{"type":"string","pattern":"^[a-c]{2}\\d$"}"#).matches(#""ab1""#))
        #expect(try !schema(#"{"type":"string","pattern":"^[a-c]{2}\\d$"}"#).matches(#""ad1""#))
        let r = try schema(#"{"type":"integer","minimum":-2,"maximum":11}"#)
        for good in ["-2", "11", "0"] { #expect(r.matches(good)) }
        for bad in ["12", "-3"] { #expect(!r.matches(bad)) }
    }

    @Test("Unsupported or broken schemas are typed errors")
    func schemaErrors() {
        #expect(throws: GrammarError.unsupportedSchema("\"allOf\" is not supported")) {
            try JSONSchemaGrammar.compile(JSONNode.parse(#"{"allOf":[{"type":"string"}]}"#))
        }
        #expect(throws: GrammarError.unsupportedSchema("$ref #/$defs/x does not resolve")) {
            try JSONSchemaGrammar.compile(JSONNode.parse(##"{"$ref":"#/$defs/x"}"##))
        }
        #expect(throws: GrammarError.unsupportedSchema("unknown type \"str\"")) {
            try JSONSchemaGrammar.compile(JSONNode.parse(#"{"type":"str"}"#))
        }
        #expect(throws: GrammarError.unsupportedSchema("minimum is supported on integers only")) {
            try JSONSchemaGrammar.compile(JSONNode.parse(#"{"type":"number","minimum":1}"#))
        }
    }

    @Test("Regular expressions: classes, escapes, groups, alternation, quantifiers, anchors")
    func regex() throws {
        let cases: [(String, [String], [String])] = [
            (#"^\d{3}-\d{4}$"#, ["555-1234"], ["5551234", "55-1234"]),
            (#"(cat|dog)s?"#, ["cat", "dogs"], ["cats!", "bird"]),
            (#"[A-Z][a-z]*(?: [A-Z][a-z]*)*"#, ["Alice", "Bob Smith"], ["alice", "Bob smith"]),
            (#"a.c"#, ["abc", "aéc"], ["a\nc", "ac"]),
            (#"\w+@\w+\.com"#, ["me@x.com"], ["me@x.org", "@x.com"]),
            (#"[^0-9\s]{2,}"#, ["ab", "é!x"], ["a", "a1", "a b"]),
            (#"x{2}y{1,}z{0,1}"#, ["xxy", "xxyyyz"], ["xy", "xxz"]),
            (#"\u00e9\x41\.\(\)"#, ["éA.()"], ["éA.(("]),
            (#"a{,3}"#, ["a{,3}"], ["aaa"]),
        ]
        for (pattern, good, bad) in cases {
            let m = try GrammarRecognizer(grammar: RegexGrammar.compile(pattern))
            for s in good { #expect(m.matches(s), "\(pattern) should match \(s)") }
            for s in bad { #expect(!m.matches(s), "\(pattern) should not match \(s)") }
        }
        #expect(throws: GrammarError.syntax(reason: "backreferences are not supported", offset: 5)) {
            try RegexGrammar.compile(#"(a)\1"#)
        }
        #expect(throws: GrammarError.syntax(reason: "only (?: ) groups are supported", offset: 1)) {
            try RegexGrammar.compile(#"(?=a)"#)
        }
        #expect(throws: GrammarError.syntax(reason: "nothing to repeat", offset: 0)) { try RegexGrammar.compile("*a") }
        #expect(throws: GrammarError.syntax(reason: "unmatched )", offset: 1)) { try RegexGrammar.compile("a)") }
    }

    @Test("Choices: exactly one of the strings")
    func choices() throws {
        let m = try GrammarRecognizer(grammar: ChoiceGrammar.compile(["yes", "no", "né"]))
        for good in ["yes", "no", "né"] { #expect(m.matches(good)) }
        for bad in ["ye", "yesno", ""] { #expect(!m.matches(bad)) }
        #expect(m.isComplete(m.advance(m.initial, text: "yes")))
        #expect(throws: GrammarError.syntax(reason: "the list of choices is empty", offset: nil)) { try ChoiceGrammar.compile([]) }
    }

    @Test("The JSON parser keeps key order and number text, and refuses bad JSON")
    func jsonNode() throws {
        let v = try JSONNode.parse(#" {"b": 1.50, "a": [true, null, "\u00e9\n"]} "#)
        #expect(v.serialized == #"{"b":1.50,"a":[true,null,"é\n"]}"#)
        #expect(throws: GrammarError.self) { try JSONNode.parse("{\"a\":}") }
        #expect(throws: GrammarError.self) { try JSONNode.parse("[1,]") }
        #expect(throws: GrammarError.self) { try JSONNode.parse("01") }
    }
}
