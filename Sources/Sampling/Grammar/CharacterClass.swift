/// A set of Unicode code points: what one grammar symbol matches. Stored as sorted, disjoint,
/// non-adjacent closed ranges, with a 128-bit table for ASCII, the common case.
public struct CharacterClass: Sendable, Hashable {
    /// The ranges, sorted and merged.
    public private(set) var ranges: [ClosedRange<UInt32>]
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    /// The largest code point.
    public static let maxCodePoint: UInt32 = 0x10FFFF

    /// The class of `ranges` (in any order, overlapping or not), or their complement within
    /// 0 ... U+10FFFF when `negated`.
    public init(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) {
        var sorted = ranges.map { $0.lowerBound ... min($0.upperBound, Self.maxCodePoint) }
            .filter { $0.lowerBound <= Self.maxCodePoint }
            .sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for r in sorted {
            if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound ... max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        if negated {
            var complement: [ClosedRange<UInt32>] = []
            var next: UInt32 = 0
            for r in merged {
                if r.lowerBound > next { complement.append(next ... r.lowerBound - 1) }
                next = r.upperBound &+ 1
                if r.upperBound == Self.maxCodePoint { next = Self.maxCodePoint + 1 }
            }
            if next <= Self.maxCodePoint { complement.append(next ... Self.maxCodePoint) }
            merged = complement
        }
        sorted = merged
        self.ranges = sorted
        for r in sorted where r.lowerBound < 128 {
            for c in r.lowerBound ... min(r.upperBound, 127) {
                if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
            }
        }
    }

    /// The class of one code point.
    public init(single c: UInt32) { self.init([c ... c]) }

    /// Every code point (GBNF's and regex's `.`, which llama.cpp lets match any character).
    public static let any = CharacterClass([0 ... maxCodePoint])

    /// Whether `c` is in the class.
    @inline(__always)
    public func contains(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        var lo = 0, hi = ranges.count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let r = ranges[mid]
            if c < r.lowerBound { hi = mid - 1 } else if c > r.upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }

    /// Whether some code point of `lower ... upper` is in the class (a partial UTF-8 sequence can
    /// still complete into it).
    public func intersects(_ lower: UInt32, _ upper: UInt32) -> Bool {
        for r in ranges {
            if r.lowerBound > upper { return false }
            if r.upperBound >= lower { return true }
        }
        return false
    }

    /// Whether the class is one code point, and which.
    var singleCodePoint: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }
}
