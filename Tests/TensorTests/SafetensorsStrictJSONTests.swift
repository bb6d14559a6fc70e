import ModelFormats
import Testing

/// A tensor entry over the two bytes `twoBytes`.
private let twoByteEntry = #"{"dtype":"U8","shape":[2],"data_offsets":[0,2]}"#
private let twoBytes: [UInt8] = [7, 9]

/// The header's JSON is read by the package's strict reader. Expected outcomes are those of the
/// safetensors package's own reader, shown by `Fixtures/safetensors/strict_json_reference.py`.
@Suite struct SafetensorsStrictJSONTests {
    /// What JSONSerialization would accept but RFC 8259 (and serde_json) does not.
    @Test(arguments: [
        #"{"t":"# + twoByteEntry + ",}",                                   // trailing comma in the object
        #"{"t":{"dtype":"U8","shape":[2,],"data_offsets":[0,2]}}"#,        // trailing comma in an array
        "\u{FEFF}" + #"{"t":"# + twoByteEntry + "}",                       // byte order mark (EF BB BF)
    ])
    func rejectedHeaders(header: String) throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: header, data: twoBytes)
            guard case let .invalidHeaderJSON(file, _) = openError(p) else {
                Issue.record("expected invalidHeaderJSON, got \(String(describing: openError(p)))")
                return
            }
            #expect(file == p)
        }
    }

    /// The reason names the JSON reader's finding and its offset in the header.
    @Test func reasonGivesTheHeaderOffset() throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: #"{"t":5,}"#)
            #expect(openError(p) == .invalidHeaderJSON(file: p, reason: "expected a member name (a string) at byte 7 of the header"))
        }
    }

    /// `-0` is an integer to Python but a float to serde_json, so it is neither a size nor an offset.
    @Test func negativeZero() throws {
        try withScratch { dir in
            let dim = try dir.writeSafetensors(header: #"{"t":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}"#)
            #expect(openError(dim) == .invalidDimension(file: dim, tensor: "t", index: 0))
            let offset = try dir.writeSafetensors(header: #"{"t":{"dtype":"U8","shape":[0],"data_offsets":[-0,0]}}"#)
            #expect(openError(offset) == .invalidDataOffsets(file: offset, tensor: "t"))
        }
    }

    /// A repeated tensor name or metadata key keeps its last value.
    @Test func repeatedKeys() throws {
        try withScratch { dir in
            let tensors = #"{"t":"# + twoByteEntry + #","t":{"dtype":"U8","shape":[1,2],"data_offsets":[0,2]}}"#
            let file = try SafetensorsFile(path: dir.writeSafetensors(header: tensors, data: twoBytes))
            #expect(file.names == ["t"])
            #expect(file.info("t")?.shape == Shape([1, 2]))
            #expect(try Array(file.rawBytes("t")) == twoBytes)

            let metadata = #"{"__metadata__":{"a":"1","a":"2"},"t":"# + twoByteEntry + "}"
            let withMetadata = try SafetensorsFile(path: dir.writeSafetensors("m.safetensors", header: metadata, data: twoBytes))
            #expect(withMetadata.metadata == ["a": "2"])
            #expect(withMetadata.info("t")?.shape == Shape([2]))
        }
    }
}
