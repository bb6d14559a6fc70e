import Foundation
import ModelFormats
import Testing
import Tensor
import SparrowTestSupport

/// A committed fixture from `Fixtures/quant/`: raw stored blocks and the Float32 values that
/// `gguf.quants.dequantize` returned for them (see `Fixtures/quant/README.md`).
private struct QuantFixture {
    let type: ElementType
    /// The stored bytes, blocks back to back.
    let raw: [UInt8]
    /// The reference output as bit patterns, so that NaN payloads and signed zeros compare exactly.
    let expected: [UInt32]

    init(_ type: ElementType) throws {
        self.type = type
        let stem = "quant/" + type.name.lowercased()
        raw = [UInt8](try Data(contentsOf: FixturePaths.url(stem + ".bin")))
        let values = try Data(contentsOf: FixturePaths.url(stem + ".f32"))
        expected = values.withUnsafeBytes { buffer in
            (0..<buffer.count / 4).map { UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        }
    }

    var blockCount: Int { raw.count / type.blockBytes }
}

/// How many elements of `actual` differ from `expected` in any bit, and a description of the first
/// few (a broken decoder would otherwise print thousands of lines).
private func bitMismatches(_ actual: [Float], _ expected: ArraySlice<UInt32>, blockSize: Int) -> (count: Int, first: String) {
    var count = 0
    var first: [String] = []
    for (i, want) in zip(actual.indices, expected) where actual[i].bitPattern != want {
        count += 1
        if first.count < 8 {
            first.append("#\(i) (block \(i / blockSize)): got 0x\(String(actual[i].bitPattern, radix: 16)) "
                + "\(actual[i]), want 0x\(String(want, radix: 16)) \(Float(bitPattern: want))")
        }
    }
    if actual.count != expected.count { count += 1 }
    return (count, first.joined(separator: "; "))
}

/// Decodes `count` elements of `type` stored in `bytes` from byte `offset` on, into an output
/// pre-filled with `fill` so that an element the decoder skips keeps that value.
private func decode(_ type: ElementType, _ bytes: [UInt8], from offset: Int = 0, count: Int, fill: Float) -> [Float] {
    var output = [Float](repeating: fill, count: count)
    bytes.withUnsafeBytes { source in
        output.withUnsafeMutableBufferPointer { destination in
            guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
            type.dequantize(src + offset, count: count, into: dst)
        }
    }
    return output
}

@Suite("Dequantization matches gguf.quants.dequantize bit for bit")
struct DequantizeTests {
    /// An output value the reference never produces, so an element the decoder skips shows up.
    private static let sentinel = Float(bitPattern: 0x7FA5_A5A5)

    @Test("every element matches the reference", arguments: ElementType.allCases)
    func matchesReference(type: ElementType) throws {
        let fixture = try QuantFixture(type)
        let count = fixture.blockCount * type.blockSize
        // The fixture must be whole blocks and sizeable, or the comparison below proves little.
        #expect(fixture.raw.count % type.blockBytes == 0)
        #expect(fixture.blockCount >= 16)
        try #require(fixture.expected.count == count)
        #expect(!fixture.expected.contains(Self.sentinel.bitPattern))

        let output = decode(type, fixture.raw, count: count, fill: Self.sentinel)
        let mismatches = bitMismatches(output, fixture.expected[...], blockSize: type.blockSize)
        #expect(mismatches.count == 0, "\(mismatches.count) of \(count) differ: \(mismatches.first)")
    }

    @Test("decoding from an odd address gives the same bits", arguments: [ElementType.q4_0, .q3_K, .f16, .f32])
    func unalignedSource(type: ElementType) throws {
        // Blocks of 18 or 110 bytes put every later block at an odd offset; shift the whole
        // buffer by one byte too so the first block's fields are misaligned as well.
        let fixture = try QuantFixture(type)
        let count = fixture.blockCount * type.blockSize
        let output = decode(type, [0] + fixture.raw, from: 1, count: count, fill: Self.sentinel)
        let mismatches = bitMismatches(output, fixture.expected[...], blockSize: type.blockSize)
        #expect(mismatches.count == 0, "\(mismatches.count) of \(count) differ: \(mismatches.first)")
    }

