/// A Q4_1 block: 32 weights in 20 bytes, a scale, a minimum and 4-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 2 | `m`, f16 minimum |
/// | 4 | 16 | `qs`: byte `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble |
///
/// Weight = `(d * Float(q)) + m` in Float32: the product is rounded before the add (no fused
/// multiply-add), as in the `gguf` reference.
/// When both the product and `m` are NaN the product's NaN is kept, as x86 and numpy do.
package struct Q4_1Block {
    /// Weights per block.
    package static let weightCount = 32
    /// Bytes per block.
    package static let byteCount = 20

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        for j in 0..<16 {
            let byte = loadByte(block, 4 + j)
            destination[j] = addMin(d * Float(byte & 0x0F), m)
            destination[j + 16] = addMin(d * Float(byte >> 4), m)
        }
    }
}

extension Q4_1Block {
    /// Encodes the 32 values at `x` as one block at `block`, as ggml's `quantize_row_q4_1_ref`:
    /// `d` = (max − min) / 15, `m` = min, quants `min(15, trunc((x − min) / d + 0.5))`. Returns false
    /// when `d` or `m` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let (lo, hi) = minAndMax(x, 32)
        let d = (hi - lo) / 15
        let id = inverseScale(d)
        let finite = storeF16(block, 0, d) && storeF16(block, 2, lo)
        for j in 0..<16 {
            let q0 = min(15, truncatedInt8((x[j] - lo) * id + 0.5))
            let q1 = min(15, truncatedInt8((x[j + 16] - lo) * id + 0.5))
            block.storeBytes(of: UInt8(truncatingIfNeeded: q0) | UInt8(truncatingIfNeeded: q1) &<< 4,
                             toByteOffset: 4 + j, as: UInt8.self)
        }
        return finite
    }
}
