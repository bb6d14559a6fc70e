/// A Q3_K super-block: 256 weights in 110 bytes, sixteen sub-blocks of 16 weights with signed
/// 6-bit scales, and 3-bit quants split into 2 low bits and a high bit.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 32 | `hmask`: bit `g` of byte `j` is the high bit of weight `32g + j` |
/// | 32 | 64 | `qs`: low 2 bits, four per byte |
/// | 96 | 12 | `scales`: sixteen 6-bit values |
/// | 108 | 2 | `d`, f16 super-block scale |
///
/// The weights form 8 groups of 32. Group `g` reads the 2 bits at shift `2 * (g % 4)` of the
/// bytes `qs[32 * (g / 4) + j]`; the quant is that value minus 4 when its `hmask` bit is **clear**
/// (a set bit means no offset), so it spans −4...3. The group's first 16 weights are sub-block
/// `2g`, the rest sub-block `2g + 1`.
///
/// Scale `s` (0..<16) has its low 4 bits in byte `s % 8` of `scales` (low nibble for `s < 8`,
/// high nibble after) and its top 2 bits at shift `2 * (s / 4)` of byte `8 + s % 4`; the stored
/// 6-bit value minus 32 is the signed scale.
///
/// Weight = `(d * Float(scale)) * Float(q)` in Float32, as in the `gguf` reference.
public struct Q3_KBlock {
    /// Weights per block.
    public static let weightCount = 256
    /// Bytes per block.
    public static let byteCount = 110

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 108)
        let scales = block + 96
        for g in 0..<8 {
            let qs = block + 32 + 32 * (g >> 2)
            let shift = UInt8(2 * (g & 3))
            let out = destination + 32 * g
            for half in 0..<2 {
                let s = 2 * g + half
                let low = (loadByte(scales, s & 7) &>> UInt8(4 * (s >> 3))) & 0x0F
                let high = (loadByte(scales, 8 + (s & 3)) &>> UInt8(2 * (s >> 2))) & 0x03
                let dl = d * Float(Int32(low | high << 4) - 32)
                for k in 16 * half..<16 * half + 16 {
                    let lowBits = Int32((loadByte(qs, k) &>> shift) & 3)
                    let highBit = (loadByte(block, k) &>> UInt8(g)) & 1
                    let q = highBit == 0 ? lowBits - 4 : lowBits
                    out[k] = dl * Float(q)
                }
            }
        }
    }
}
