import Foundation
import Testing
@testable import Sampling

/// The GBNF parser and compiler: what parses to what, and every refusal with its typed error.
@Suite("GBNF grammars")
struct GrammarParserTests {
    func matcher(_ source: String) throws -> GrammarRecognizer {
        try GrammarRecognizer(grammar: CompiledGrammar(gbnf: source))
    }

    @Test("Literals, classes, groups, alternation and comments parse to the expected rules")
    func parsesConstructs() throws {
        let g = try GBNFParser.parse("""
            # a comment line
            root ::= "a" [b-d] (x | "e")* # trailing comment
            x ::= [^\\n] "\\x41\\u00e9"
            """)
        #expect(g.rules.map(\.name) == ["root", "x"])
        let expected: GrammarExpression = .sequence([
            .sequence([.characters(CharacterClass(single: 0x61))]),
            .characters(CharacterClass([0x62 ... 0x64])),
            .repetition(.alternatives([.sequence([.rule("x")]), .sequence([.sequence([.characters(CharacterClass(single: 0x65))])])]),
                        min: 0, max: nil),
        ])
        #expect(g.body("root") == expected)
        #expect(g.body("x") == .sequence([
            .characters(CharacterClass([0x0A ... 0x0A], negated: true)),
            .sequence([.characters(CharacterClass(single: 0x41)), .characters(CharacterClass(single: 0xE9))]),
        ]))
    }

    @Test("A rule continues over lines inside parentheses and after |")
    func multiline() throws {
        let m = try matcher("""
            root ::= (
              "a"
              "b"
            ) |
              "c"
            """)
        #expect(m.matches("ab"))
        #expect(m.matches("c"))
        #expect(!m.matches("a"))
    }

    @Test("Repetitions: * + ? {m} {m,} {m,n}")
    func repetitions() throws {
        let cases: [(String, [String], [String])] = [
            ("root ::= \"a\"*", ["", "a", "aaaa"], ["b"]),
            ("root ::= \"a\"+", ["a", "aaa"], [""]),
            ("root ::= \"a\"?", ["", "a"], ["aa"]),
            ("root ::= \"a\"{3}", ["aaa"], ["aa", "aaaa"]),
            ("root ::= \"a\"{2,}", ["aa", "aaaaaa"], ["a"]),
            ("root ::= \"ab\"{1,3}", ["ab", "abab", "ababab"], ["", "abababab", "aba"]),
            ("root ::= [0-9]{0,2} \"x\"", ["x", "1x", "12x"], ["123x"]),
        ]
        for (source, good, bad) in cases {
            let m = try matcher(source)
            for s in good { #expect(m.matches(s), "\(source) should match \(s)") }
            for s in bad { #expect(!m.matches(s), "\(source) should not match \(s)") }
        }
    }

    @Test("Escapes and classes over code points, negation and ranges")
    func escapesAndClasses() throws {
        let m = try matcher(#"root ::= "\t\"\\" [\u00e0-\u00ff] [^a-z] "\U0001F600" "\x41""#)
        #expect(m.matches("\t\"\\é1😀A"))
        #expect(m.matches("\t\"\\àZ😀A"))
        #expect(!m.matches("\t\"\\éa😀A"))
        #expect(!m.matches("\t\"\\e0😀A"))
        let any = try matcher("root ::= . .")
        #expect(any.matches("é😀"))
        #expect(!any.matches("é"))
    }

    @Test("UTF-8 split anywhere between calls: the state carries the partial character")
    func splitUTF8() throws {
        let m = try matcher(#"root ::= [é😀]+ "!""#)
        let bytes = Array("é😀é!".utf8)
        for cut in 0 ... bytes.count {
            var s = m.advance(m.initial, bytes: bytes[..<cut])
            #expect(!s.isDead)
            s = m.advance(s, bytes: bytes[cut...])
            #expect(m.canEnd(s))
        }
        // A lead byte no class can complete dies at once; so does an invalid byte.
        #expect(m.advance(m.initial, 0xE4).isDead)  // U+4000 ... U+4FFF: none allowed
        #expect(!m.advance(m.initial, 0xC3).isDead)  // é starts with C3
        #expect(m.advance(m.advance(m.initial, 0xC3), 0xA8).isDead)  // è is not é
        #expect(m.advance(m.initial, 0xFF).isDead)
    }

    @Test("Undefined rules, duplicates, a missing root and bad syntax are typed errors")
    func errors() {
        #expect(throws: GrammarError.undefinedRule("y")) { try CompiledGrammar(gbnf: "root ::= y") }
        #expect(throws: GrammarError.duplicateRule("root")) { try CompiledGrammar(gbnf: "root ::= \"a\"\nroot ::= \"b\"") }
        #expect(throws: GrammarError.missingRoot) { try CompiledGrammar(gbnf: "x ::= \"a\"") }
        #expect(throws: GrammarError.syntax(reason: "unknown escape \\q", offset: 10)) { try CompiledGrammar(gbnf: #"root ::= "\q""#) }
        #expect(throws: GrammarError.syntax(reason: "unterminated string literal", offset: 12)) { try CompiledGrammar(gbnf: #"root ::= "ab"#) }
        #expect(throws: GrammarError.syntax(reason: "expected ::= after rule name \"root\"", offset: 5)) { try CompiledGrammar(gbnf: "root = x") }
        #expect(throws: GrammarError.syntax(reason: "expected an item before *", offset: 9)) { try CompiledGrammar(gbnf: "root ::= *") }
        #expect(throws: GrammarError.syntax(reason: "repetition {3,2} has its maximum below its minimum", offset: 17)) {
            try CompiledGrammar(gbnf: #"root ::= "a"{3,2}"#)
        }
    }

    @Test("Left recursion is refused: direct, indirect, and through rules that match the empty string")
    func leftRecursion() {
        #expect(throws: GrammarError.leftRecursion("root")) { try CompiledGrammar(gbnf: "root ::= root \"a\" | \"b\"") }
        #expect(throws: GrammarError.leftRecursion("root")) { try CompiledGrammar(gbnf: "root ::= x \"a\"\nx ::= root | \"b\"") }
        #expect(throws: GrammarError.leftRecursion("root")) { try CompiledGrammar(gbnf: "root ::= e root \"a\" | \"b\"\ne ::= \"c\"?") }
        // Recursion after a character is fine.
        #expect(throws: Never.self) { try CompiledGrammar(gbnf: "root ::= \"(\" root \")\" | \"\"") }
    }

    @Test("Right recursion does not grow the stacks: a long repetition stays in one state")
    func rightRecursionIsFlat() throws {
        let m = try matcher("root ::= item*\nitem ::= \"ab\"")
        var s = m.advance(m.initial, text: "ab")
        let once = s
        for _ in 0 ..< 100 { s = m.advance(s, text: "ab") }
        #expect(s == once)
        #expect(m.canEnd(s))
    }

    @Test("Ambiguity past the stack limit is a typed error, not unbounded memory")
    func ambiguity() throws {
        // Each "a" doubles the number of ways to finish: b or c for every a read so far.
        let grammar = try CompiledGrammar(gbnf: "root ::= \"a\" root \"b\" | \"a\" root \"c\" | \"\"")
        let m = try GrammarRecognizer(grammar: grammar, limits: GrammarLimits(maxStacks: 64))
        let s = m.advance(m.initial, text: String(repeating: "a", count: 10))
        #expect(s.isDead)
        #expect(m.failure == .tooAmbiguous(stacks: 64))
    }
}
