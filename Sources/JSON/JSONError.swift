/// Why a JSON text was refused, and at which byte.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The text ends inside a value (an empty text, an open string, array or object).
        case unexpectedEnd
        /// A byte that cannot stand where it does (no value starts with it, or it breaks a literal).
        case unexpectedByte(UInt8)
        /// Something other than whitespace follows the value.
        case trailingData
        /// More arrays and objects are open at once than the reader's `maxDepth`.
        case nestedTooDeeply(limit: Int)
        /// An object member does not start with a string.
        case expectedMemberName
        /// A member name is not followed by `:`.
        case expectedColon
        /// An array element or object member is followed by neither `,` nor the closing bracket.
        case expectedCommaOr(closing: Character)
        /// A byte below U+0020 inside a string, which must be escaped.
        case controlCharacter
        /// A backslash followed by a character that is not one of `"\/bfnrtu`.
        case unknownEscape
        /// `\u` not followed by four hexadecimal digits.
        case badUnicodeEscape
        /// A `\u` escape of a UTF-16 surrogate that is not half of a high–low pair.
        case loneSurrogate
        /// Bytes that are not well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or
        /// scalars past U+10FFFF).
        case invalidUTF8
        /// A number's integer part with a leading zero (`01`).
        case leadingZero
        /// A number without digits where its grammar needs them (`-`, `1.`, `1e`).
        case missingDigits

        package var description: String {
            switch self {
            case .unexpectedEnd: "unexpected end of input"
            case let .unexpectedByte(byte):
                byte >= 0x20 && byte < 0x7F
                    ? "unexpected character '\(Character(Unicode.Scalar(byte)))'" : "unexpected byte 0x\(String(byte, radix: 16))"
            case .trailingData: "unexpected data after the value"
            case let .nestedTooDeeply(limit): "nested more than \(limit) arrays and objects deep"
            case .expectedMemberName: "expected a member name (a string)"
            case .expectedColon: "expected ':' after the member name"
            case let .expectedCommaOr(closing): "expected ',' or '\(closing)'"
            case .controlCharacter: "control character in a string"
            case .unknownEscape: "unknown escape"
            case .badUnicodeEscape: "\\u not followed by four hexadecimal digits"
            case .loneSurrogate: "lone surrogate in a \\u escape"
            case .invalidUTF8: "invalid UTF-8"
            case .leadingZero: "leading zero in a number"
            case .missingDigits: "digits expected in a number"
            }
        }
    }

    /// The offset of the byte at fault from the start of the text.
    package let offset: Int
    package let reason: Reason

    package init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// "invalid JSON at byte N: reason".
    package var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
