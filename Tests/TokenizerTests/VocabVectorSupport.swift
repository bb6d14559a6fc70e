import Foundation
import ModelFormats
import Testing
import Tokenizer
import SparrowTestSupport

/// One test text of llama.cpp's `ggml-vocab-*.gguf.inp` with its expected ids from the `.out` file.
struct VocabVectorCase: Sendable {
    /// 0-based position in the `.inp` file (for messages).
    let index: Int
    let text: String
    let ids: [Int]
}

/// llama.cpp's tokenizer test vectors under `Fixtures/vocab/`.
enum VocabVectors {
    /// llama.cpp's separator: the marker line together with the newline before and after it
    /// (tests/test-tokenizer-0.cpp), so a text never carries the newline that precedes the marker.
    static let separator = Array("\n__ggml_vocab_test__\n".utf8)

    static func ggufPath(_ name: String) -> String {
        FixturePaths.url("vocab/ggml-vocab-\(name).gguf").path
    }

    /// The tokenizer of `Fixtures/vocab/ggml-vocab-<name>.gguf`, through the public GGUF path.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(path: ggufPath(name)).metadata)
    }

    /// Splits the `.inp` bytes like test-tokenizer-0.cpp: pieces between separators; the empty piece
    /// after a final separator is not a test. The `.out` file has one line of ids per piece.
    static func cases(_ name: String) throws -> [VocabVectorCase] {
        let inp = try [UInt8](Data(contentsOf: FixturePaths.url("vocab/ggml-vocab-\(name).gguf.inp")))
        let out = try String(contentsOf: FixturePaths.url("vocab/ggml-vocab-\(name).gguf.out"), encoding: .utf8)

        var texts: [String] = []
        var pos = 0
        while pos < inp.count {
            guard let next = firstRange(of: separator, in: inp, from: pos) else {
                texts.append(String(decoding: inp[pos...], as: UTF8.self))
                break
            }
            texts.append(String(decoding: inp[pos ..< next], as: UTF8.self))
            pos = next + separator.count
        }
        // `getline` lines: a final newline does not start another line.
        var lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else {
            throw VectorFileError(message: "\(name): \(texts.count) texts but \(lines.count) lines of ids")
        }
        return try zip(texts, lines).enumerated().map { i, pair in
            let ids = try pair.1.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map { field -> Int in
                guard let id = Int(field) else { throw VectorFileError(message: "\(name): bad id '\(field)' on line \(i + 1)") }
                return id
            }
            return VocabVectorCase(index: i, text: pair.0, ids: ids)
        }
    }

    private static func firstRange(of needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], hay[i ..< i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

struct VectorFileError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Checks every test vector of `Fixtures/vocab/ggml-vocab-<name>.gguf`: `encode(text)` (no BOS, no
/// special-token parsing, as the vectors were made) must equal the expected ids.
///
/// With `checkDecoding` (the default) it also checks, for every text, that
/// `decode(encode(text))` gives back the text byte for byte, and that a `StreamingDecoder` fed the
/// ids one at a time produces the same string as the one-shot decode. The round trip holds for
/// SentencePiece because the decoder drops the one leading space that the dummy prefix added; it
/// uses `cleanUpSpaces: false` (the default), since llama.cpp's optional clean-up is lossy.
///
/// Bytes are compared, not `String`s: Swift's `==` treats canonically equivalent texts as equal.
func assertVocabVectors(
    _ name: String, checkDecoding: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let tokenizer = try VocabVectors.tokenizer(name)
    let cases = try VocabVectors.cases(name)
    #expect(!cases.isEmpty, "\(name): no test vectors", sourceLocation: sourceLocation)
    var failures = 0
    for c in cases {
        let ids = tokenizer.encode(c.text)
        if ids != c.ids {
            failures += 1
            Issue.record("\(name) #\(c.index) \(String(reflecting: c.text)): got \(ids), expected \(c.ids)",
                         sourceLocation: sourceLocation)
        }
        guard checkDecoding else { continue }
        let decoded = try tokenizer.decode(c.ids)
        #expect(Array(decoded.utf8) == Array(c.text.utf8),
                "\(name) #\(c.index): decode gave \(String(reflecting: decoded)) for \(String(reflecting: c.text))",
                sourceLocation: sourceLocation)
        var stream = tokenizer.makeStreamingDecoder()
        var streamed = ""
        for id in c.ids {
            let delta = try stream.append(id)
            // Each delta must be whole characters: re-encoding it gives the same bytes.
            #expect(String(decoding: Array(delta.utf8), as: UTF8.self) == delta, sourceLocation: sourceLocation)
            streamed += delta
        }
        streamed += stream.finish()
        #expect(Array(streamed.utf8) == Array(decoded.utf8),
                "\(name) #\(c.index): streaming gave \(String(reflecting: streamed))", sourceLocation: sourceLocation)
    }
    #expect(failures == 0, "\(name): \(failures) of \(cases.count) vectors differ", sourceLocation: sourceLocation)
}
