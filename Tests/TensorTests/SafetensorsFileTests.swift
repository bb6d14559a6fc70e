import Foundation
import ModelFormats
import Testing
import Tensor

/// Reading `Fixtures/safetensors/mixed.safetensors`, written by the `safetensors` Python package.
@Suite struct SafetensorsFileTests {
    static let floatTensors: [(name: String, type: ElementType, shape: [Int])] = [
        ("f32.vector", .f32, [12]),
        ("f32.matrix", .f32, [3, 4]),
        ("f32.scalar", .f32, []),
        ("f32.empty", .f32, [0, 3]),
        ("f16.matrix", .f16, [2, 5]),
        ("f16.cube", .f16, [2, 3, 4]),
        ("bf16.vector", .bf16, [10]),
        ("bf16.cube", .bf16, [2, 2, 3]),
    ]

    @Test func metadata() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        #expect(file.metadata == ["format": "pt", "producer": "make_safetensors_fixtures.py"])
    }

    @Test func tableIsCompleteAndSortedByOffset() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        #expect(Set(file.names) == Set(Self.floatTensors.map(\.name) + ["i32.ids", "i64.positions"]))
        #expect(file.tensors.count == 10)
        for (a, b) in zip(file.tensors, file.tensors.dropFirst()) {
            #expect(a.dataOffsets.upperBound <= b.dataOffsets.lowerBound)
        }
        for t in file.tensors {
            #expect(t.fileRange == file.dataStart + t.dataOffsets.lowerBound ..< file.dataStart + t.dataOffsets.upperBound)
            #expect(t.fileRange.upperBound <= file.mappedFile.count)
            #expect(t.byteCount == t.elementCount * t.dtype.byteSize)
        }
        // The Python writer pads the header so the data section starts 8-byte aligned.
        #expect(file.dataStart % 8 == 0)
        #expect(file.info("i64.positions")?.dtype == .i64)
        #expect(file.info("i64.positions")?.shape == Shape([2, 3]))
        #expect(file.info("bf16.cube")?.dtype == .bf16)
        #expect(file.info("f32.scalar")?.shape == Shape([]))
        #expect(file.info("nope") == nil)
        #expect(!file.contains("nope"))
    }

    @Test(arguments: floatTensors.map(\.name))
    func floatTensorReadsBackBitForBit(name: String) throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        let spec = try #require(Self.floatTensors.first { $0.name == name })
        let tensor = try file.tensor(name)
        #expect(tensor.type == spec.type)
        #expect(tensor.shape == Shape(spec.shape))
        #expect(tensor.storage.isMapped)
        let expected = try SafetensorsFixtures.expectedBits("expected/\(name).f32")
        #expect(bitPatterns(tensor.toFloats()) == expected)
    }

    @Test func tensorsAreZeroCopyViewsOfTheMapping() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        let base = try #require(file.mappedFile.baseAddress)
        for name in ["f32.matrix", "f16.cube", "bf16.vector"] {
            let info = try #require(file.info(name))
            let tensor = try file.tensor(name)
            guard case let .mapped(mapped, offset, count) = tensor.storage else {
                Issue.record("\(name) is not mapped")
                continue
            }
            #expect(mapped === file.mappedFile)
            #expect(offset == info.fileRange.lowerBound)
            #expect(count == info.byteCount)
            #expect(tensor.bytes.baseAddress == base + info.fileRange.lowerBound)
        }
    }

    /// The stored half-precision bits, independent of any float conversion.
    @Test func rawBytesOfFloatTensors() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        let f16 = SafetensorsFixtures.integers(try file.rawBytes("f16.matrix"), as: UInt16.self)
        #expect(f16 == [0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7BFF, 0x3555, 0xC000])
        let bf16 = SafetensorsFixtures.integers(try file.rawBytes("bf16.vector"), as: UInt16.self)
        #expect(bf16 == [0x3F80, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F7F, 0x0080, 0xC020])
    }

    @Test func integerTensorsArePassedThroughAsRawBytes() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        #expect(file.info("i32.ids")?.dtype == .i32)
        let ids = SafetensorsFixtures.integers(try file.rawBytes("i32.ids"), as: Int32.self)
        #expect(ids == [0, 1, -1, .max, .min])
        let storage = try file.rawStorage("i64.positions")
        #expect(storage.isMapped)
        #expect(SafetensorsFixtures.integers(storage.bytes, as: Int64.self) == [0, 1, 2, -3, 1 << 40, -(1 << 62)])
    }

    @Test func integerTensorIsNotAFloatTensor() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        #expect(throws: SafetensorsError.notAFloatTensor(file: file.path, tensor: "i32.ids", dtype: .i32)) {
            try file.tensor("i32.ids")
        }
        #expect(throws: SafetensorsError.notAFloatTensor(file: file.path, tensor: "i64.positions", dtype: .i64)) {
            try file.tensor("i64.positions")
        }
    }

    @Test func missingTensor() throws {
        let file = try SafetensorsFile(path: SafetensorsFixtures.mixedPath)
        #expect(throws: SafetensorsError.tensorNotFound(file: file.path, tensor: "absent")) { try file.tensor("absent") }
        #expect(throws: SafetensorsError.tensorNotFound(file: file.path, tensor: "absent")) { try file.rawBytes("absent") }
    }

    @Test func tensorOutlivesTheFileObject() throws {
        // The tensor's storage holds the mapping, so dropping the SafetensorsFile is safe.
        let tensor = try SafetensorsFile(path: SafetensorsFixtures.mixedPath).tensor("f32.matrix")
        #expect(bitPatterns(tensor.toFloats()) == (try SafetensorsFixtures.expectedBits("expected/f32.matrix.f32")))
    }

    @Test func gapsBetweenTensorsAreAllowed() throws {
        try withScratch { dir in
            let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"# +
                #""b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"# +
                #""e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}}"#
            let data: [UInt8] = [0x00, 0x00, 0xC0, 0x3F, 0xEE, 0xEE, 0xEE, 0xEE, 0x80, 0x3F, 0x00, 0xC0, 0xFF]
            let file = try SafetensorsFile(path: try dir.writeSafetensors(header: header, data: data))
            #expect(file.names == ["a", "e", "b"])
            #expect(try file.tensor("a").toFloats() == [1.5])
            #expect(try file.tensor("b").toFloats() == [1, -2])
            #expect(try file.tensor("e").toFloats() == [])
            #expect(file.metadata.isEmpty)
        }
    }

    @Test func nullMetadataAndUnalignedData() throws {
        try withScratch { dir in
            // A 1-byte pad after the header leaves the F32 data at an odd address.
            let header = #"{"__metadata__":null,"x":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#
            let data: [UInt8] = [0xAA, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
            let file = try SafetensorsFile(path: try dir.writeSafetensors(header: header, data: data))
            #expect(file.metadata.isEmpty)
            #expect(try file.tensor("x").toFloats() == [1, -2])
        }
    }
}
