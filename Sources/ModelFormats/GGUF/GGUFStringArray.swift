/// A metadata string array kept as its UTF-8 bytes, back to back, instead of one `String` per
/// element.
///
/// A vocabulary's merge list is hundreds of thousands of short strings that a tokenizer reads once
/// as bytes; building a `String` for each is most of the cost of parsing the metadata. The parser
/// validates every element as UTF-8 before storing it here, so converting an element to a `String`
/// never repairs anything.
public struct GGUFStringArray: Sendable, Equatable {
    /// The elements' bytes, back to back.
    public let bytes: [UInt8]
    /// Element `i` is `bytes[offsets[i] ..< offsets[i + 1]]`; there are `count + 1` offsets.
    public let offsets: [UInt32]

    /// The number of elements.
    public var count: Int { offsets.count - 1 }

    /// Element `i` as a `String` (nil when out of range).
    public func string(_ i: Int) -> String? {
        guard i >= 0, i < count else { return nil }
        return String(decoding: bytes[Int(offsets[i]) ..< Int(offsets[i + 1])], as: UTF8.self)
    }

    /// Every element as a `String`.
    public var strings: [String] {
        bytes.withUnsafeBufferPointer { all in
            (0 ..< count).map { i in
                String(decoding: UnsafeBufferPointer(rebasing: all[Int(offsets[i]) ..< Int(offsets[i + 1])]), as: UTF8.self)
            }
        }
    }
}

extension GGUFParser {
    /// Reads an array value whose elements are strings into a `GGUFStringArray`, making exactly the
    /// checks (and throwing exactly the errors) that `readValue` makes for it. Returns nil with the
    /// cursor unmoved when the value is anything else (or so malformed that `readValue` should report
    /// it), or when its bytes would not fit 32-bit offsets.
    mutating func readStringArray(key: String) throws(GGUFError) -> GGUFStringArray? {
        let start = cursor.offset
        guard cursor.remaining >= 12, let typeID = try? cursor.read(UInt32.self, ""),
              typeID == GGUFValueType.string.rawValue, let rawCount = try? cursor.read(UInt64.self, "")
        else {
            cursor.skip(to: start)
            return nil
        }
        // As in `readArray`: every element takes at least its 8-byte length.
        guard rawCount <= UInt64(cursor.remaining / 8) else { throw .arrayTooLarge(key: key, count: rawCount) }
        try checkArrayLimit(rawCount, key: key)
        let n = Int(rawCount)
        // First pass: check every element (length, bounds, UTF-8) and add up the sizes; second: copy
        // into buffers of exactly that size (no regrowth, no over-allocation).
        let first = cursor.offset
        var total = 0
        for i in 0 ..< n { total += try cursor.readStringBytes("element \(i) of '\(key)'").count }
        guard total <= Int(UInt32.max) else {
            cursor.skip(to: start)
            return nil
        }
        let end = cursor.offset
        cursor.skip(to: first)
        var offsets = [UInt32](repeating: 0, count: n + 1)
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, used in
            used = 0
            guard let base = cursor.bytes.baseAddress, let outBase = out.baseAddress else { return }
            var at = first
            for i in 0 ..< n {
                // Already checked above: each length fits the file and the sum fits `total`.
                let length = Int(truncatingIfNeeded: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                (outBase + used).initialize(from: (base + at + 8).assumingMemoryBound(to: UInt8.self), count: length)
                used += length
                at += 8 + length
                offsets[i + 1] = UInt32(truncatingIfNeeded: used)
            }
        }
        cursor.skip(to: end)
        return GGUFStringArray(bytes: bytes, offsets: offsets)
    }
}
