/// A Q6_K super-block: 256 weights in 210 bytes, sixteen sub-blocks of 16 weights with signed
/// 8-bit scales, and 6-bit quants split into a nibble and 2 high bits.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 128 | `ql`: low 4 bits |
/// | 128 | 64 | `qh`: high 2 bits, four per byte |
/// | 192 | 16 | `scales`: one signed byte per sub-block |
/// | 208 | 2 | `d`, f16 super-block scale |
///
/// The weights form two halves of 128, each of four groups of 32. Weight `j` of group `t` in
/// half `h` takes its low 4 bits from `ql[64h + 32 * (t % 2) + j]` (low nibble for `t < 2`,
/// high nibble after) and its high 2 bits from shift `2t` of `qh[32h + j]`; the 6-bit value
/// minus 32 is the quant. Sub-block `s` is weights `16s ..< 16s + 16`.
///
/// Weight = `(d * Float(scale)) * Float(q)` in Float32, as in the `gguf` reference.
public struct Q6_KBlock {
    /// Weights per block.
    public static let weightCount = 256
    /// Bytes per block.
    public static let byteCount = 210

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    public static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 208)
        for g in 0..<8 {
            let h = g >> 2, t = g & 3
            let ql = block + 64 * h + 32 * (t & 1)
            let qh = block + 128 + 32 * h
            let lowShift = UInt8(4 * (t >> 1))
            let highShift = UInt8(2 * t)
            let out = destination + 32 * g
            for half in 0..<2 {
                let scale = block.loadUnaligned(fromByteOffset: 192 + 2 * g + half, as: Int8.self)
                let dl = d * Float(scale)
                for k in 16 * half..<16 * half + 16 {
                    let low = (loadByte(ql, k) &>> lowShift) & 0x0F
                    let high = (loadByte(qh, k) &>> highShift) & 0x03
                    out[k] = dl * Float(Int32(low | high << 4) - 32)
                }
            }
        }
    }
}
