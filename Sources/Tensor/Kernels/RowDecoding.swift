import ModelFormats

/// Turns stored elements of any `ElementType` into Floats, for kernels that dot or multiply in
/// Float.
///
/// F16 and BF16 are converted here rather than through `ElementType.dequantize`: these are plain
/// per-element loops LLVM vectorises (`vcvtph2ps`, a shift), and the matrix × vector hot path
/// wants them inlined. Quantized blocks go through `ElementType.dequantize`.
enum RowDecoding {
    /// Writes `count` Floats decoded from `source` (in `type`'s stored format) to `destination`.
    /// `count` must be a multiple of `type.blockSize`; checks nothing.
    @inline(__always)
    static func decode(_ type: ElementType, _ source: UnsafeRawPointer, count: Int,
                       into destination: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* 4)
        case .f16:
            convertF16(source, count: count, into: destination)
        case .bf16:
            convertBF16(source, count: count, into: destination)
        default:
            type.dequantize(source, count: count, into: destination)
        }
    }

    /// IEEE half → Float. `source` needs no alignment.
    @inline(__always)
    static func convertF16(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let bits = source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)
            destination[i] = Float(Float16(bitPattern: bits))
        }
    }

    /// bfloat16 → Float: the 16 bits are the top half of the Float.
    @inline(__always)
    static func convertBF16(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let bits = source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)
            destination[i] = Float(bitPattern: UInt32(bits) &<< 16)
        }
    }
}
