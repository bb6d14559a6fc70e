import Foundation

/// The pieces of a SentencePiece `tokenizer.model`: what llama.cpp's converter reads from it
/// through `SentencePieceProcessor` (`IdToPiece`, `GetScore`, `IsUnknown`, `IsControl`, `IsUnused`,
/// `IsByte`), taken straight from the protobuf (`ModelProto.pieces`, field 1; each `SentencePiece`
/// holds `piece` = 1, `score` = 2, `type` = 3). Every other field is skipped.
struct SentencePieceModelFile {
    /// SentencePiece's piece types, which are also GGUF's token types.
    enum PieceType: Int32 {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Piece: Equatable {
        var text: String
        var score: Float
        var type: PieceType
    }

    let pieces: [Piece]

    /// Why the bytes are not a SentencePiece model.
    struct FormatError: Error, Equatable {
        let reason: String
    }

    init(bytes: [UInt8]) throws(FormatError) {
        var reader = ProtobufReader(bytes[...])
        var pieces: [Piece] = []
        while let (field, wire) = try reader.key() {
            if field == 1 && wire == 2 {
                pieces.append(try Self.piece(try reader.lengthDelimited()))
            } else {
                try reader.skip(wire)
            }
        }
        guard !pieces.isEmpty else { throw FormatError(reason: "no pieces") }
        self.pieces = pieces
    }

    private static func piece(_ bytes: ArraySlice<UInt8>) throws(FormatError) -> Piece {
        var reader = ProtobufReader(bytes)
        // proto2 defaults: score 0, type NORMAL.
        var piece = Piece(text: "", score: 0, type: .normal)
        var sawText = false
        while let (field, wire) = try reader.key() {
            switch (field, wire) {
            case (1, 2):
                guard let text = String(validating: try reader.lengthDelimited(), as: UTF8.self) else {
                    throw FormatError(reason: "a piece is not UTF-8")
                }
                piece.text = text
                sawText = true
            case (2, 5):
                piece.score = Float(bitPattern: try reader.fixed32())
            case (3, 0):
                let raw = try reader.varint()
                guard let type = PieceType(rawValue: Int32(truncatingIfNeeded: raw)) else {
                    throw FormatError(reason: "piece type \(raw) is not one of SentencePiece's")
                }
                piece.type = type
            default:
                try reader.skip(wire)
            }
        }
        guard sawText else { throw FormatError(reason: "a piece has no text") }
        return piece
    }
}

/// Protobuf's wire format, as far as reading SentencePiece's model needs: bounds-checked, so a
/// truncated or hostile file is a ``SentencePieceModelFile/FormatError``.
private struct ProtobufReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The next field number and wire type, or nil at the end.
    mutating func key() throws(SentencePieceModelFile.FormatError) -> (Int, Int)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw .init(reason: "field number 0") }
        return (field, Int(key & 7))
    }

    mutating func varint() throws(SentencePieceModelFile.FormatError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw .init(reason: "a varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw .init(reason: "truncated varint")
    }

    mutating func fixed32() throws(SentencePieceModelFile.FormatError) -> UInt32 {
        guard bytes.count >= 4 else { throw .init(reason: "truncated fixed32") }
        var value: UInt32 = 0
        for (i, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << (8 * UInt32(i)) }
        bytes = bytes.dropFirst(4)
        return value
    }

    mutating func lengthDelimited() throws(SentencePieceModelFile.FormatError) -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(bytes.count) else { throw .init(reason: "a field runs past the end of the file") }
        let field = bytes.prefix(Int(length))
        bytes = bytes.dropFirst(Int(length))
        return field
    }

    mutating func skip(_ wire: Int) throws(SentencePieceModelFile.FormatError) {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard bytes.count >= 8 else { throw .init(reason: "truncated fixed64") }
            bytes = bytes.dropFirst(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw .init(reason: "wire type \(wire) is not supported")
        }
    }
}
