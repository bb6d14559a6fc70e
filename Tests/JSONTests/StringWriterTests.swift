import JSON
import SparrowTestSupport
import Testing

/// `Fixtures/json/string_vectors.tsv`, which `Fixtures/json/make_string_vectors.py` writes with
/// Python's `json.dumps` (`ensure_ascii=False` and `True`).
struct StringWriterTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let input: String
        let plain: String
        let ascii: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = (try? load()) ?? []

    static func load() throws -> [Vector] {
        try FixturePaths.text("json/string_vectors.tsv").split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, f[1].hasPrefix("hex:"), let input = JSONVector.hexBytes(f[1].dropFirst(4)),
                  let plain = JSONVector.hexBytes(f[2][...]), let ascii = JSONVector.hexBytes(f[3][...])
            else { throw JSONVector.VectorFileError(line: String(line)) }
            return Vector(name: f[0], input: String(decoding: input, as: UTF8.self),
                          plain: String(decoding: plain, as: UTF8.self), ascii: String(decoding: ascii, as: UTF8.self))
        }
    }

    @Test func vectorFileReads() throws {
        #expect(try Self.load().count == 12)
    }

    @Test(arguments: vectors)
    func matchesPythonDumps(_ vector: Vector) {
        #expect(JSONValue.quoted(vector.input).utf8.elementsEqual(vector.plain.utf8))
        #expect(JSONValue.quoted(vector.input, asciiOnly: true).utf8.elementsEqual(vector.ascii.utf8))
    }

    @Test func appendsToWhatIsThere() {
        var out = "["
        JSONValue.writeString("a\"b", to: &out)
        #expect(out == #"["a\"b""#)
    }
}
