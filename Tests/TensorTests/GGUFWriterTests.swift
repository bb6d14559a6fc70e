import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor
import SparrowTestSupport

/// ``GGUFWriter`` writes what the reader (and llama.cpp's and gguf-py's writers) agree on.
@Suite("GGUF writer")
struct GGUFWriterTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-writer-\(UUID().uuidString).gguf").path
    }

    /// Rewrites `file` with its own metadata, tensors and data, through the writer.
    static func rewrite(_ file: GGUFFile, to path: String) throws {
        let plans = file.tensors.map { GGUFTensorPlan(name: $0.name, type: $0.type, shape: $0.shape) }
        let writer = try GGUFWriter(path: path, metadata: file.metadata.entries, tensors: plans)
        for info in file.tensors {
            try writer.append(UnsafeRawBufferPointer(rebasing: file.file.bytes[info.fileOffset..<info.fileOffset + info.byteCount]))
        }
        try writer.finish()
    }

    @Test(arguments: ["transformer/llama-q8_0.gguf", "transformer/phi3-f32.gguf", "transformer/mistral-q8_0.gguf"])
    func aFixtureRewrittenIsTheSameBytes(fixture: String) throws {
        // The fixtures were written by gguf-py; the same metadata and tensors in the same order must
        // come out byte for byte.
        let original = FixturePaths.url(fixture).path
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.rewrite(try GGUFFile(path: original), to: path)
        let a = try Data(contentsOf: URL(fileURLWithPath: original)), b = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(a.count == b.count)
        #expect(a == b)
    }

    @Test func everyValueTypeRoundTrips() throws {
        let metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("llama")), ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65000)),
            ("i16", .int16(-300)), ("u32", .uint32(4_000_000_000)), ("i32", .int32(-7)), ("u64", .uint64(1 << 40)),
            ("i64", .int64(-(1 << 40))), ("f32", .float32(0.1)), ("f64", .float64(-2.5e-300)), ("yes", .bool(true)),
            ("text", .string("héllo ✓")), ("strings", .array(.string(["a", "", "ü"]))), ("floats", .array(.float32([1, -0.5]))),
            ("nested", .array(.array([.int32([1, 2]), .string(["x"])]))), ("general.alignment", .uint32(64)),
        ]
        let plans = [GGUFTensorPlan(name: "a", type: .f32, shape: Shape([3])),
                     GGUFTensorPlan(name: "b", type: .q8_0, shape: Shape([2, 32]))]
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try GGUFWriter(path: path, metadata: metadata, tensors: plans)
        let a: [Float] = [1, 2, 3], b = [UInt8](repeating: 7, count: 68)
        try a.withUnsafeBytes { try writer.append($0) }
        try b.withUnsafeBytes { try writer.append($0) }
        try writer.finish()
        let file = try GGUFFile(path: path)
        #expect(file.alignment == 64)
        #expect(file.metadata.entries.map(\.key) == metadata.map(\.key))
        for (key, value) in metadata { #expect(file.metadata[key] == value, "\(key)") }
        #expect(file.tensors.map(\.name) == ["a", "b"] && file.tensors.map(\.shape) == [Shape([3]), Shape([2, 32])])
        #expect(file.tensors[1].offset == 64)
        let tb = try file.tensor(named: "b")
        #expect(Array(tb.bytes) == b)
    }

    @Test func aTensorWrittenInPartsIsTheSameBytes() throws {
        // A fixture rewritten with each tensor's data in uneven parts (and empty ones) equals the original.
        let original = FixturePaths.url("transformer/llama-q8_0.gguf").path
        let file = try GGUFFile(path: original)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plans = file.tensors.map { GGUFTensorPlan(name: $0.name, type: $0.type, shape: $0.shape) }
        let writer = try GGUFWriter(path: path, metadata: file.metadata.entries, tensors: plans)
        for info in file.tensors {
            var start = info.fileOffset, size = 1
            try writer.appendPart(UnsafeRawBufferPointer(start: nil, count: 0))
            while start < info.fileOffset + info.byteCount {
                let end = min(start + size, info.fileOffset + info.byteCount)
                try writer.appendPart(UnsafeRawBufferPointer(rebasing: file.file.bytes[start..<end]))
                start = end
                size *= 3
            }
        }
        try writer.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: original)) == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func misuseIsATypedError() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GGUFWriteError.rowNotBlockAligned(tensor: "w", type: .q4_0, rowLength: 40)) {
            _ = try GGUFWriter(path: path, metadata: [], tensors: [GGUFTensorPlan(name: "w", type: .q4_0, shape: Shape([40]))])
        }
        #expect(throws: GGUFWriteError.invalidAlignment(48)) {
            _ = try GGUFWriter(path: path, metadata: [("general.alignment", .uint32(48))], tensors: [])
        }
        let writer = try GGUFWriter(path: path, metadata: [], tensors: [GGUFTensorPlan(name: "w", type: .f32, shape: Shape([4]))])
        #expect(throws: GGUFWriteError.tensorSize(tensor: "w", expected: 16, actual: 8)) {
            try [Float](repeating: 0, count: 2).withUnsafeBytes { try writer.append($0) }
        }
        #expect(throws: GGUFWriteError.tensorCount(expected: 1, written: 0)) { try writer.finish() }
        try [Float](repeating: 0, count: 3).withUnsafeBytes { try writer.appendPart($0) }
        #expect(throws: GGUFWriteError.tensorSize(tensor: "w", expected: 16, actual: 20)) {
            try [Float](repeating: 0, count: 2).withUnsafeBytes { try writer.appendPart($0) }
        }
        // A tensor begun in parts is not finished, and cannot be given whole.
        #expect(throws: GGUFWriteError.tensorCount(expected: 1, written: 0)) { try writer.finish() }
        #expect(throws: GGUFWriteError.tensorSize(tensor: "w", expected: 16, actual: 28)) {
            try [Float](repeating: 0, count: 4).withUnsafeBytes { try writer.append($0) }
        }
        #expect(throws: GGUFWriteError.io(path: "/nonexistent/dir/x.gguf", errno: ENOENT)) {
            _ = try GGUFWriter(path: "/nonexistent/dir/x.gguf", metadata: [], tensors: [])
        }
    }
}
