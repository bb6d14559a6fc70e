/// A Q5_1 block: 32 weights in 24 bytes, a scale, a minimum and 5-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 2 | `m`, f16 minimum |
/// | 4 | 4 | `qh`, little-endian u32: bit `i` is the fifth (high) bit of weight `i` |
/// | 8 | 16 | `qs`: byte `j` holds the low 4 bits of weight `j` (low nibble) and of weight `j + 16` (high nibble) |
///
/// Weight = `(d * Float(q)) + m` in Float32, the product rounded before the add (no fused
/// multiply-add), as in the `gguf` reference.
/// When both the product and `m` are NaN the product's NaN is kept, as x86 and numpy do.
package struct Q5_1Block {
    /// Weights per block.
    package static let weightCount = 32
    /// Bytes per block.
    package static let byteCount = 24

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        let qh = loadU32(block, 4)
        for j in 0..<16 {
            let byte = loadByte(block, 8 + j)
            let low = UInt32(byte & 0x0F) | ((qh &>> UInt32(j)) & 1) << 4
            let high = UInt32(byte >> 4) | ((qh &>> UInt32(j + 16)) & 1) << 4
            destination[j] = addMin(d * Float(low), m)
            destination[j + 16] = addMin(d * Float(high), m)
        }
    }
}

extension Q5_1Block {
    /// Encodes the 32 values at `x` as one block at `block`, as ggml's `quantize_row_q5_1_ref`:
    /// `d` = (max − min) / 31, `m` = min, quants `trunc((x − min) / d + 0.5)` (in range without a
    /// clamp), their fifth bits gathered into `qh`. Returns false when `d` or `m` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let (lo, hi) = minAndMax(x, 32)
        let d = (hi - lo) / 31
        let id = inverseScale(d)
        let finite = storeF16(block, 0, d) && storeF16(block, 2, lo)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = UInt8(truncatingIfNeeded: truncatedInt8((x[j] - lo) * id + 0.5))
            let q1 = UInt8(truncatingIfNeeded: truncatedInt8((x[j + 16] - lo) * id + 0.5))
            block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) &<< 4, toByteOffset: 8 + j, as: UInt8.self)
            qh |= UInt32((q0 & 0x10) >> 4) &<< j | UInt32((q1 & 0x10) >> 4) &<< (j + 16)
        }
        block.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        return finite
    }
}
