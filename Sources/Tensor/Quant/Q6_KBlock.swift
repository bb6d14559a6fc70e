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
package struct Q6_KBlock {
    /// Weights per block.
    package static let weightCount = 256
    /// Bytes per block.
    package static let byteCount = 210

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
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

extension Q6_KBlock {
    /// Encodes the 256 values at `x` as one block at `block`, as ggml's `quantize_row_q6_K_ref`: a
    /// scale per 16 values from ``makeQXQuants(_:_:_:_:)``, those scales as Int8 multiples of `d`
    /// (the largest at −128), then every value quantized again (−32...31) against the stored
    /// scales. Returns false when `d` overflows Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { L in
            var scales = InlineArray<16, Float>(repeating: 0)
            var maxScale: Float = 0, maxAbsScale: Float = 0
            for ib in 0..<16 {
                let scale = makeQXQuants(16, 32, x + 16 &* ib, L.baseAddress! + 16 &* ib)
                scales[ib] = scale
                if abs(scale) > maxAbsScale {
                    maxAbsScale = abs(scale)
                    maxScale = scale
                }
            }
            if maxAbsScale < 1e-15 {  // ggml's GROUP_MAX_EPS: an all-zero block
                for j in 0..<byteCount { block.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
                return true
            }
            let iscale = -128 / maxScale
            let finite = storeF16(block, 208, 1 / iscale)
            for ib in 0..<16 {
                block.storeBytes(of: Int8(truncatingIfNeeded: min(127, nearestInt(iscale * scales[ib]))),
                                 toByteOffset: 192 + ib, as: Int8.self)
            }
            let d = loadF16(block, 208)
            for j in 0..<16 {
                let dj = d * Float(block.load(fromByteOffset: 192 + j, as: Int8.self))
                if dj == 0 { continue }
                for i in 0..<16 {
                    L[16 &* j &+ i] = Int8(truncatingIfNeeded: max(-32, min(31, nearestInt(x[16 &* j &+ i] / dj))) + 32)
                }
            }
            for j in stride(from: 0, to: 256, by: 128) {
                let ql = j / 2, qh = 128 + j / 4
                for l in 0..<32 {
                    let q1 = UInt8(bitPattern: L[j + l]), q2 = UInt8(bitPattern: L[j + l + 32])
                    let q3 = UInt8(bitPattern: L[j + l + 64]), q4 = UInt8(bitPattern: L[j + l + 96])
                    block.storeBytes(of: (q1 & 0x0F) | (q3 & 0x0F) &<< 4, toByteOffset: ql + l, as: UInt8.self)
                    block.storeBytes(of: (q2 & 0x0F) | (q4 & 0x0F) &<< 4, toByteOffset: ql + 32 + l, as: UInt8.self)
                    block.storeBytes(of: (q1 >> 4) | (q2 >> 4) &<< 2 | (q3 >> 4) &<< 4 | (q4 >> 4) &<< 6,
                                     toByteOffset: qh + l, as: UInt8.self)
                }
            }
            return finite
        }
    }
}
