import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor

/// Top-level string arrays are kept as validated bytes (`GGUFStringArray`) and become `[String]`
/// only when asked for: the values, the errors and the UTF-8 rule must not change.
@Suite struct GGUFStringArrayTests {
    private func file(_ strings: [[UInt8]], key: String = "k") -> GGUFBuilder {
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 1)
        b.string(key); b.u32(9); b.u32(8); b.u64(UInt64(strings.count))
        for s in strings { b.u64(UInt64(s.count)); b.data.append(contentsOf: s) }
        return b
    }

    @Test func stringArraysReadTheSameAsBytesAndAsValues() throws {
        let texts = ["a", "▁b", "", "🐦", "<0x0A>", "Ġthe"]
        let m = try GGUFFile.open(bytes: file(texts.map { Array($0.utf8) }).data).metadata
        #expect(m.contains("k"))
        #expect(!m.contains("missing"))
        #expect(m["k"] == .array(.string(texts)))
        #expect(m.entries.first?.value == .array(.string(texts)))
        let raw = try #require(m.stringArrayBytes("k"))
        #expect(raw.count == texts.count)
        #expect(raw.strings == texts)
        #expect(raw.offsets.first == 0 && Int(raw.offsets.last ?? 0) == raw.bytes.count)
        #expect(raw.string(3) == "🐦")
        #expect(raw.string(6) == nil)
    }

    @Test func emptyStringArray() throws {
        let m = try GGUFFile.open(bytes: file([]).data).metadata
        #expect(m["k"] == .array(.string([])))
        #expect(m.stringArrayBytes("k")?.count == 0)
    }

    @Test func invalidUTF8InAnElementNamesTheElement() {
        // Header 24 bytes, key 9, value type 4, element type 4, count 8: element 0 starts at 49;
        // element 1's bytes start after its own 8-byte length, at 49 + 9 + 8 = 66.
        let b = file([[0x61], [0x61, 0xC0, 0x80]])
        #expect(throws: GGUFError.invalidUTF8(what: "element 1 of 'k'", offset: 66)) { try GGUFFile.open(bytes: b.data) }
    }

    @Test func truncatedElementsAreStillTypedErrors() {
        var b = file([Array("abc".utf8), Array("de".utf8)])
        b.data.removeLast(1)
        #expect(throws: GGUFError.stringPastEndOfFile(what: "element 1 of 'k'", length: 2, offset: 60)) {
            try GGUFFile.open(bytes: b.data)
        }
    }

    /// The validator replacing `String(validating:)` must accept exactly what it accepts: the
    /// boundary cases of Unicode Table 3-7, then random short byte strings.
    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        let cases: [[UInt8]] = [
            [], [0x7F], [0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0x9F, 0xBF],
            [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],
            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xFF], [0xE2, 0x96], [0xF0, 0x9F, 0x90], [0x61, 0xE2, 0x96, 0x81, 0x62], [0xC3, 0x28],
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var random: [[UInt8]] = []
        for _ in 0 ..< 20000 {
            var bytes: [UInt8] = []
            for _ in 0 ..< Int(state >> 61) + 1 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                // Mostly high bytes, so that multi-byte sequences (valid and not) are common.
                let r = UInt8(truncatingIfNeeded: state >> 33)
                bytes.append(r & 0x40 == 0 ? r | 0x80 : r)
            }
            random.append(bytes)
        }
        for bytes in cases + random {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let actual = bytes.withUnsafeBufferPointer { ByteCursor.isValidUTF8($0) }
            #expect(actual == expected, "\(bytes)")
        }
    }
}
