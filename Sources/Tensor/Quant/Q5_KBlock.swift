/// A Q5_K super-block: 256 weights in 176 bytes, eight sub-blocks of 32 weights with 6-bit scales
/// and mins, and 5-bit quants split into a nibble and a high bit.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 super-block scale |
/// | 2 | 2 | `dmin`, f16 super-block min scale |
/// | 4 | 12 | `scales`: eight 6-bit scales and eight 6-bit mins, packed as in ``Q4_KBlock`` |
/// | 16 | 32 | `qh`: bit `s` of byte `j` is the high bit of weight `j` of sub-block `s` |
/// | 48 | 128 | `qs`: low 4 bits, laid out as Q4_K's quants |
///
/// Weight = `(d * Float(scale)) * Float(q) - (dmin * Float(min))` in Float32, each product
/// rounded separately, as in the `gguf` reference.
public struct Q5_KBlock {
    /// Weights per block.
    public static let weightCount = 256
    /// Bytes per block.
    public static let byteCount = 176

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        for s in 0..<8 {
            let (scale, min) = kQuantScaleMin(block + 4, s)
            let dl = d * Float(scale)
            let ml = dmin * Float(min)
            let qs = block + 48 + 32 * (s >> 1)
            let shift = UInt8(4 * (s & 1))
            let out = destination + 32 * s
            for j in 0..<32 {
                let low = (loadByte(qs, j) &>> shift) & 0x0F
                let high = (loadByte(block, 16 + j) &>> UInt8(s)) & 1
                out[j] = dl * Float(low | high << 4) - ml
            }
        }
    }
}
