/// Character classes of Unicode scalars as llama.cpp's pre-tokenizers see them.
///
/// llama.cpp classifies code points with its own tables (`unicode-data.cpp`, generated with
/// Python's `regex` module: `\p{N}`, `\p{L}`, ... and `\s`). Those tables follow Unicode 15.1:
/// a scalar assigned later (Unicode 16, 17) has no category there ("undefined"), so it is neither a
/// letter nor a number and falls into `[^\s\p{L}\p{N}]`. Swift's own properties follow a newer
/// Unicode, so the classes below take Swift's general category for scalars that existed in 15.1 and
/// treat younger ones as undefined. (Checked over all 0x110000 code points against the table that
/// llama-cpp-python 0.3.36 ships: no other difference.)
enum CharClass {
    static let number: UInt8 = 0x01       // \p{N}
    static let letter: UInt8 = 0x02       // \p{L}
    static let punctuation: UInt8 = 0x04  // \p{P}
    static let symbol: UInt8 = 0x08       // \p{S}
    static let mark: UInt8 = 0x10         // \p{M}
    static let separator: UInt8 = 0x20    // \p{Z}
    static let control: UInt8 = 0x40      // \p{C}, assigned (controls, format, private use)
    /// `\s`: the White_Space property (9-13, space, U+0085, U+00A0, U+1680, U+2000-U+200A, ...).
    static let whitespace: UInt8 = 0x80
    /// No category bit: a code point unassigned in Unicode 15.1.
    static let undefined: UInt8 = 0

    /// The class of `value` (any UInt32; values that are not scalars are classed like llama.cpp's
    /// surrogates, as controls, and cannot come out of a Swift string anyway).
    @inline(__always)
    static func of(_ value: UInt32, table: [UInt8]) -> UInt8 {
        value < 0x10000 ? table[Int(value)] : compute(value)
    }

    /// The Basic Multilingual Plane, computed once: almost all text lives there, and a table lookup is
    /// far cheaper than Swift's property queries. Other planes are computed on demand.
    static let basicPlane: [UInt8] = (0 ..< UInt32(0x10000)).map(compute)

    /// The scalar's class from Swift's Unicode properties, cut back to Unicode 15.1.
    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return control }
        let properties = scalar.properties
        guard let age = properties.age, age.major < 15 || (age.major == 15 && age.minor <= 1) else {
            return undefined
        }
        let category: UInt8
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            category = letter
        case .decimalNumber, .letterNumber, .otherNumber:
            category = number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            category = punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            category = symbol
        case .nonspacingMark, .spacingMark, .enclosingMark:
            category = mark
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            category = separator
        case .control, .format, .surrogate, .privateUse:
            category = control
        case .unassigned:
            category = undefined
        @unknown default:
            category = undefined
        }
        return properties.isWhitespace ? category | whitespace : category
    }
}

/// A stretch of text decoded into scalars with their classes: what every split rule reads. Reused
/// from chunk to chunk (`load`) so that encoding a long text keeps a small working set.
struct ScalarText {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []

    init() {}

    init(_ utf8: UnsafeBufferPointer<UInt8>) { load(utf8) }

    /// Replaces the contents with the scalars of `utf8`, which must be valid UTF-8 (it comes from a
    /// Swift string), so the decoder only needs each lead byte's length.
    mutating func load(_ utf8: UnsafeBufferPointer<UInt8>) {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        var i = 0
        let n = utf8.count
        while i < n {
            let b0 = UInt32(utf8[i])
            if b0 < 0x80 {
                scalars.append(b0)
                i += 1
            } else if b0 < 0xE0, i + 1 < n {
                scalars.append((b0 & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F))
                i += 2
            } else if b0 < 0xF0, i + 2 < n {
                scalars.append((b0 & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F))
                i += 3
            } else if i + 3 < n {
                scalars.append((b0 & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12
                    | UInt32(utf8[i + 2] & 0x3F) << 6 | UInt32(utf8[i + 3] & 0x3F))
                i += 4
            } else {
                // Unreachable for valid UTF-8; keep going rather than trap.
                scalars.append(0xFFFD)
                i += 1
            }
        }
        let table = CharClass.basicPlane
        for v in scalars { classes.append(CharClass.of(v, table: table)) }
    }

    var count: Int { scalars.count }

    /// The number of UTF-8 bytes of scalar `value`.
    @inline(__always)
    static func utf8Length(_ value: UInt32) -> Int {
        value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x10000 ? 3 : 4
    }
}