    @Test("Tensor.row and toFloats on a multi-row tensor match the reference", arguments: ElementType.allCases)
    func tensorRows(type: ElementType) throws {
        let fixture = try QuantFixture(type)
        // Two blocks per row for quantized types; 16 values per row for float types.
        let blocksPerRow = type.isQuantized ? 2 : 16
        let rowCount = fixture.blockCount / blocksPerRow
        let rowLength = blocksPerRow * type.blockSize
        try #require(rowCount >= 3)
        let used = rowCount * blocksPerRow * type.blockBytes
        let tensor = try fixture.raw.withUnsafeBytes { bytes in
            try Tensor(type: type, shape: Shape([rowCount, rowLength]), copying: UnsafeRawBufferPointer(rebasing: bytes[..<used]))
        }
        #expect(tensor.rowCount == rowCount)
        #expect(tensor.rowLength == rowLength)

        for r in [0, 1, rowCount / 2, rowCount - 1] {
            let start = r * rowLength
            let mismatches = bitMismatches(try tensor.row(r), fixture.expected[start..<start + rowLength], blockSize: type.blockSize)
            #expect(mismatches.count == 0, "row \(r): \(mismatches.first)")
        }
        let all = tensor.toFloats()
        #expect(all.count == rowCount * rowLength)
        let mismatches = bitMismatches(all, fixture.expected[..<(rowCount * rowLength)], blockSize: type.blockSize)
        #expect(mismatches.count == 0, "toFloats: \(mismatches.count) differ: \(mismatches.first)")
    }

    @Test("block types agree with ElementType on sizes")
    func blockSizes() {
        let sizes: [(ElementType, Int, Int)] = [
            (.q4_0, Q4_0Block.weightCount, Q4_0Block.byteCount), (.q4_1, Q4_1Block.weightCount, Q4_1Block.byteCount),
            (.q5_0, Q5_0Block.weightCount, Q5_0Block.byteCount), (.q5_1, Q5_1Block.weightCount, Q5_1Block.byteCount),
            (.q8_0, Q8_0Block.weightCount, Q8_0Block.byteCount), (.q2_K, Q2_KBlock.weightCount, Q2_KBlock.byteCount),
            (.q3_K, Q3_KBlock.weightCount, Q3_KBlock.byteCount), (.q4_K, Q4_KBlock.weightCount, Q4_KBlock.byteCount),
            (.q5_K, Q5_KBlock.weightCount, Q5_KBlock.byteCount), (.q6_K, Q6_KBlock.weightCount, Q6_KBlock.byteCount),
        ]
        #expect(sizes.count == ElementType.allCases.filter(\.isQuantized).count)
        for (type, weights, bytes) in sizes {
            #expect(type.blockSize == weights, "\(type)")
            #expect(type.blockBytes == bytes, "\(type)")
        }
    }

    @Test("a few hand-checked values")
    func handChecked() throws {
        // Independent of the fixtures: a Q4_0 block with d = 0.5 (f16 0x3800) and nibbles 0 and
        // 15 gives 0.5 * (0 - 8) = -4 and 0.5 * (15 - 8) = 3.5.
        var block = [UInt8](repeating: 0xF0, count: Q4_0Block.byteCount)
        block[0] = 0x00
        block[1] = 0x38
        var out = [Float](repeating: 0, count: Q4_0Block.weightCount)
        block.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Q4_0Block.dequantize(s, into: d)
            }
        }
        #expect(out[0..<16].allSatisfy { $0 == -4 })
        #expect(out[16..<32].allSatisfy { $0 == 3.5 })

        // bf16 0xC0A0 is -5.0; f16 0x0001 is the smallest subnormal, 2^-24.
        #expect(decode(.bf16, [0xA0, 0xC0], count: 1, fill: 0) == [-5])
        #expect(decode(.f16, [0x01, 0x00], count: 1, fill: 0) == [0x1p-24])
        // Q8_0 with d = -2 (f16 0xC000): int8 -128 gives 256, 127 gives -254.
        let q8: [UInt8] = [0x00, 0xC0] + [0x80, 0x7F] + [UInt8](repeating: 0, count: 30)
        let q8Values = decode(.q8_0, q8, count: 32, fill: 0)
        #expect(q8Values[0] == 256)
        #expect(q8Values[1] == -254)
        #expect(q8Values[2].bitPattern == (-0.0 as Float).bitPattern)
    }
}
