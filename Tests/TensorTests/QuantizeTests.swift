import Foundation
import Testing
@testable import ModelFormats
@testable import Tensor
import SparrowTestSupport

/// ``ElementType/quantize(_:into:)`` against `Fixtures/quant/quantize-*.bin`: what
/// `gguf.quants.quantize` (and ggml's C quantizers, checked by
/// `Fixtures/quant/check_quantize_fixtures_with_ggml.py`) write for `quantize-input.f32`.
@Suite("Quantize")
struct QuantizeTests {
    static func input() throws -> [Float] {
        let data = try Data(contentsOf: FixturePaths.url("quant/quantize-input.f32"))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    static func quantize(_ values: [Float], as type: ElementType) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count / type.blockSize * type.blockBytes)
        try values.withUnsafeBufferPointer { source in
            try out.withUnsafeMutableBytes { destination in try type.quantize(source, into: destination) }
        }
        return out
    }

    /// F16 to Q8_0 against gguf.quants (and ggml); Q2_K to Q6_K against ggml's C quantizers,
    /// which wrote their fixtures (gguf 0.19.0 has no K-quant quantizer).
    @Test(arguments: [ElementType.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func sameBytesAsTheReference(type: ElementType) throws {
        let values = try Self.input()
        let expected = [UInt8](try Data(contentsOf: FixturePaths.url("quant/quantize-\(type.name.lowercased()).bin")))
        let actual = try Self.quantize(values, as: type)
        #expect(actual.count == expected.count)
        let blocks = actual.count / type.blockBytes
        let differing = (0..<blocks).filter {
            actual[$0 * type.blockBytes..<($0 + 1) * type.blockBytes] != expected[$0 * type.blockBytes..<($0 + 1) * type.blockBytes]
        }
        #expect(differing.isEmpty, "\(differing.count) of \(blocks) blocks differ, first \(differing.prefix(5))")
    }

    @Test func quantizedBlocksDecodeNearTheValues() throws {
        // A round trip within one step of each block's scale (half a step of rounding, but Q4_0 and
        // Q5_0 clamp the far end of the opposite sign to 7 or 15 steps): the quantizers and decoders
        // agree on the layout (the fixtures pin the bytes; this pins their meaning).
        let values = try Self.input().prefix(64 * 32).map { $0 }
        for type in [ElementType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0] {
            let bytes = try Self.quantize(values, as: type)
            var decoded = [Float](repeating: 0, count: values.count)
            bytes.withUnsafeBytes { raw in
                decoded.withUnsafeMutableBufferPointer { type.dequantize(raw.baseAddress!, count: values.count, into: $0.baseAddress!) }
            }
            let steps: Float = [.q4_0: 8, .q4_1: 15, .q5_0: 16, .q5_1: 31, .q8_0: 127][type]!
            for b in 0..<values.count / 32 {
                let block = values[b * 32..<(b + 1) * 32]
                let range = type == .q4_1 || type == .q5_1 ? block.max()! - block.min()! : block.map(abs).max()!
                let tolerance = range / steps * 1.01 + 1e-3 * range
                for j in block.indices {
                    #expect(abs(decoded[j] - values[j]) <= tolerance, "\(type) value \(j): \(values[j]) → \(decoded[j])")
                }
            }
        }
    }

    @Test func badInputIsATypedError() throws {
        var values = [Float](repeating: 0.5, count: 64)
        values[40] = .nan
        #expect(throws: QuantizeError.nonFiniteValue(index: 40)) { _ = try Self.quantize(values, as: .q4_0) }
        values[40] = -.infinity
        #expect(throws: QuantizeError.nonFiniteValue(index: 40)) { _ = try Self.quantize(values, as: .f16) }
        #expect(throws: QuantizeError.partialBlock(count: 40, blockSize: 32)) {
            _ = try Self.quantize(Array(repeating: 1, count: 40), as: .q8_0)
        }
        var huge = [Float](repeating: 1, count: 64)
        huge[33] = 1e6  // d = 1e6 / −8 is beyond Float16
        #expect(throws: QuantizeError.scaleOverflow(block: 1)) { _ = try Self.quantize(huge, as: .q4_0) }
        #expect(throws: QuantizeError.valueOverflow(index: 33)) { _ = try Self.quantize(huge, as: .f16) }
        // bfloat16 holds up to 3.3895e38; a Float within half a step of Float's largest rounds to infinity.
        var top = [Float](repeating: 1, count: 4)
        top[1] = Float(bitPattern: 0x7F7F_7FFF)
        #expect(try Self.quantize(top, as: .bf16)[2...3] == [0x7F, 0x7F])
        top[2] = Float(bitPattern: 0x7F7F_8000)
        #expect(throws: QuantizeError.valueOverflow(index: 2)) { _ = try Self.quantize(top, as: .bf16) }
        var out = [UInt8](repeating: 0, count: 10)
        let source = [Float](repeating: 1, count: 32)
        source.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBytes { destination in
                let error = #expect(throws: QuantizeError.self) { try ElementType.q4_0.quantize(source, into: destination) }
                #expect(error == .destinationSize(expected: 18, actual: 10))
            }
        }
    }
}
