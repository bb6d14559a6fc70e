import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor

/// Each malformed file ends in the specific `GGUFError` that names its problem — never a trap.
@Suite struct GGUFMalformedTests {
    private func open(_ b: GGUFBuilder) throws(GGUFError) -> GGUFFile { try GGUFFile.open(bytes: b.data) }

    @Test func theValidBaseFileOpens() throws {
        let f = try open(.valid())
        #expect(f.tensors.map(\.name) == ["w.f32", "w.q8"])
        #expect(try f.tensor(named: "w.f32").toFloats() == (0..<8).map(Float.init))
    }

    @Test func emptyFile() {
        #expect(throws: GGUFError.emptyFile) { try GGUFFile.open(bytes: Data()) }
    }

    @Test func wrongMagic() {
        var b = GGUFBuilder.valid()
        b.data.replaceSubrange(0..<4, with: Array("GGML".utf8))
        #expect(throws: GGUFError.badMagic(Array("GGML".utf8))) { try open(b) }
        #expect(throws: GGUFError.badMagic([0x47, 0x47])) { try GGUFFile.open(bytes: Data([0x47, 0x47])) }
    }

    @Test func unsupportedVersions() {
        for v: UInt32 in [1, 4, 0x0300_0000] {
            var b = GGUFBuilder()
            b.header(version: v, tensors: 0, kvs: 0)
            #expect(throws: GGUFError.unsupportedVersion(v)) { try open(b) }
        }
    }

