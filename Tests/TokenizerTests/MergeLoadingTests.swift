import Testing
@testable import Tokenizer

/// Merge lines handed over as UTF-8 bytes (as GGUF metadata does) load exactly like `String`s, and
/// long lists (parsed in batches of lines) still report the first invalid line.
@Suite("Merge loading")
struct MergeLoadingTests {
    typealias Model = ByteLevelBPEModelTests

    private static func vocabulary(merges: [String], asBytes: Bool) -> Vocabulary {
        var v = Model.vocabulary(extra: ["ab", "bc", "abc", "\u{120}a"], merges: [])
        v.mergeLines = asBytes ? .utf8(UTF8StringList(merges)) : .strings(merges)
        return v
    }

    @Test func bytesAndStringsGiveTheSameTokenizer() throws {
        let merges = ["a b", "b c", "ab c", "\u{120} a"]
        let fromStrings = try Tokenizer(vocabulary: Self.vocabulary(merges: merges, asBytes: false))
        let fromBytes = try Tokenizer(vocabulary: Self.vocabulary(merges: merges, asBytes: true))
        for text in ["abc", "abcabc a", " a ab", "cab"] {
            #expect(fromBytes.encode(text) == fromStrings.encode(text))
        }
        #expect(Self.vocabulary(merges: merges, asBytes: true).merges == merges)
    }

    @Test func invalidLinesGiveTheSameErrorEitherWay() {
        for merges in [["a b", "a zz"], ["a b", "ab"], ["a b", " ab"], ["a b", "x\u{2581} y"]] {
            for asBytes in [false, true] {
                #expect(throws: TokenizerError.invalidMerge(index: 1, merge: merges[1])) {
                    try Tokenizer(vocabulary: Self.vocabulary(merges: merges, asBytes: asBytes))
                }
            }
        }
    }

    /// 70000 lines: an invalid line is found wherever it is (batch edges included), and when there
    /// are several the earliest is reported.
    @Test func longListsReportTheFirstInvalidLine() throws {
        var merges = Array(repeating: "a b", count: 70000)
        merges[69990] = "b c"
        let t = try Tokenizer(vocabulary: Self.vocabulary(merges: merges, asBytes: true))
        #expect(t.encode("abc") == [256, Model.c])
        for bad in [[50000], [10, 50000], [34999, 35000], [69999]] {
            var broken = merges
            for i in bad { broken[i] = "a q\(i)" }
            #expect(throws: TokenizerError.invalidMerge(index: bad[0], merge: "a q\(bad[0])")) {
                try Tokenizer(vocabulary: Self.vocabulary(merges: broken, asBytes: true))
            }
        }
    }

    @Test func utf8StringListChecksItsOffsets() {
        #expect(UTF8StringList(bytes: [0x61, 0x62], offsets: [0, 1, 2]) != nil)
        #expect(UTF8StringList(bytes: [0x61, 0x62], offsets: [0, 1, 3]) == nil)
        #expect(UTF8StringList(bytes: [0x61, 0x62], offsets: [0, 2, 1]) == nil)
        #expect(UTF8StringList(bytes: [0x61, 0x62], offsets: [1, 2]) == nil)
        #expect(UTF8StringList(bytes: [], offsets: []) == nil)
        let list = UTF8StringList(["x", "", "▁y"])
        #expect(list.count == 3 && list.strings == ["x", "", "▁y"] && list[2] == "▁y")
    }
}
