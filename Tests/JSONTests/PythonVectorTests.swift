import JSON
import SparrowTestSupport
import Testing

/// One row of `Fixtures/json/vectors.tsv`, which `Fixtures/json/make_vectors.py` writes from
/// Python's `json` module.
struct JSONVector: CustomTestStringConvertible, Sendable {
    let name: String
    let input: [UInt8]
    /// Whether Python's `json.loads` and Sparrow's reader take the text.
    let accepts: (python: Bool, sparrow: Bool)
    /// The canonical form of the value with every member as written, and as Python's `dict` has it.
    let expected: (pairs: String, dict: String)
    /// Why Sparrow's verdict differs from Python's, or "-".
    let note: String
    var testDescription: String { name }

    static let all: [JSONVector] = (try? load()) ?? []

    static func load() throws -> [JSONVector] {
        try FixturePaths.text("json/vectors.tsv").split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 7 else { throw VectorFileError(line: String(line)) }
            let input: [UInt8]
            if f[1].hasPrefix("nest:"), let n = Int(f[1].dropFirst(5)) {
                input = Array(repeating: UInt8(ascii: "["), count: n) + Array(repeating: UInt8(ascii: "]"), count: n)
            } else if f[1].hasPrefix("hex:"), let bytes = hexBytes(f[1].dropFirst(4)) {
                input = bytes
            } else {
                throw VectorFileError(line: String(line))
            }
            return JSONVector(name: f[0], input: input, accepts: (f[2] == "accept", f[3] == "accept"), expected: (f[4], f[5]),
                              note: f[6])
        }
    }

    static func hexBytes(_ hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i ..< i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    struct VectorFileError: Error { let line: String }
}

/// The canonical form `make_vectors.py` writes: integers as their decimal value, floats as their
/// IEEE 754 bits, strings as their UTF-8 in hex, objects as `{key=value,...}`.
func canonical(_ value: JSONValue, uniqueKeys: Bool) -> String {
    func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
    switch value {
    case .null: return "null"
    case let .bool(b): return b ? "true" : "false"
    case let .number(n):
        guard n.isInteger else {
            let bits = String(n.double.bitPattern, radix: 16)
            return "f:" + String(repeating: "0", count: 16 - bits.count) + bits
        }
        return "i:" + (n.text == "-0" ? "0" : n.text)  // Python's int(-0) is 0
    case let .string(s): return "s:" + hex(s.utf8)
    case let .array(items): return "[" + items.map { canonical($0, uniqueKeys: uniqueKeys) }.joined(separator: ",") + "]"
    case let .object(members):
        let shown = uniqueKeys ? JSONValue.uniqueMembers(members) : members
        return "{" + shown.map { "s:" + hex($0.key.utf8) + "=" + canonical($0.value, uniqueKeys: uniqueKeys) }.joined(separator: ",") + "}"
    }
}

@Suite("JSON reader against Python's json module")
struct PythonVectorTests {
    @Test("the vector file is there and covers both verdicts")
    func vectorFile() throws {
        let vectors = try JSONVector.load()
        #expect(vectors.count > 100)
        #expect(vectors.contains { $0.accepts.sparrow } && vectors.contains { !$0.accepts.sparrow })
        // Sparrow departs from Python only where the script says why.
        for v in vectors where v.accepts.python != v.accepts.sparrow {
            #expect(v.note != "-", "\(v.name)")
        }
    }

    @Test("each text is accepted or refused as the vector says, and read to Python's value", arguments: JSONVector.all)
    func vector(_ v: JSONVector) throws {
        if v.accepts.sparrow {
            let value = try JSONValue(parsing: v.input)
            #expect(canonical(value, uniqueKeys: false) == v.expected.pairs)
            #expect(canonical(value, uniqueKeys: true) == v.expected.dict)
        } else {
            #expect(throws: JSONError.self) { try JSONValue(parsing: v.input) }
        }
    }

    @Test("a collection without contiguous storage reads the same", arguments: JSONVector.all.filter { $0.input.count < 1000 })
    func nonContiguous(_ v: JSONVector) throws {
        let bytes = v.input.lazy.map { $0 }
        let direct = Result { () throws(JSONError) in try JSONValue(parsing: v.input) }
        let copied = Result { () throws(JSONError) in try JSONValue(parsing: bytes) }
        #expect(direct == copied)
    }
}
