import Testing
@testable import Tokenizer

@Suite("Streaming decoder")
struct StreamingDecoderTests {
    @Test func holdsBackSplitCharacters() throws {
        let t = try TokenizerBehaviorTests.tiny()
        var s = t.makeStreamingDecoder()
        // "a" then "€" as three byte tokens: nothing is released until the last byte.
        #expect(try s.append(3) == "a")
        #expect(try s.append(12) == "")
        #expect(try s.append(13) == "")
        #expect(try s.append(14) == "€")
        #expect(s.finish() == "")
    }

    @Test func finishFlushesAnUnfinishedSequence() throws {
        let t = try TokenizerBehaviorTests.tiny()
        var s = t.makeStreamingDecoder()
        #expect(try s.append(contentsOf: [3, 12, 13]) == "a")
        #expect(s.finish() == "\u{FFFD}")
        // finish() also resets: the next text's first token loses its dummy-prefix space again.
        #expect(try s.append(7) == "a")
    }

    @Test func invalidBytesAreReleasedAtOnce() throws {
        let t = try TokenizerBehaviorTests.tiny()
        var s = t.makeStreamingDecoder()
        // E2 then "a": E2 can no longer be completed, so it is replaced right away.
        #expect(try s.append(12) == "")
        #expect(try s.append(3) == "\u{FFFD}a")
    }

    @Test func leadingSpaceRuleMatchesOneShot() throws {
        let t = try #require(TokenizerBehaviorTests.llama)
        for ids in [t.encode(" Hello  world"), [1] + t.encode("Hello"), t.encode("\n")] {
            var s = t.makeStreamingDecoder()
            var out = ""
            for id in ids { out += try s.append(id) }
            out += s.finish()
            #expect(out == (try t.decode(ids)))
        }
    }

    @Test func completePrefixLength() {
        func cut(_ b: [UInt8]) -> Int { StreamingDecoder.completePrefixLength(b) }
        #expect(cut([]) == 0)
        #expect(cut([0x61]) == 1)
        #expect(cut([0x61, 0xE2]) == 1)
        #expect(cut([0x61, 0xE2, 0x82]) == 1)
        #expect(cut([0x61, 0xE2, 0x82, 0xAC]) == 4)
        #expect(cut([0xF0, 0x9F, 0xA6]) == 0)  // 3 of the 4 bytes of 🦙
        #expect(cut([0xE0, 0x80]) == 2)  // overlong start: invalid already
        #expect(cut([0xED, 0xA0]) == 2)  // surrogate: invalid already
        #expect(cut([0xF4, 0x90]) == 2)  // beyond U+10FFFF
        #expect(cut([0x80]) == 1)  // stray continuation byte
        #expect(cut([0xFF]) == 1)
    }

    /// Every split of a mixed byte sequence streams to the same text as the one-shot decode.
    @Test func everySplitAgreesWithOneShot() throws {
        let t = try TokenizerBehaviorTests.tiny()
        // a € E2 a E2 82 € x (byte tokens 11-14 and "a" 3).
        let ids = [3, 12, 13, 14, 12, 3, 12, 13, 12, 13, 14, 11, 12]
        let expected = try t.decode(ids)
        var s = t.makeStreamingDecoder()
        var out = ""
        for id in ids {
            let delta = try s.append(id)
            #expect(!delta.unicodeScalars.contains { $0 == "\u{FFFD}" } || expected.contains("\u{FFFD}"))
            out += delta
        }
        out += s.finish()
        #expect(Array(out.utf8) == Array(expected.utf8))
    }
}
