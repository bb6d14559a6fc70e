/// A Q4_K super-block: 256 weights in 144 bytes, eight sub-blocks of 32 weights with 6-bit scales
/// and mins, and 4-bit quants.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 super-block scale |
/// | 2 | 2 | `dmin`, f16 super-block min scale |
/// | 4 | 12 | `scales`: eight 6-bit scales and eight 6-bit mins, packed as below |
/// | 16 | 128 | `qs`: sub-block `s` is the low nibbles (even `s`) or high nibbles (odd `s`) of bytes `qs[32 * (s / 2) ..< 32 * (s / 2) + 32]` |
///
/// Scale and min packing (ggml's `get_scale_min_k4`): sub-blocks 0–3 keep their scale in the low
/// 6 bits of `scales[s]` and their min in the low 6 bits of `scales[s + 4]`. Sub-blocks 4–7 keep
/// the low 4 bits of scale and min in the low and high nibbles of `scales[s + 4]`, and the top
/// 2 bits in the otherwise unused top bits of `scales[s − 4]` (scale) and `scales[s]` (min).
///
/// Weight = `(d * Float(scale)) * Float(q) - (dmin * Float(min))` in Float32, each product
/// rounded separately, as in the `gguf` reference.
package struct Q4_KBlock {
    /// Weights per block.
    package static let weightCount = 256
    /// Bytes per block.
    package static let byteCount = 144

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        for s in 0..<8 {
            let (scale, min) = kQuantScaleMin(block + 4, s)
            let dl = d * Float(scale)
            let ml = dmin * Float(min)
            let qs = block + 16 + 32 * (s >> 1)
            let shift = UInt8(4 * (s & 1))
            let out = destination + 32 * s
            for j in 0..<32 {
                let q = (loadByte(qs, j) &>> shift) & 0x0F
                out[j] = dl * Float(q) - ml
            }
        }
    }
}

extension Q4_KBlock {
    /// Encodes the 256 values at `x` as one block at `block`, as ggml's `quantize_row_q4_K_ref`
    /// (``quantizeKSuperBlock(_:into:nmax:rmin:nstep:_:)`` with quants 0...15, then nibbles packed
    /// two sub-blocks to 32 bytes). Returns false when `d` or `dmin` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { L in
            let finite = quantizeKSuperBlock(x, into: block, nmax: 15, rmin: -1, nstep: 20, L.baseAddress!)
            for j in stride(from: 0, to: 256, by: 64) {
                for l in 0..<32 {
                    block.storeBytes(of: L[j + l] | L[j + l + 32] &<< 4, toByteOffset: 16 + j / 2 + l, as: UInt8.self)
                }
            }
            return finite
        }
    }
}
