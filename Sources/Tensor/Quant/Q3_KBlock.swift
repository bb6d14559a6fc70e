/// A Q3_K super-block: 256 weights in 110 bytes, sixteen sub-blocks of 16 weights with signed
/// 6-bit scales, and 3-bit quants split into 2 low bits and a high bit.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 32 | `hmask`: bit `g` of byte `j` is the high bit of weight `32g + j` |
/// | 32 | 64 | `qs`: low 2 bits, four per byte |
/// | 96 | 12 | `scales`: sixteen 6-bit values |
/// | 108 | 2 | `d`, f16 super-block scale |
///
/// The weights form 8 groups of 32. Group `g` reads the 2 bits at shift `2 * (g % 4)` of the
/// bytes `qs[32 * (g / 4) + j]`; the quant is that value minus 4 when its `hmask` bit is **clear**
/// (a set bit means no offset), so it spans −4...3. The group's first 16 weights are sub-block
/// `2g`, the rest sub-block `2g + 1`.
///
/// Scale `s` (0..<16) has its low 4 bits in byte `s % 8` of `scales` (low nibble for `s < 8`,
/// high nibble after) and its top 2 bits at shift `2 * (s / 4)` of byte `8 + s % 4`; the stored
/// 6-bit value minus 32 is the signed scale.
///
/// Weight = `(d * Float(scale)) * Float(q)` in Float32, as in the `gguf` reference.
package struct Q3_KBlock {
    /// Weights per block.
    package static let weightCount = 256
    /// Bytes per block.
    package static let byteCount = 110

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 108)
        let scales = block + 96
        for g in 0..<8 {
            let qs = block + 32 + 32 * (g >> 2)
            let shift = UInt8(2 * (g & 3))
            let out = destination + 32 * g
            for half in 0..<2 {
                let s = 2 * g + half
                let low = (loadByte(scales, s & 7) &>> UInt8(4 * (s >> 3))) & 0x0F
                let high = (loadByte(scales, 8 + (s & 3)) &>> UInt8(2 * (s >> 2))) & 0x03
                let dl = d * Float(Int32(low | high << 4) - 32)
                for k in 16 * half..<16 * half + 16 {
                    let lowBits = Int32((loadByte(qs, k) &>> shift) & 3)
                    let highBit = (loadByte(block, k) &>> UInt8(g)) & 1
                    let q = highBit == 0 ? lowBits - 4 : lowBits
                    out[k] = dl * Float(q)
                }
            }
        }
    }
}

extension Q3_KBlock {
    /// Encodes the 256 values at `x` as one block at `block`, as ggml's `quantize_row_q3_K_ref`: per
    /// sub-block of 16, ``makeQ3Quants(_:_:_:_:)`` with quants −4...3; the sub-block scales as
    /// signed 6-bit multiples of `d` (the largest at −32); then every value quantized again against
    /// the stored scales, high bits into `hmask`. Returns false when `d` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { buffer in
            let L = buffer.baseAddress!
            var scales = InlineArray<16, Float>(repeating: 0)
            var maxScale: Float = 0, amax: Float = 0
            for j in 0..<16 {
                scales[j] = makeQ3Quants(16, 4, x + 16 &* j, L + 16 &* j)
                if abs(scales[j]) > amax {
                    amax = abs(scales[j])
                    maxScale = scales[j]
                }
            }
            let packed = block + 96
            for j in 0..<12 { packed.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
            func or(_ offset: Int, _ bits: UInt8) {
                packed.storeBytes(of: packed.load(fromByteOffset: offset, as: UInt8.self) | bits, toByteOffset: offset, as: UInt8.self)
            }
            var finite = true
            if maxScale != 0 {
                let iscale = -32 / maxScale
                for j in 0..<16 {
                    let wrapped = Int(Int8(truncatingIfNeeded: nearestInt(iscale * scales[j])))
                    let l = UInt8(truncatingIfNeeded: max(-32, min(31, wrapped)) + 32)
                    if j < 8 { packed.storeBytes(of: l & 0x0F, toByteOffset: j, as: UInt8.self) } else { or(j - 8, (l & 0x0F) &<< 4) }
                    or(8 + j % 4, (l >> 4) &<< (2 * (j / 4)))
                }
                finite = storeF16(block, 108, 1 / iscale)
            } else {
                storeF16(block, 108, 0)
            }
            let d = loadF16(block, 108)
            for j in 0..<16 {
                let low = j < 8 ? packed.load(fromByteOffset: j, as: UInt8.self) & 0x0F : packed.load(fromByteOffset: j - 8, as: UInt8.self) >> 4
                let high = (packed.load(fromByteOffset: 8 + j % 4, as: UInt8.self) >> (2 * (j / 4))) & 3
                let sc = Int(low | high &<< 4) - 32
                let dj = d * Float(sc)
                if dj == 0 { continue }
                for i in 0..<16 {
                    L[16 &* j &+ i] = Int8(truncatingIfNeeded: max(-4, min(3, nearestInt(x[16 &* j &+ i] / dj))) + 4)
                }
            }
            for j in 0..<32 { block.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
            var m = 0
            var hm: UInt8 = 1
            for j in 0..<256 {
                if L[j] > 3 {
                    block.storeBytes(of: block.load(fromByteOffset: m, as: UInt8.self) | hm, toByteOffset: m, as: UInt8.self)
                    L[j] -= 4
                }
                m += 1
                if m == 32 {
                    m = 0
                    hm &<<= 1
                }
            }
            buffer.withMemoryRebound(to: UInt8.self) { packL in packTwoBitQuants(packL.baseAddress!, into: block + 32) }
            return finite
        }
    }
}
