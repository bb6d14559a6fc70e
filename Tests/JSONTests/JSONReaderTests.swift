import JSON
import Testing

@Suite("JSON reader: errors, limits, numbers and access")
struct JSONReaderTests {
    static func error(_ text: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONError? {
        do {
            _ = try JSONValue(parsing: text, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    static func error(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONError? {
        error(Array(text.utf8), maxDepth: maxDepth)
    }

    @Test("errors name the first byte at fault and why")
    func errors() {
        #expect(Self.error("") == JSONError(offset: 0, reason: .unexpectedEnd))
        #expect(Self.error("[1,]") == JSONError(offset: 3, reason: .unexpectedByte(UInt8(ascii: "]"))))
        #expect(Self.error("01") == JSONError(offset: 1, reason: .leadingZero))
        #expect(Self.error("-") == JSONError(offset: 1, reason: .unexpectedEnd))
        #expect(Self.error("1.e5") == JSONError(offset: 2, reason: .missingDigits))
        #expect(Self.error(#"{"a" 1}"#) == JSONError(offset: 5, reason: .expectedColon))
        #expect(Self.error(#"{"a":1,}"#) == JSONError(offset: 7, reason: .expectedMemberName))
        #expect(Self.error("[1 2]") == JSONError(offset: 3, reason: .expectedCommaOr(closing: "]")))
        #expect(Self.error("1 2") == JSONError(offset: 2, reason: .trailingData))
        #expect(Self.error("nul") == JSONError(offset: 3, reason: .unexpectedEnd))
        #expect(Self.error(#"["a\ud800"]"#) == JSONError(offset: 3, reason: .loneSurrogate))
        #expect(Self.error(#""\x""#) == JSONError(offset: 1, reason: .unknownEscape))
        #expect(Self.error(#""\u12G4""#) == JSONError(offset: 5, reason: .badUnicodeEscape))
        #expect(Self.error([0x22, 0x61, 0xC0, 0xAF, 0x22]) == JSONError(offset: 2, reason: .invalidUTF8))
        #expect(Self.error([0x22, 0x61, 0x0A, 0x22]) == JSONError(offset: 2, reason: .controlCharacter))
        #expect(Self.error([0xEF, 0xBB, 0xBF, 0x31]) == JSONError(offset: 0, reason: .unexpectedByte(0xEF)))
        #expect(Self.error("[1,]")?.description == "invalid JSON at byte 3: unexpected character ']'")
    }

    @Test("maxDepth counts the arrays and objects open at once")
    func depth() throws {
        #expect(try JSONValue(parsing: Array(#"[{"a":[1]}]"#.utf8), maxDepth: 3) != .null)
        #expect(Self.error(#"[{"a":[[1]]}]"#, maxDepth: 3) == JSONError(offset: 7, reason: .nestedTooDeeply(limit: 3)))
        #expect(Self.error("1", maxDepth: 0) == nil)
        #expect(Self.error("[]", maxDepth: 0) == JSONError(offset: 0, reason: .nestedTooDeeply(limit: 0)))
        // Far past the limit is an error, not a stack overflow.
        let deep = Array(repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(Self.error(deep)?.reason == .nestedTooDeeply(limit: JSONValue.defaultMaxDepth))
    }

    @Test("numbers keep their text and whether they are integers")
    func numbers() throws {
        func number(_ text: String) throws -> JSONNumber? {
            guard case let .number(n) = try JSONValue(parsing: Array(text.utf8)) else { return nil }
            return n
        }
        let max = try #require(try number("9223372036854775807"))
        #expect(max.isInteger && max.int == Int.max && max.text == "9223372036854775807")
        #expect(try number("9223372036854775808")?.int == nil)
        #expect(try number("9223372036854775808")?.double == 9_223_372_036_854_775_808)
        #expect(try number("-0")?.int == 0)
        #expect(try number("1.50")?.text == "1.50")
        #expect(try number("1.0")?.isInteger == false)
        #expect(try number("1.0")?.int == nil)
        #expect(try number("2e3")?.double == 2000)
        #expect(try number("1e400")?.double == .infinity)
        #expect(try JSONValue(parsing: Array("12".utf8)).integer == 12)
        #expect(try JSONValue(parsing: Array("12.5".utf8)).number == 12.5)
    }

    @Test("access helpers: the last of a repeated key, Python's truthiness")
    func access() throws {
        let v = try JSONValue(parsing: Array(#"{"a": 1, "b": [true, null], "a": "x", "c": {}, "\u1f77": 7}"#.utf8))
        #expect(v["a"]?.string == "x")
        #expect(v["b"]?.array?.count == 2)
        #expect(v["b"]?.array?[0].bool == true)
        #expect(v["b"]?.array?[1].isNull == true)
        #expect(v["b"]?.array?[1].nonNull == nil)
        #expect(v["missing"] == nil)
        #expect(v["\u{03AF}"] == nil)  // canonically equivalent to U+1F77, but another key
        #expect(v["\u{1F77}"]?.integer == 7)
        let members = try #require(v.members)
        #expect(members.map(\.key) == ["a", "b", "a", "c", "\u{1F77}"])
        let unique = JSONValue.uniqueMembers(members)
        #expect(unique.map(\.key) == ["a", "b", "c", "\u{1F77}"])
        #expect(unique[0].value == .string("x"))
        #expect(v["c"]?.isTruthy == false)
        #expect(v["b"]?.isTruthy == true)
        #expect(JSONValue.number(JSONNumber(text: "0.0", isInteger: false)).isTruthy == false)
        #expect(v["a"]?.isTruthy == true)
    }
}
