import JSON
import SparrowTestSupport
import Testing

/// `Fixtures/json/string_vectors.tsv`, which `Fixtures/json/make_string_vectors.py` writes with
/// Python's `json.dumps` (`ensure_ascii=False` and `True`).
struct StringWriterTests {
    /// Each row decoded: the case's name, the string, then `json.dumps` of it without and with
    /// `ensure_ascii`.
    static let rows: [[String]] = (try? readRows()) ?? []

    static func readRows() throws -> [[String]] {
        try FixturePaths.text("json/string_vectors.tsv").split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else { throw JSONVector.VectorFileError(line: String(line)) }
            let texts = try fields.dropFirst().map { field in
                guard let bytes = JSONVector.hexBytes(field.hasPrefix("hex:") ? field.dropFirst(4) : field) else {
                    throw JSONVector.VectorFileError(line: String(line))
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            return [String(fields[0])] + texts
        }
    }

    @Test func vectorFileReads() throws {
        #expect(try Self.readRows().count == 12)
    }

    @Test(arguments: rows)
    func matchesPythonDumps(_ row: [String]) {
        #expect(JSONValue.quoted(row[1]).utf8.elementsEqual(row[2].utf8), "\(row[0])")
        #expect(JSONValue.quoted(row[1], asciiOnly: true).utf8.elementsEqual(row[3].utf8), "\(row[0])")
    }

    @Test func appendsToWhatIsThere() {
        var out = "["
        JSONValue.writeString("a\"b", to: &out)
        #expect(out == #"["a\"b""#)
    }
}
