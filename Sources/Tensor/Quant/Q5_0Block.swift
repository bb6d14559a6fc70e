/// A Q5_0 block: 32 weights in 22 bytes, one scale and 5-bit quants split into nibbles and high bits.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 4 | `qh`, little-endian u32: bit `i` is the fifth (high) bit of weight `i` |
/// | 6 | 16 | `qs`: byte `j` holds the low 4 bits of weight `j` (low nibble) and of weight `j + 16` (high nibble) |
///
/// Weight = `d * Float(q - 16)` in Float32, with `q` the unsigned 5-bit value.
public struct Q5_0Block {
    /// Weights per block.
    public static let weightCount = 32
    /// Bytes per block.
    public static let byteCount = 22

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let qh = loadU32(block, 2)
        for j in 0..<16 {
            let byte = loadByte(block, 6 + j)
            let low = Int32(byte & 0x0F) | Int32((qh &>> UInt32(j)) & 1) << 4
            let high = Int32(byte >> 4) | Int32((qh &>> UInt32(j + 16)) & 1) << 4
            destination[j] = d * Float(low - 16)
            destination[j + 16] = d * Float(high - 16)
        }
    }
}
