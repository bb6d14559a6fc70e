import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor
import SparrowTestSupport

/// `GGUFLimits`, and headers that would drive allocations from their counts: each is refused with a
/// typed error before anything of that size is allocated.
@Suite struct GGUFLimitsTests {
    private func parse(_ b: GGUFBuilder, _ limits: GGUFLimits = .init()) throws(GGUFError) -> GGUFFile {
        try GGUFFile(file: MappedFile(copying: [UInt8](b.data), name: "limits.gguf"), limits: limits)
    }

    /// A header with one metadata pair: `key` is a `count`-element array of `elementType`, followed by
    /// `payload` bytes.
    private func arrayFile(_ key: String, elementType: UInt32, count: UInt64, payload: [UInt8]) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 1)
        b.string(key); b.u32(9); b.u32(elementType); b.u64(count)
        b.data.append(contentsOf: payload)
        return b
    }

    @Test func anInMemoryCopyParsesLikeTheFile() throws {
        let url = FixturePaths.url("gguf/all-types.gguf")
        let fromPath = try GGUFFile(path: url.path)
        let fromBytes = try GGUFFile(file: MappedFile(copying: [UInt8](try Data(contentsOf: url)), name: "copy"))
        #expect(fromBytes.path == "copy")
        #expect(fromBytes.metadata == fromPath.metadata)
        #expect(fromBytes.tensors == fromPath.tensors)
        for info in fromPath.tensors {
            #expect(try fromBytes.tensor(info).toFloats() == fromPath.tensor(info).toFloats())
        }
        #expect(throws: GGUFError.emptyFile) { try GGUFFile(file: MappedFile(copying: [], name: "empty")) }
    }

    @Test func aHeaderClaiming2To40ElementsIsRefusedBeforeAllocating() {
        // 2^40 u8 elements would be a terabyte; the file holds 64 bytes.
        for type: UInt32 in [0, 6, 8, 9] {
            let b = arrayFile("big", elementType: type, count: 1 << 40, payload: [UInt8](repeating: 0, count: 64))
            #expect(throws: GGUFError.arrayTooLarge(key: "big", count: 1 << 40)) { try parse(b) }
        }
    }

    @Test func arraysAboveTheLimitAreRefusedEvenWhenTheFileHoldsThem() throws {
        let b = arrayFile("tokenizer.ggml.scores", elementType: 6, count: 1000, payload: [UInt8](repeating: 0, count: 4000))
        #expect(try parse(b).metadata["tokenizer.ggml.scores"]?.arrayValue?.count == 1000)
        #expect(throws: GGUFError.limitExceeded(what: "metadata 'tokenizer.ggml.scores': array count", value: 1000, limit: 999)) {
            try parse(b, GGUFLimits(maxArrayCount: 999))
        }
        // The string-array path (kept as bytes) applies the same limit.
        var strings = GGUFBuilder()
        strings.header(tensors: 0, kvs: 1)
        strings.string("tokenizer.ggml.tokens"); strings.u32(9); strings.u32(8); strings.u64(3)
        for s in ["a", "b", "c"] { strings.string(s) }
        #expect(try parse(strings).metadata["tokenizer.ggml.tokens"]?.arrayValue?.stringValues == ["a", "b", "c"])
        #expect(throws: GGUFError.limitExceeded(what: "metadata 'tokenizer.ggml.tokens': array count", value: 3, limit: 2)) {
            try parse(strings, GGUFLimits(maxArrayCount: 2))
        }
    }

    @Test func stringsAboveTheLimitAreRefused() throws {
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 1)
        b.kvString("tokenizer.chat_template", String(repeating: "x", count: 100))
        #expect(try parse(b).metadata.string("tokenizer.chat_template")?.count == 100)
        #expect(throws: GGUFError.limitExceeded(what: "length of value of 'tokenizer.chat_template'", value: 100, limit: 99)) {
            try parse(b, GGUFLimits(maxStringBytes: 99))
        }
        #expect(throws: GGUFError.limitExceeded(what: "length of metadata key #0", value: 23, limit: 22)) {
            try parse(b, GGUFLimits(maxStringBytes: 22))
        }
    }

    @Test func tensorAndMetadataCountsAboveTheLimitAreRefused() throws {
        let b = GGUFBuilder.valid()  // 2 tensors, 1 metadata pair
        #expect(try parse(b).tensors.count == 2)
        #expect(throws: GGUFError.limitExceeded(what: "tensor count", value: 2, limit: 1)) {
            try parse(b, GGUFLimits(maxTensorCount: 1))
        }
        #expect(throws: GGUFError.limitExceeded(what: "metadata count", value: 1, limit: 0)) {
            try parse(b, GGUFLimits(maxMetadataCount: 0))
        }
    }

    @Test func dimensionsWhoseProductOverflowsAreRefused() {
        for dims: [UInt64] in [[1 << 32, 1 << 32], [UInt64.max], [1 << 62, 4], [1 << 21, 1 << 21, 1 << 21], [3, 1 << 63]] {
            var b = GGUFBuilder()
            b.header(tensors: 1, kvs: 0)
            b.tensorInfo("w", ne: dims, type: 0, offset: 0)
            b.padTo(32)
            b.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
            #expect(throws: GGUFError.invalidShape(tensor: "w", dims: dims)) { try parse(b) }
        }
    }

    @Test func theDefaultsAreDocumented() {
        let d = GGUFLimits()
        #expect(d.maxStringBytes == 16 << 20 && d.maxArrayCount == 16 << 20)
        #expect(d.maxMetadataCount == 65_536 && d.maxTensorCount == 65_536)
    }
}
