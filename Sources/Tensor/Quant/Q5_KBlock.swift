/// A Q5_K super-block: 256 weights in 176 bytes, eight sub-blocks of 32 weights with 6-bit scales
/// and mins, and 5-bit quants split into a nibble and a high bit.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 2 | `d`, f16 super-block scale |
/// | 2 | 2 | `dmin`, f16 super-block min scale |
/// | 4 | 12 | `scales`: eight 6-bit scales and eight 6-bit mins, packed as in ``Q4_KBlock`` |
/// | 16 | 32 | `qh`: bit `s` of byte `j` is the high bit of weight `j` of sub-block `s` |
/// | 48 | 128 | `qs`: low 4 bits, laid out as Q4_K's quants |
///
/// Weight = `(d * Float(scale)) * Float(q) - (dmin * Float(min))` in Float32, each product
/// rounded separately, as in the `gguf` reference.
package struct Q5_KBlock {
    /// Weights per block.
    package static let weightCount = 256
    /// Bytes per block.
    package static let byteCount = 176

    /// Decodes the block at `block` into `weightCount` floats at `destination`.
    package static func dequantize(_ block: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>) {
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        for s in 0..<8 {
            let (scale, min) = kQuantScaleMin(block + 4, s)
            let dl = d * Float(scale)
            let ml = dmin * Float(min)
            let qs = block + 48 + 32 * (s >> 1)
            let shift = UInt8(4 * (s & 1))
            let out = destination + 32 * s
            for j in 0..<32 {
                let low = (loadByte(qs, j) &>> shift) & 0x0F
                let high = (loadByte(block, 16 + j) &>> UInt8(s)) & 1
                out[j] = dl * Float(low | high << 4) - ml
            }
        }
    }
}

extension Q5_KBlock {
    /// Encodes the 256 values at `x` as one block at `block`, as ggml's `quantize_row_q5_K_ref`
    /// (``quantizeKSuperBlock(_:into:nmax:rmin:nstep:_:)`` with quants 0...31; low nibbles packed two
    /// sub-blocks to 32 bytes, fifth bits into `qh`). Returns false when `d` or `dmin` overflows
    /// Float16.
    package static func quantize(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { L in
            let finite = quantizeKSuperBlock(x, into: block, nmax: 31, rmin: -0.5, nstep: 15, L.baseAddress!)
            for j in 0..<32 { block.storeBytes(of: 0, toByteOffset: 16 + j, as: UInt8.self) }
            var m1: UInt8 = 1, m2: UInt8 = 2
            for n in stride(from: 0, to: 256, by: 64) {
                for j in 0..<32 {
                    var l1 = L[n + j], l2 = L[n + j + 32]
                    var qh = block.load(fromByteOffset: 16 + j, as: UInt8.self)
                    if l1 > 15 { l1 -= 16; qh |= m1 }
                    if l2 > 15 { l2 -= 16; qh |= m2 }
                    block.storeBytes(of: qh, toByteOffset: 16 + j, as: UInt8.self)
                    block.storeBytes(of: l1 | l2 &<< 4, toByteOffset: 48 + n / 2 + j, as: UInt8.self)
                }
                m1 &<<= 2
                m2 &<<= 2
            }
            return finite
        }
    }
}
