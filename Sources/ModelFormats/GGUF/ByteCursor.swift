/// A bounds-checked little-endian reader over untrusted bytes. Every read checks the remaining length
/// first and throws `GGUFError.truncatedHeader` naming what was being read.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0
    /// The longest string `readString` and `readStringBytes` accept (`GGUFLimits.maxStringBytes`).
    let maxStringBytes: Int

    init(_ bytes: UnsafeRawBufferPointer, maxStringBytes: Int = .max) {
        self.bytes = bytes
        self.maxStringBytes = maxStringBytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size, let base = bytes.baseAddress else {
            throw .truncatedHeader(what: what(), offset: offset)
        }
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A u64 length followed by that many UTF-8 bytes.
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        // Vocabularies hold hundreds of thousands of short strings. `String(validating:as:)` runs
        // unspecialised generic code (a metadata lookup per call, a third of the parse); checking the
        // bytes here and then decoding them (which cannot repair anything once they are valid) is
        // several times faster and just as strict.
        String(decoding: try readStringBytes(what()), as: UTF8.self)
    }

    /// The bytes of a u64-length-prefixed string, checked to be valid UTF-8, without building a
    /// `String` (they point into the cursor's buffer).
    mutating func readStringBytes(_ what: @autoclosure () -> String) throws(GGUFError) -> UnsafeBufferPointer<UInt8> {
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining), let base = bytes.baseAddress else {
            throw .stringPastEndOfFile(what: what(), length: length, offset: start)
        }
        guard length <= UInt64(maxStringBytes) else {
            throw .limitExceeded(what: "length of \(what())", value: length, limit: maxStringBytes)
        }
        let n = Int(length)
        let bytes = UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: n)
        guard Self.isValidUTF8(bytes) else { throw .invalidUTF8(what: what(), offset: offset) }
        offset += n
        return bytes
    }

    /// Whether `bytes` is well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no surrogates,
    /// nothing above U+10FFFF, no truncated sequences), the same rule `String(validating:)` applies.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            // The allowed range of the second byte depends on the first; later ones are 80...BF.
            let length: Int, low: UInt8, high: UInt8
            switch b0 {
            case 0xC2 ... 0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1 ... 0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return false
            }
            guard n - i >= length, (low ... high).contains(bytes[i + 1]) else { return false }
            for k in 2 ..< length where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }

    /// Reads `count` fixed-width values after checking they fit, so a huge count cannot drive a huge
    /// allocation.
    mutating func readArray<T: FixedWidthInteger>(_: T.Type, count: Int, key: String) throws(GGUFError) -> [T] {
        let size = MemoryLayout<T>.size
        guard count <= remaining / size, let base = bytes.baseAddress else {
            throw .arrayTooLarge(key: key, count: UInt64(count))
        }
        let start = base + offset
        let out = [T](unsafeUninitializedCapacity: count) { buf, initialized in
            for i in 0..<count {
                buf[i] = T(littleEndian: start.loadUnaligned(fromByteOffset: i &* size, as: T.self))
            }
            initialized = count
        }
        offset += count * size
        return out
    }

    mutating func skip(to newOffset: Int) { offset = newOffset }
}
