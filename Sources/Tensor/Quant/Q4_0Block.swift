/// A Q4_0 block: 32 weights in 18 bytes, one scale and 4-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 16 | `qs`: byte `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble |
///
/// Weight = `d * Float(q - 8)` in Float32, with `q` the unsigned nibble.
package struct Q4_0Block {
    /// Weights per block.
    package static let weightCount = 32
    /// Bytes per block.
    package static let byteCount = 18

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        for j in 0..<16 {
            let byte = loadByte(block, 2 + j)
            destination[j] = d * Float(Int32(byte & 0x0F) - 8)
            destination[j + 16] = d * Float(Int32(byte >> 4) - 8)
        }
    }
}

extension Q4_0Block {
    /// Encodes the 32 values at `x` as one block at `block`, as ggml's `quantize_row_q4_0_ref`:
    /// `d` = the value of largest magnitude / −8, quants `min(15, trunc(x / d + 8.5))`. Returns
    /// false when `d` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let d = signedAbsMax(x, 32) / -8
        let id = inverseScale(d)
        let finite = storeF16(block, 0, d)
        for j in 0..<16 {
            let q0 = min(15, truncatedInt8(x[j] * id + 8.5)), q1 = min(15, truncatedInt8(x[j + 16] * id + 8.5))
            block.storeBytes(of: UInt8(truncatingIfNeeded: q0) | UInt8(truncatingIfNeeded: q1) &<< 4,
                             toByteOffset: 2 + j, as: UInt8.self)
        }
        return finite
    }
}
