/// llama.cpp's `clean_spaces` step at the end of `llama_detokenize` (Hugging Face's
/// `clean_up_tokenization_spaces`), on bytes, in its three passes:
/// 1. drop a space before `?`, `!`, `.`, `,`;
/// 2. " ' " becomes "'" (both spaces go);
/// 3. drop the space before the contractions 's, 'm, 're, 've (not 't, 'd, 'll).
///
/// Each pass reads the previous pass's output and keeps the first byte unconditionally, as the C++
/// does; pass 2 also blanks the space it consumes after the apostrophe so that it cannot count as
/// "the space before" the next byte.
enum SpaceCleanup {
    static func apply(_ input: [UInt8]) -> [UInt8] {
        pass3(pass2(pass1(input)))
    }

    private static let space = UInt8(ascii: " ")
    private static let apostrophe = UInt8(ascii: "'")

    private static func pass1(_ t: [UInt8]) -> [UInt8] {
        removingSpaces(t) { i in
            let x = t[i]
            return x == UInt8(ascii: "?") || x == UInt8(ascii: "!") || x == UInt8(ascii: ".") || x == UInt8(ascii: ",")
        }
    }

    private static func pass2(_ input: [UInt8]) -> [UInt8] {
        guard let first = input.first else { return [] }
        var t = input
        var out: [UInt8] = [first]
        out.reserveCapacity(t.count)
        var i = 1
        while i < t.count {
            let x = t[i]
            if x == apostrophe, i + 1 < t.count, t[i - 1] == space, t[i + 1] == space {
                out.removeLast()
                i += 1
                t[i] = 0
            }
            out.append(x)
            i += 1
        }
        return out
    }

    private static func pass3(_ t: [UInt8]) -> [UInt8] {
        removingSpaces(t) { i in
            guard t[i] == apostrophe, i + 1 < t.count else { return false }
            let x1 = t[i + 1]
            if x1 == UInt8(ascii: "t") || x1 == UInt8(ascii: "d") { return false }
            if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") { return true }
            guard i + 2 < t.count else { return false }
            return (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && t[i + 2] == UInt8(ascii: "e")
        }
    }

    /// `t` without the space before each position i > 0 where `t[i - 1]` is a space and
    /// `dropsSpace(i)` holds.
    private static func removingSpaces(_ t: [UInt8], before dropsSpace: (Int) -> Bool) -> [UInt8] {
        guard let first = t.first else { return [] }
        var out: [UInt8] = [first]
        out.reserveCapacity(t.count)
        for i in 1 ..< t.count {
            if t[i - 1] == space, dropsSpace(i) { out.removeLast() }
            out.append(t[i])
        }
        return out
    }
}
