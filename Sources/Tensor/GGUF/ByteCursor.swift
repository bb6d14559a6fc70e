/// A bounds-checked little-endian reader over untrusted bytes. Every read checks the remaining length
/// first and throws `GGUFError.truncatedHeader` naming what was being read.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

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
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining), let base = bytes.baseAddress else {
            throw .stringPastEndOfFile(what: what(), length: length, offset: start)
        }
        let n = Int(length)
        let bytes = UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: n)
        // Vocabularies hold hundreds of thousands of short strings, mostly ASCII: for those,
        // decoding needs no validation (ASCII is always valid UTF-8) and takes the fast path.
        let s: String
        if Self.isASCII(bytes) {
            s = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let valid = String(validating: bytes, as: UTF8.self) else {
                throw .invalidUTF8(what: what(), offset: offset)
            }
            s = valid
        }
        offset += n
        return s
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for b in bytes { high |= b }
        return high < 0x80
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
