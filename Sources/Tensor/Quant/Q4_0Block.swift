/// A Q4_0 block: 32 weights in 18 bytes, one scale and 4-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 16 | `qs`: byte `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble |
///
/// Weight = `d * Float(q - 8)` in Float32, with `q` the unsigned nibble.
public struct Q4_0Block {
    /// Weights per block.
    public static let weightCount = 32
    /// Bytes per block.
    public static let byteCount = 18

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        for j in 0..<16 {
            let byte = loadByte(block, 2 + j)
            destination[j] = d * Float(Int32(byte & 0x0F) - 8)
            destination[j + 16] = d * Float(Int32(byte >> 4) - 8)
        }
    }
}
