/// A Q8_0 block: 32 weights in 34 bytes, one scale and signed 8-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 scale |
/// | 2 | 32 | `qs`: weight `i` is the signed byte at `2 + i` |
///
/// Weight = `Float(q) * d` in Float32.
package struct Q8_0Block {
    /// Weights per block.
    package static let weightCount = 32
    /// Bytes per block.
    package static let byteCount = 34

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        for i in 0..<32 {
            destination[i] = Float(block.loadUnaligned(fromByteOffset: 2 + i, as: Int8.self)) * d
        }
    }
}

extension Q8_0Block {
    /// Encodes the 32 values at `x` as one block at `block`, as ggml's `quantize_row_q8_0_ref`:
    /// `d` = max |x| / 127, quants `roundf(x / d)` (halves away from zero). Returns false when `d`
    /// overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id = inverseScale(d)
        let finite = storeF16(block, 0, d)
        for j in 0..<32 {
            let q = truncatedInt8((x[j] * id).rounded(.toNearestOrAwayFromZero))
            block.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: 2 + j, as: Int8.self)
        }
        return finite
    }
}
