/// A Q5_0 block: 32 weights in 22 bytes, one scale and 5-bit quants split into nibbles and high bits.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 4 | `qh`, little-endian u32: bit `i` is the fifth (high) bit of weight `i` |
/// | 6 | 16 | `qs`: byte `j` holds the low 4 bits of weight `j` (low nibble) and of weight `j + 16` (high nibble) |
///
/// Weight = `d * Float(q - 16)` in Float32, with `q` the unsigned 5-bit value.
package struct Q5_0Block {
    /// Weights per block.
    package static let weightCount = 32
    /// Bytes per block.
    package static let byteCount = 22

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
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

extension Q5_0Block {
    /// Encodes the 32 values at `x` as one block at `block`, as ggml's `quantize_row_q5_0_ref`:
    /// `d` = the value of largest magnitude / −16, quants `min(31, trunc(x / d + 16.5))`, their
    /// fifth bits gathered into `qh`. Returns false when `d` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let d = signedAbsMax(x, 32) / -16
        let id = inverseScale(d)
        let finite = storeF16(block, 0, d)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = UInt8(truncatingIfNeeded: min(31, truncatedInt8(x[j] * id + 16.5)))
            let q1 = UInt8(truncatingIfNeeded: min(31, truncatedInt8(x[j + 16] * id + 16.5)))
            block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) &<< 4, toByteOffset: 6 + j, as: UInt8.self)
            qh |= UInt32((q0 & 0x10) >> 4) &<< j | UInt32((q1 & 0x10) >> 4) &<< (j + 16)
        }
        block.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        return finite
    }
}
