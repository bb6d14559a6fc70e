import JSON

/// What the header and index parsers need on top of the package's JSON reader: which of its
/// failures count as "not UTF-8", and which numbers are a size or an offset.
enum SafetensorsJSON {
    /// Why a byte buffer could not be turned into a JSON object.
    enum Failure: Error {
        case notUTF8
        case invalid(JSONError)
        case notObject
    }

    /// Parses `bytes` as a UTF-8 JSON object (RFC 8259) and returns its members with each key once,
    /// holding its last value: the reference implementation reads the header into a map (and
    /// transformers the index into a `dict`), so a repeated key's last value wins. Keys compare by
    /// Unicode scalars, as Rust's and Python's strings do.
    ///
    /// The reader is strict, and that is intended: it refuses a trailing comma and a leading byte
    /// order mark, which Foundation's `JSONSerialization` accepts on Linux, as well as a raw NUL
    /// (never valid in JSON text; a `{\0"\0...` header is not UTF-16 in disguise), `NaN` and
    /// comments. The reference implementation's parser (serde_json) refuses all of them too;
    /// Python's `json`, which transformers reads the index with, refuses all but `NaN`.
    ///
    /// Bytes that are not UTF-8 anywhere in the buffer are reported as ``Failure/notUTF8`` even
    /// when the reader stops at an earlier error; a text the reader accepts is always UTF-8.
    static func parseObject(_ bytes: UnsafeRawBufferPointer) -> Result<[(key: String, value: JSONValue)], Failure> {
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue(parsing: bytes)  // read in place: a raw buffer is contiguous storage
        } catch {
            let isUTF8 = error.reason != .invalidUTF8 && String(validating: bytes, as: UTF8.self) != nil
            return .failure(isUTF8 ? .invalid(error) : .notUTF8)
        }
        guard let members = value.members else { return .failure(.notObject) }
        return .success(JSONValue.uniqueMembers(members))
    }

    /// The value when it is a JSON integer, written without fraction, exponent or minus sign, that
    /// fits `Int`. `true`, `3.0` and `1e2` are not sizes; nor is `-0`, which the reference
    /// implementation's parser reads as a float.
    static func exactNonNegativeInt(_ value: JSONValue) -> Int? {
        guard case let .number(number) = value, number.text.first != "-" else { return nil }
        return number.int
    }
}