    @Test func truncatedHeader() {
        let full = GGUFBuilder.valid().data
        // Cut inside the tensor count.
        #expect(throws: GGUFError.truncatedHeader(what: "tensor count", offset: 8)) {
            try GGUFFile.open(bytes: full.prefix(12))
        }
        // Cut inside the second tensor's offset field: every prefix must fail with a typed error.
        for cut in 4..<70 {
            #expect(throws: GGUFError.self) { try GGUFFile.open(bytes: full.prefix(cut)) }
        }
    }

    @Test func truncatedTensorData() {
        let full = GGUFBuilder.valid().data
        let cut = full.prefix(full.count - 10)  // the Q8_0 block loses its last 10 bytes
        #expect(throws: GGUFError.truncatedTensorData(tensor: "w.q8", offset: 32, byteCount: 34, dataSectionSize: 56)) {
            try GGUFFile.open(bytes: cut)
        }
    }

    @Test func stringLengthPastEndOfFile() {
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 1)
        b.u64(1 << 40)  // key length
        b.data.append(contentsOf: Array("general.architecture".utf8))
        #expect(throws: GGUFError.stringPastEndOfFile(what: "metadata key #0", length: 1 << 40, offset: 24)) {
            try open(b)
        }
        var c = GGUFBuilder()
        c.header(tensors: 0, kvs: 1)
        c.string("k"); c.u32(8); c.u64(UInt64.max)
        #expect(throws: GGUFError.stringPastEndOfFile(what: "value of 'k'", length: UInt64.max, offset: 37)) {
            try open(c)
        }
    }

    @Test func arrayCountThatOverflows() {
        for (elementType, count): (UInt32, UInt64) in [(0, UInt64.max), (8, 1 << 61), (9, 1 << 62), (12, UInt64.max / 8 + 1)] {
            var b = GGUFBuilder()
            b.header(tensors: 0, kvs: 1)
            b.string("tokenizer.ggml.tokens"); b.u32(9); b.u32(elementType); b.u64(count)
            b.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
            #expect(throws: GGUFError.arrayTooLarge(key: "tokenizer.ggml.tokens", count: count)) { try open(b) }
        }
    }

    @Test func deeplyNestedArrays() {
        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 1)
        b.string("deep"); b.u32(9)
        for _ in 0..<1000 { b.u32(9); b.u64(1) }
        #expect(throws: GGUFError.arrayNestingTooDeep(key: "deep")) { try open(b) }
    }

    @Test func misalignedTensorOffset() {
        var b = GGUFBuilder()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("w", ne: [8], type: 0, offset: 4)
        b.padTo(32)
        b.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
        #expect(throws: GGUFError.misalignedTensorOffset(tensor: "w", offset: 4, alignment: 32)) { try open(b) }
    }

    @Test func tensorPastEndOfFile() {
        var b = GGUFBuilder()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("w", ne: [8], type: 0, offset: 1 << 40)
        b.padTo(32)
        b.data.append(contentsOf: [UInt8](repeating: 0, count: 32))
        #expect(throws: GGUFError.tensorPastEndOfFile(tensor: "w", offset: 1 << 40, byteCount: 32, dataSectionSize: 32)) {
            try open(b)
        }
    }

    @Test func countsInTheBillions() {
        var b = GGUFBuilder()
        b.header(tensors: 3_000_000_000, kvs: 0)
        #expect(throws: GGUFError.tensorCountTooLarge(3_000_000_000)) { try open(b) }
        var c = GGUFBuilder()
        c.header(tensors: 0, kvs: 5_000_000_000)
        #expect(throws: GGUFError.metadataCountTooLarge(5_000_000_000)) { try open(c) }
        var d = GGUFBuilder()
        d.header(tensors: UInt64.max, kvs: UInt64.max)
        #expect(throws: GGUFError.metadataCountTooLarge(UInt64.max)) { try open(d) }
    }

    @Test func unknownTensorType() {
        for type: UInt32 in [9, 16, 24, 31, 0xFFFF_FFFF] {  // Q8_1, IQ2_XXS, I8, past the table, garbage
            var b = GGUFBuilder()
            b.header(tensors: 1, kvs: 0)
            b.tensorInfo("w", ne: [32], type: type, offset: 0)
            b.padTo(32)
            b.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
            #expect(throws: GGUFError.unknownTensorType(tensor: "w", type: type)) { try open(b) }
        }
    }

    @Test func shapeProblems() {
        var b = GGUFBuilder()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("w", ne: [1 << 32, 1 << 32, 1 << 32], type: 0, offset: 0)
        #expect(throws: GGUFError.invalidShape(tensor: "w", dims: [1 << 32, 1 << 32, 1 << 32])) { try open(b) }

        var c = GGUFBuilder()
        c.header(tensors: 1, kvs: 0)
        c.tensorInfo("w", ne: [UInt64.max], type: 0, offset: 0)
        #expect(throws: GGUFError.invalidShape(tensor: "w", dims: [UInt64.max])) { try open(c) }

        var d = GGUFBuilder()
        d.header(tensors: 1, kvs: 0)
        d.string("w"); d.u32(1_000_000)
        d.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
        #expect(throws: GGUFError.tooManyDimensions(tensor: "w", count: 1_000_000)) { try open(d) }

        var e = GGUFBuilder()
        e.header(tensors: 1, kvs: 0)
        e.tensorInfo("w", ne: [30, 2], type: 2, offset: 0)  // Q4_0 rows must be multiples of 32
        #expect(throws: GGUFError.rowNotBlockAligned(tensor: "w", type: .q4_0, rowLength: 30)) { try open(e) }
    }

    @Test func metadataProblems() {
        var a = GGUFBuilder()
        a.header(tensors: 0, kvs: 1)
        a.string("k"); a.u32(13); a.u64(0)
        #expect(throws: GGUFError.unknownValueType(key: "k", type: 13)) { try open(a) }

        var b = GGUFBuilder()
        b.header(tensors: 0, kvs: 2)
        b.kvU32("k", 1); b.kvU32("k", 2)
        #expect(throws: GGUFError.duplicateKey("k")) { try open(b) }

        var c = GGUFBuilder()
        c.header(tensors: 0, kvs: 1)
        c.string("flag"); c.u32(7); c.u8(2)
        #expect(throws: GGUFError.invalidBool(key: "flag", byte: 2)) { try open(c) }

        var d = GGUFBuilder()
        d.header(tensors: 0, kvs: 1)
        d.string("s"); d.u32(8); d.u64(2); d.data.append(contentsOf: [0xC3, 0x28])
        #expect(throws: GGUFError.invalidUTF8(what: "value of 's'", offset: 45)) { try open(d) }

        for bad: UInt32 in [0, 3, 48] {
            var e = GGUFBuilder()
            e.header(tensors: 0, kvs: 1)
            e.kvU32("general.alignment", bad)
            #expect(throws: GGUFError.invalidAlignment("\(GGUFValue.uint32(bad))")) { try open(e) }
        }

        var f = GGUFBuilder()
        f.header(tensors: 2, kvs: 0)
        f.tensorInfo("w", ne: [8], type: 0, offset: 0)
        f.tensorInfo("w", ne: [8], type: 0, offset: 32)
        f.padTo(32)
        f.data.append(contentsOf: [UInt8](repeating: 0, count: 64))
        #expect(throws: GGUFError.duplicateTensor("w")) { try open(f) }
    }

    @Test func customAlignmentIsHonoured() throws {
        var b = GGUFBuilder()
        b.header(tensors: 1, kvs: 1)
        b.kvU32("general.alignment", 256)
        b.tensorInfo("w", ne: [4], type: 0, offset: 0)
        b.padTo(256)
        for i in 0..<4 { b.data.append(contentsOf: withUnsafeBytes(of: Float(i + 1).bitPattern.littleEndian) { Array($0) }) }
        let f = try open(b)
        #expect(f.dataOffset == 256)
        #expect(try f.tensor(named: "w").toFloats() == [1, 2, 3, 4])
    }

    /// Random single-byte corruption of a valid file: each result is a file or a typed error, never a trap.
    @Test func randomCorruptionNeverTraps() {
        let base = GGUFBuilder.valid().data
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<800 {
            var d = base
            let n = Int.random(in: 1...4, using: &rng)
            for _ in 0..<n { d[Int.random(in: 0..<d.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if let f = try? GGUFFile.open(bytes: d) {
                for t in f.tensors { _ = try? f.tensor(t).toFloats() }
            }
        }
    }
}
