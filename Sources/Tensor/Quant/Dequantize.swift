import ModelFormats

extension ElementType {
    /// Converts `count` stored elements at `source` to Float.
    ///
    /// `count` must be a multiple of `blockSize` and `source` must hold `byteCount(elements: count)`
    /// bytes; `Tensor` checks both before calling. `source` needs no particular alignment.
    ///
    /// The results are bit for bit those of `gguf.quants.dequantize` (the `gguf` Python package):
    /// the same Float32 operations in the same order, NaN payloads included.
    package func dequantize(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            // A byte copy: safetensors data need not be 4-byte aligned, and NaN payloads survive.
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* 4)
        case .f16:
            for i in 0..<count {
                destination[i] = loadF16(source, 2 &* i)
            }
        case .bf16:
            // bf16 is the top half of a Float32, so widening is a shift that keeps every bit.
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) &<< 16)
            }
        case .q4_0: eachBlock(source, count, destination, Q4_0Block.dequantize)
        case .q4_1: eachBlock(source, count, destination, Q4_1Block.dequantize)
        case .q5_0: eachBlock(source, count, destination, Q5_0Block.dequantize)
        case .q5_1: eachBlock(source, count, destination, Q5_1Block.dequantize)
        case .q8_0: eachBlock(source, count, destination, Q8_0Block.dequantize)
        case .q2_K: eachBlock(source, count, destination, Q2_KBlock.dequantize)
        case .q3_K: eachBlock(source, count, destination, Q3_KBlock.dequantize)
        case .q4_K: eachBlock(source, count, destination, Q4_KBlock.dequantize)
        case .q5_K: eachBlock(source, count, destination, Q5_KBlock.dequantize)
        case .q6_K: eachBlock(source, count, destination, Q6_KBlock.dequantize)
        }
    }

    /// Runs `decode` on each of the `count / blockSize` blocks at `source`, writing consecutive
    /// runs of `blockSize` floats. Always inlined so that each call site calls its block decoder
    /// directly. (Each `…Block` type's `weightCount` and `byteCount` equal this type's `blockSize`
    /// and `blockBytes`; the tests check it.)
    @inline(__always)
    private func eachBlock(
        _ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>,
        _ decode: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    ) {
        let weights = blockSize, bytes = blockBytes
        for b in 0..<count / weights {
            decode(source + b &* bytes, destination + b &* weights)
        }
    }
}
