extension JSONValue {
    /// Appends `text` to `out` as a JSON string literal, escaped the way Python's `json.dumps` and
    /// nlohmann's `dump()` both escape: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other characters
    /// below U+0020 as `\u00XX` (lower-case hex), everything else as UTF-8.
    ///
    /// With `asciiOnly` (Python's `ensure_ascii=True`) every scalar past U+007E is also written as
    /// `\uXXXX`, scalars above U+FFFF as a UTF-16 surrogate pair.
    package static func writeString(_ text: String, asciiOnly: Bool = false, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            if let escape = namedEscape(scalar) {
                out += escape
            } else if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E) {
                if scalar.value >= 0x10000 {
                    let offset = scalar.value - 0x10000
                    appendUnicodeEscape(0xD800 + (offset >> 10), to: &out)
                    appendUnicodeEscape(0xDC00 + (offset & 0x3FF), to: &out)
                } else {
                    appendUnicodeEscape(scalar.value, to: &out)
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` as a JSON string literal; see ``writeString(_:asciiOnly:to:)``.
    package static func quoted(_ text: String, asciiOnly: Bool = false) -> String {
        var out = ""
        writeString(text, asciiOnly: asciiOnly, to: &out)
        return out
    }

    /// The two-character escape JSON has for `scalar`, if any: the quote, the backslash and five
    /// control characters.
    private static func namedEscape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\"": #"\""#
        case "\\": #"\\"#
        case "\n": #"\n"#
        case "\r": #"\r"#
        case "\t": #"\t"#
        case "\u{08}": #"\b"#
        case "\u{0C}": #"\f"#
        default: nil
        }
    }

    /// `\uXXXX` with four lower-case hexadecimal digits, as Python writes them.
    private static func appendUnicodeEscape(_ unit: UInt32, to out: inout String) {
        let digits = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
