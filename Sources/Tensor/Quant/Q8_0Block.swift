/// A Q8_0 block: 32 weights in 34 bytes, one scale and signed 8-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 32 | `qs`: weight `i` is the signed byte at `2 + i` |
///
/// Weight = `Float(q) * d` in Float32.
public struct Q8_0Block {
    /// Weights per block.
    public static let weightCount = 32
    /// Bytes per block.
    public static let byteCount = 34

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        for i in 0..<32 {
            destination[i] = Float(block.loadUnaligned(fromByteOffset: 2 + i, as: Int8.self)) * d
        }
    }
}
