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
package struct Q2_KBlock {
    /// Weights per block.
    package static let weightCount = 256
    /// Bytes per block.
    package static let byteCount = 84

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
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

extension Q2_KBlock {
    /// Encodes the 256 values at `x` as one block at `block`, as ggml's `quantize_row_q2_K_ref`: per
    /// sub-block of 16, ``makeQKX2Quants`` (weights |x|, absolute error) with quants 0...3; the
    /// sub-block scales and mins as 4-bit multiples of `d` and `dmin`; then every value quantized
    /// again against the stored scales. Returns false when `d` or `dmin` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256 + 16) { buffer in
            let L = buffer.baseAddress!, Laux = L + 256
            return withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { floats in
                let weights = floats.baseAddress!, scales = weights + 16, mins = weights + 32
                var maxScale: Float = 0, maxMin: Float = 0
                for j in 0..<16 {
                    for l in 0..<16 { weights[l] = abs(x[16 &* j &+ l]) }
                    let (scale, min) = makeQKX2Quants(16, 3, x + 16 &* j, weights, L + 16 &* j, Laux,
                                                      rmin: -0.5, rdelta: 0.1, nstep: 15, useMAD: true)
                    scales[j] = scale
                    mins[j] = min
                    if scale > maxScale { maxScale = scale }
                    if min > maxMin { maxMin = min }
                }
                var finite = true
                if maxScale > 0 {
                    let iscale = 15 / maxScale
                    for j in 0..<16 {
                        block.storeBytes(of: UInt8(truncatingIfNeeded: nearestInt(iscale * scales[j])), toByteOffset: j, as: UInt8.self)
                    }
                    finite = storeF16(block, 80, maxScale / 15)
                } else {
                    for j in 0..<16 { block.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
                    storeF16(block, 80, 0)
                }
                if maxMin > 0 {
                    let iscale = 15 / maxMin
                    for j in 0..<16 {
                        let packed = block.load(fromByteOffset: j, as: UInt8.self)
                        let l = UInt8(truncatingIfNeeded: nearestInt(iscale * mins[j]))
                        block.storeBytes(of: packed | l &<< 4, toByteOffset: j, as: UInt8.self)
                    }
                    finite = storeF16(block, 82, maxMin / 15) && finite
                } else {
                    storeF16(block, 82, 0)
                }
                let d = loadF16(block, 80), dmin = loadF16(block, 82)
                for j in 0..<16 {
                    let sc = block.load(fromByteOffset: j, as: UInt8.self)
                    let dj = d * Float(sc & 0x0F)
                    if dj == 0 { continue }
                    let dm = dmin * Float(sc >> 4)
                    for i in 0..<16 {
                        L[16 &* j &+ i] = UInt8(truncatingIfNeeded: max(0, min(3, nearestInt((x[16 &* j &+ i] + dm) / dj))))
                    }
                }
                packTwoBitQuants(L, into: block + 16)
                return finite
            }
        }
    }
}
