import Foundation

/// Helpers shared by the header and index parsers: parsing untrusted JSON bytes with
/// `JSONSerialization` and reading its `NSNumber`s as exact integers.
enum SafetensorsJSON {
    /// Why a byte buffer could not be turned into a JSON object.
    enum Failure: Error {
        case notUTF8
        case invalid(String)
        case notObject
    }

    /// Parses `bytes` as a UTF-8 JSON object.
    ///
    /// The bytes are checked before the parser sees them: `JSONSerialization` guesses UTF-16 and
    /// UTF-32 from NUL bytes, so a header of `{\0"\0...` would otherwise be read as UTF-16. A raw
    /// NUL is never valid in JSON text (it must be escaped inside strings), so rejecting it first
    /// loses nothing.
    ///
    /// The parser is slightly lenient (on Linux it accepts a trailing comma and a leading byte
    /// order mark). Neither changes what a header means, so they are not rejected here; duplicate
    /// keys are kept last-wins, as the reference implementation's map does.
    static func parseObject(_ bytes: UnsafeRawBufferPointer) -> Result<[String: Any], Failure> {
        guard String(validating: bytes, as: UTF8.self) != nil else { return .failure(.notUTF8) }
        if let nul = bytes.firstIndex(of: 0) {
            return .failure(.invalid("NUL byte at header offset \(nul)"))
        }
        let parsed: Any
        do {
            // No copy: the bytes outlive the parse, and the parser's result owns its own storage.
            let data = bytes.baseAddress.map {
                Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none)
            } ?? Data()
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            return .failure(.invalid(reason(error)))
        }
        guard let object = parsed as? [String: Any] else { return .failure(.notObject) }
        return .success(object)
    }

    /// The value as an `Int` when it is a JSON integer that fits `Int` exactly.
    ///
    /// `JSONSerialization` returns every number and boolean as an `NSNumber`, and `as? Int` would
    /// happily turn `true`, `3.0` or `1e2` into integers. The storage type tells them apart: the
    /// parser stores integer literals as signed or unsigned integers, fractions and exponents as
    /// doubles (or `NSDecimalNumber` when out of range), and booleans as `c`. Only the integer
    /// storage types are accepted.
    static func exactInt(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(number is NSDecimalNumber) else { return nil }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "q"), UInt8(ascii: "l"), UInt8(ascii: "i"), UInt8(ascii: "s"):
            return Int(exactly: number.int64Value)
        case UInt8(ascii: "Q"), UInt8(ascii: "L"), UInt8(ascii: "I"), UInt8(ascii: "S"):
            return Int(exactly: number.uint64Value)
        default:
            return nil
        }
    }

    /// An exact integer that is also non-negative.
    static func exactNonNegativeInt(_ value: Any) -> Int? {
        guard let n = exactInt(value), n >= 0 else { return nil }
        return n
    }

    /// The parser's own explanation when it gives one; Foundation's generic message otherwise.
    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let debug = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return debug }
        return ns.localizedDescription
    }
}
