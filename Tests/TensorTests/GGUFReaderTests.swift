import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor
import SparrowTestSupport

/// Reads `Fixtures/gguf/all-types.gguf`, written by the `gguf` package's GGUFWriter, and compares
/// against what the `gguf` package's own GGUFReader and dequantizer read (all-types.expected.json).
@Suite struct GGUFReaderTests {
    let file: GGUFFile
    let expected: [String: Any]

    init() throws {
        file = try GGUFFile(path: FixturePaths.url("gguf/all-types.gguf").path)
        let data = try Data(contentsOf: FixturePaths.url("gguf/all-types.expected.json"))
        expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func header() {
        #expect(file.version == 3)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.architecture == "testarch")
    }

    @Test func everyScalarValueType() {
        let m = file.metadata
        #expect(m["test.u8"] == .uint8(200))
        #expect(m["test.i8"] == .int8(-100))
        #expect(m["test.u16"] == .uint16(60000))
        #expect(m["test.i16"] == .int16(-30000))
        #expect(m["test.u32"] == .uint32(4_000_000_000))
        #expect(m["test.i32"] == .int32(-2_000_000_000))
        #expect(m["test.f32"] == .float32(0.1))
        #expect(m["test.bool_true"] == .bool(true))
        #expect(m["test.bool_false"] == .bool(false))
        #expect(m["test.string"] == .string("héllo ▁wörld 🐦\n\"quoted\""))
        #expect(m["test.empty_string"] == .string(""))
        #expect(m["test.u64"] == .uint64(18_000_000_000_000_000_000))
        #expect(m["test.i64"] == .int64(-9_000_000_000_000_000_000))
        #expect(m["test.f64"] == .float64(2.718281828459045))
    }

    @Test func arraysIncludingNested() {
        let m = file.metadata
        #expect(m["test.array_i32"] == .array(.int32([1, -2, 3, 2_147_483_647])))
        #expect(m["test.array_f32"] == .array(.float32([0.5, -1.25, 1e-5])))
        #expect(m["test.array_string"] == .array(.string(["a", "▁b", "<0x0A>", ""])))
        #expect(m["test.array_bool"] == .array(.bool([true, false, true])))
        #expect(m["test.array_u8"] == .array(.uint8([0, 1, 255])))
        #expect(m["test.array_nested"] == .array(.array([
            .int32([1, 2, 3]), .string(["x", "y"]), .array([.int32([7]), .int32([8, 9])]),
        ])))
    }

    @Test func metadataMatchesReferenceReaderKeyForKey() throws {
        let meta = try #require(expected["metadata"] as? [String: [String: Any]])
        // Same keys, in file order (the reference JSON keeps insertion order; compare as sets + count).
        #expect(Set(file.metadata.keys) == Set(meta.keys))
        for (key, entry) in meta {
            let value = try #require(file.metadata[key], "missing \(key)")
            let type = try #require(entry["type"] as? String)
            #expect(value.type.name == type, "type of \(key)")
            if let elementType = entry["element_type"] as? String {
                #expect(value.arrayValue?.elementType.name == elementType, "element type of \(key)")
            }
        }
    }

    @Test func typedAccessors() throws {
        let m = file.metadata
        #expect(try m.requireInt("test.u32") == 4_000_000_000)
        #expect(try m.requireString("general.architecture") == "testarch")
        #expect(try m.requireDouble("test.f64") == 2.718281828459045)
        #expect(try m.requireBool("test.bool_true"))
        #expect(try m.requireStringArray("test.array_string") == ["a", "▁b", "<0x0A>", ""])
        #expect(try m.requireIntArray("test.array_i32") == [1, -2, 3, 2_147_483_647])
        #expect(try m.requireFloatArray("test.array_f32") == [0.5, -1.25, 1e-5])
        #expect(m.int("test.u64") == nil)  // does not fit in Int
        #expect(throws: GGUFError.missingKey("no.such.key")) { try m.requireInt("no.such.key") }
        #expect(throws: GGUFError.typeMismatch(key: "test.string", expected: "integer", actual: "string")) {
            try m.requireInt("test.string")
        }
        #expect(throws: GGUFError.typeMismatch(key: "test.array_i32", expected: "array[string]", actual: "array[i32]")) {
            try m.requireStringArray("test.array_i32")
        }
    }

    @Test func tensorTableAndMappedData() throws {
        let tensors = try #require(expected["tensors"] as? [[String: Any]])
        #expect(file.tensors.map(\.name) == tensors.compactMap { $0["name"] as? String })
        for ref in tensors {
            let name = try #require(ref["name"] as? String)
            let info = try #require(file.info(named: name))
            #expect(info.type.name == ref["type"] as? String)
            #expect(info.shape.dims == (ref["ne"] as? [Int])?.reversed())
            #expect(info.fileOffset == ref["data_offset"] as? Int)
            #expect(info.byteCount == ref["n_bytes"] as? Int)
            let tensor = try file.tensor(named: name)
            #expect(tensor.storage.isMapped)
            if info.type == .f32 {
                // The other types' values are the dequantizer's tests; F32 needs no conversion.
                let values = try #require(ref["values"] as? [Double]).map(Float.init)
                #expect(tensor.toFloats() == values)
            }
        }
        #expect(throws: GGUFError.tensorNotFound("nope")) { try file.tensor(named: "nope") }
    }

    @Test func version2ReadsLikeVersion3() throws {
        var bytes = try Data(contentsOf: FixturePaths.url("gguf/all-types.gguf"))
        bytes[4] = 2  // v2 and v3 share the layout; v3 only added big-endian files
        let f = try GGUFFile.open(bytes: bytes)
        #expect(f.version == 2)
        #expect(f.metadata == file.metadata)
        #expect(f.tensors == file.tensors.map { $0 })
    }
}
