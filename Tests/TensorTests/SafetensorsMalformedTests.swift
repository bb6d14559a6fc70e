import Foundation
import ModelFormats
import Testing
import Tensor

/// Hostile single files, built byte by byte in temporary files. Each test asserts the exact error.
@Suite struct SafetensorsMalformedTests {
    /// A header with one tensor `t` whose entry is `entry`, over `data`.
    private func openEntry(_ entry: String, data: [UInt8] = Array(repeating: 0, count: 16)) throws -> (String, SafetensorsError?) {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: #"{"t":"# + entry + "}", data: data)
            return (p, openError(p))
        }
    }

    @Test(arguments: [0, 1, 5, 7])
    func fileTooShort(size: Int) throws {
        try withScratch { dir in
            let p = try dir.write("short.safetensors", Array(repeating: 0x10, count: size))
            #expect(throws: SafetensorsError.fileTooShort(file: p, size: size)) { try SafetensorsFile(path: p) }
        }
    }

    @Test(arguments: [UInt64(11), 1000, 1 << 40, UInt64(Int64.max) + 1, .max])
    func headerLengthLargerThanFile(declared: UInt64) throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: "{}", data: Array(repeating: 0x20, count: 8), declaredLength: declared)
            #expect(throws: SafetensorsError.headerLengthExceedsFile(file: p, headerLength: declared, available: 10)) {
                try SafetensorsFile(path: p)
            }
        }
    }

    @Test func headerLargerThanTheCap() throws {
        try withScratch { dir in
            // A sparse file just big enough to hold a header one byte over the cap.
            let n = UInt64(SafetensorsFile.maxHeaderLength + 1)
            let p = try dir.writeSafetensors(header: "{", declaredLength: n)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
            try handle.truncate(atOffset: 8 + n)
            try handle.close()
            #expect(throws: SafetensorsError.headerTooLarge(file: p, headerLength: n, limit: SafetensorsFile.maxHeaderLength)) {
                try SafetensorsFile(path: p)
            }
        }
    }

    @Test func headerNotUTF8() throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x7B, 0x7D, 0x7D])
            #expect(throws: SafetensorsError.headerNotUTF8(file: p)) { try SafetensorsFile(path: p) }
        }
    }

    @Test(arguments: [
        "",                                   // N = 0
        #"{"t": {"dtype": "F32""#,             // truncated
        "{'t': 1}",                           // not JSON quoting
        #"{"a":1 "b":2}"#,                     // missing comma
        #"{"a":01}"#,                          // leading zero
        #"{"a":NaN}"#,                         // not a JSON number
        #"{"a":1} x"#,                         // trailing garbage
        "{\u{0}\"\u{0}}\u{0}",                // UTF-16 in disguise: JSONSerialization would decode it
    ])
    func invalidJSON(header: String) throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: header)
            let error = openError(p)
            guard case let .invalidHeaderJSON(file, _) = error else {
                Issue.record("expected invalidHeaderJSON, got \(String(describing: error))")
                return
            }
            #expect(file == p)
        }
    }

    /// A nesting bomb: its own test so the 5000-character argument stays out of the test log.
    @Test func deeplyNestedJSON() throws {
        try invalidJSON(header: String(repeating: "[", count: 5000))
    }

    @Test(arguments: ["[1, 2]", "5", #""header""#, "null", "true"])
    func headerNotAnObject(header: String) throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: header)
            #expect(throws: SafetensorsError.headerNotObject(file: p)) { try SafetensorsFile(path: p) }
        }
    }

    @Test(arguments: [
        (#"{"__metadata__": [1]}"#, "__metadata__"),
        (#"{"__metadata__": "x"}"#, "__metadata__"),
        (#"{"__metadata__": {"ok": "y", "n": 1}}"#, "n"),
        (#"{"__metadata__": {"o": {}}}"#, "o"),
    ])
    func invalidMetadata(header: String, key: String) throws {
        try withScratch { dir in
            let p = try dir.writeSafetensors(header: header)
            #expect(throws: SafetensorsError.invalidMetadata(file: p, key: key)) { try SafetensorsFile(path: p) }
        }
    }

    @Test(arguments: ["5", "[]", #""F32""#, "null"])
    func tensorEntryNotAnObject(entry: String) throws {
        let (p, error) = try openEntry(entry)
        #expect(error == .tensorEntryNotObject(file: p, tensor: "t"))
    }

    @Test(arguments: [
        (#"{"shape":[1],"data_offsets":[0,4]}"#, "dtype"),
        (#"{"dtype":"F32","data_offsets":[0,4]}"#, "shape"),
        (#"{"dtype":"F32","shape":[1]}"#, "data_offsets"),
    ])
    func missingField(entry: String, field: String) throws {
        let (p, error) = try openEntry(entry)
        #expect(error == .missingField(file: p, tensor: "t", field: field))
    }

    @Test(arguments: [
        (#"{"dtype":5,"shape":[1],"data_offsets":[0,4]}"#, "dtype"),
        (#"{"dtype":null,"shape":[1],"data_offsets":[0,4]}"#, "dtype"),
        (#"{"dtype":"F32","shape":"1","data_offsets":[0,4]}"#, "shape"),
        (#"{"dtype":"F32","shape":{"0":1},"data_offsets":[0,4]}"#, "shape"),
        (#"{"dtype":"F32","shape":[1],"data_offsets":{"begin":0}}"#, "data_offsets"),
        (#"{"dtype":"F32","shape":[1],"data_offsets":4}"#, "data_offsets"),
    ])
    func wrongFieldType(entry: String, field: String) throws {
        let (p, error) = try openEntry(entry)
        #expect(error == .wrongFieldType(file: p, tensor: "t", field: field))
    }

    @Test(arguments: ["F128", "f32", "Float32", "F4", "", "Q4_0"])
    func unknownDtype(dtype: String) throws {
        let (p, error) = try openEntry(#"{"dtype":""# + dtype + #"","shape":[1],"data_offsets":[0,4]}"#)
        #expect(error == .unknownDtype(file: p, tensor: "t", dtype: dtype))
    }

    @Test(arguments: [
        ("[-1]", 0), ("[2, 1.5]", 1), ("[1e30]", 0), ("[1e2]", 0), ("[3.0]", 0), ("[true]", 0), ("[false]", 0),
        (#"["4"]"#, 0), ("[null]", 0), ("[[2]]", 0), ("[1, 9223372036854775808]", 1),
        ("[18446744073709551615]", 0), ("[-9223372036854775808]", 0), ("[100000000000000000000000]", 0),
    ])
    func invalidDimension(shape: String, index: Int) throws {
        let (p, error) = try openEntry(#"{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}"#)
        #expect(error == .invalidDimension(file: p, tensor: "t", index: index))
    }

    @Test(arguments: [
        [Int(1) << 62, 4],                     // element count overflows
        [Int(1) << 61, 2],                     // element count fits, bytes (× 4) overflow
        [0, Int(1) << 62, Int(1) << 62],       // zero elements, but the other dims overflow
        [Int.max],                             // one dim, bytes overflow
    ])
    func shapeOverflow(dims: [Int]) throws {
        let shape = "[" + dims.map(String.init).joined(separator: ",") + "]"
        let (p, error) = try openEntry(#"{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}"#)
        #expect(error == .shapeOverflow(file: p, tensor: "t", shape: dims))
    }

    @Test(arguments: [
        "[]", "[0]", "[0, 4, 8]", "[4, 0]", "[-1, 3]", "[0, 1.5]", "[0.0, 4]", #"[0, "4"]"#, "[true, 4]",
        "[null, 4]", "[0, 9223372036854775808]", "[0, 1e3]",
    ])
    func invalidDataOffsets(offsets: String) throws {
        let (p, error) = try openEntry(#"{"dtype":"U8","shape":[4],"data_offsets":"# + offsets + "}")
        #expect(error == .invalidDataOffsets(file: p, tensor: "t"))
    }

    @Test(arguments: [(0, 20), (16, 17), (12, 20), (0, Int.max), (Int.max - 1, Int.max)])
    func offsetsOutsideTheData(begin: Int, end: Int) throws {
        let (p, error) = try openEntry(#"{"dtype":"U8","shape":[\#(end - begin)],"data_offsets":[\#(begin),\#(end)]}"#)
        #expect(error == .offsetsOutsideData(file: p, tensor: "t", end: end, dataLength: 16))
    }

    @Test(arguments: [
        ("F32", "[3]", "[0, 8]", 12, 8),
        ("F32", "[2]", "[0, 12]", 8, 12),
        ("BF16", "[2, 2]", "[0, 4]", 8, 4),
        ("I64", "[]", "[0, 4]", 8, 4),
        ("F16", "[0, 5]", "[0, 2]", 0, 2),
    ])
    func byteLengthMismatch(dtype: String, shape: String, offsets: String, expected: Int, actual: Int) throws {
        let (p, error) = try openEntry(#"{"dtype":""# + dtype + #"","shape":"# + shape + #","data_offsets":"# + offsets + "}")
        #expect(error == .byteLengthMismatch(file: p, tensor: "t", expected: expected, actual: actual))
    }

    @Test(arguments: [
        ("[0, 8]", "[4, 12]", "a", "b"),   // partial overlap
        ("[4, 12]", "[0, 8]", "b", "a"),   // same, the other way round
        ("[0, 8]", "[0, 8]", "a", "b"),    // identical ranges
        ("[0, 16]", "[4, 8]", "a", "b"),   // one inside the other
    ])
    func overlappingTensors(a: String, b: String, first: String, second: String) throws {
        try withScratch { dir in
            func entry(_ offsets: String) -> String {
                let bytes = offsets.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                return #"{"dtype":"U8","shape":[\#(bytes[1] - bytes[0])],"data_offsets":\#(offsets)}"#
            }
            let header = #"{"a":\#(entry(a)),"b":\#(entry(b))}"#
            let p = try dir.writeSafetensors(header: header, data: Array(repeating: 0, count: 16))
            #expect(throws: SafetensorsError.overlappingTensors(file: p, first: first, second: second)) {
                try SafetensorsFile(path: p)
            }
        }
    }

    /// With several bad entries, the first in name order is reported, every time.
    @Test func errorsAreDeterministic() throws {
        try withScratch { dir in
            let header = #"{"z":{"dtype":"X"},"m":{"dtype":"F32","shape":[-1]},"q":5}"#
            let p = try dir.writeSafetensors(header: header)
            for _ in 0 ..< 5 {
                #expect(openError(p) == .invalidDimension(file: p, tensor: "m", index: 0))
            }
        }
    }

    @Test func missingFileAndDirectory() throws {
        try withScratch { dir in
            let missing = dir.path("absent.safetensors")
            guard case .cannotOpen(.cannotOpen(path: missing, errno: _)) = openError(missing) else {
                Issue.record("expected cannotOpen")
                return
            }
            #expect(openError(dir.path) == .cannotOpen(.notARegularFile(path: dir.path)))
        }
    }

    /// Random corruption of a valid file must end in a clean error or a file whose every tensor
    /// can be read in full: never a trap or an out-of-bounds read.
    @Test func corruptedFilesNeverTrap() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: SafetensorsFixtures.mixedPath)))
        var rng = KernelRNG(seed: 0x5AFE_7E45)  // the target's seeded SplitMix64
        try withScratch { dir in
            var opened = 0
            for round in 0 ..< 400 {
                var bytes = original
                for _ in 0 ..< 1 + Int(rng.next() % 4) {
                    // Mostly the header (where the structure is), sometimes the length field.
                    let limit = round % 8 == 0 ? 8 : min(bytes.count, 900)
                    let i = Int(rng.next() % UInt64(limit))
                    bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                if round % 16 == 0 { bytes.removeLast(Int(rng.next() % 64)) }
                let p = try dir.write("fuzz.safetensors", bytes)
                guard let file = try? SafetensorsFile(path: p) else { continue }
                opened += 1
                for info in file.tensors {
                    #expect(info.fileRange.upperBound <= file.mappedFile.count)
                    let raw = try file.rawBytes(info.name)
                    #expect(raw.count == info.byteCount)
                    if info.dtype.elementType != nil {
                        #expect(try file.tensor(info.name).toFloats().count == info.elementCount)
                    }
                }
            }
            #expect(opened > 0)
        }
    }
}
