/// A Q2_K super-block: 256 weights in 84 bytes, sixteen sub-blocks of 16 weights with 4-bit
/// scales and mins, and 2-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 16 | `scales`: byte `s` is sub-block `s`'s scale (low nibble) and min (high nibble) |
/// | 16 | 64 | `qs`: 2-bit quants, four per byte |
/// | 80 | 2 | `d`, f16 super-block scale |
/// | 82 | 2 | `dmin`, f16 super-block min scale |
///
/// The weights form 8 groups of 32. Group `g` reads the 2 bits at shift `2 * (g % 4)` of the
/// bytes `qs[32 * (g / 4) + j]`, `j` in 0..<32; its first 16 weights are sub-block `2g`, the rest
/// sub-block `2g + 1`.
///
/// Weight = `(d * Float(scale)) * Float(q) - (dmin * Float(min))` in Float32, each product
/// rounded separately, as in the `gguf` reference.
public struct Q2_KBlock {
    /// Weights per block.
    public static let weightCount = 256
    /// Bytes per block.
    public static let byteCount = 84

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 80)
        let dmin = loadF16(block, 82)
        for g in 0..<8 {
            let qs = block + 16 + 32 * (g >> 2)
            let shift = UInt8(2 * (g & 3))
            let out = destination + 32 * g
            for half in 0..<2 {
                let packed = loadByte(block, 2 * g + half)
                let dl = d * Float(packed & 0x0F)
                let ml = dmin * Float(packed >> 4)
                for k in 16 * half..<16 * half + 16 {
                    let q = (loadByte(qs, k) &>> shift) & 3
                    out[k] = dl * Float(q) - ml
                }
            }
        }
    }
}
