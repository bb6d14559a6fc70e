/// Matrix × vector on quantized weights with an 8-bit activation (``Q8Activation``): ggml's
/// `vec_dot_*_q8_*` arithmetic. Each block's product is an exact integer dot product of the weight
/// quants and the activation quants, scaled by the product of the two block scales in Float, so
/// the result equals a Float dot product of the dequantized weights with the dequantized
/// activation up to the order of the Float additions.
///
/// Vectorisation: every block's integer dot is a plain loop over bytes, widened to Int32 as
/// `Int32(UInt8) &* Int32(Int8)` (weights zero-extended, activations sign-extended). LLVM turns
/// these loops into `vpmovzxbw`/`vpmovsxbw` + `vpmaddwd` + `vpaddd` (AVX2; `vpdpwssd` where VNNI
/// exists) when built with `-target-cpu native`; SIMD-typed element conversions
/// (`SIMD16<Int16>(truncatingIfNeeded:)`) compile to calls instead and are avoided. Signed weight
/// values are kept unsigned in the loop and their offset (−8 for Q4_0, −32 for Q6_K) is applied
/// once per block from the activation's block sums. See BENCHMARKS.md for the assembly seen.
public enum QuantizedMatVec {
    /// Whether weights of `type` have an integer kernel here (others take ``MatVec``'s
    /// decode-and-dot path on rounded activations).
    public static func supports(_ type: ElementType) -> Bool {
        switch type {
        case .q4_0, .q4_1, .q8_0, .q4_K, .q6_K: return true
        default: return false
        }
    }

    /// y[r] = W[r]·x for r in `rows`, with x given quantized in `x.format` (which must be the one
    /// ``Q8Activation/Format/init(weightType:)`` gives for W's type) and row `xRow` of `x`.
    /// - Throws: ``KernelError`` when the type has no kernel here or a size doesn't match.
    public static func multiply(
        _ weights: Tensor, _ x: Q8Activation, xRow: Int = 0, into y: UnsafeMutablePointer<Float>, yCount: Int,
        rows: Range<Int>? = nil
    ) throws(KernelError) {
        let rows = rows ?? 0..<weights.rowCount
        guard supports(weights.type), Q8Activation.Format(weightType: weights.type) == x.format else {
            throw .unsupportedType(weights.type)
        }
        guard x.count == weights.rowLength, xRow >= 0, xRow < x.rows else {
            throw .lengthMismatch(operand: "x", expected: weights.rowLength, actual: x.count)
        }
        guard yCount == weights.rowCount else {
            throw .lengthMismatch(operand: "y", expected: weights.rowCount, actual: yCount)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= weights.rowCount else {
            throw .rowRangeOutOfBounds(rows, rowCount: weights.rowCount)
        }
        guard !rows.isEmpty else { return }
        guard let w = weights.bytes.baseAddress, weights.rowLength > 0 else {
            for r in rows { y[r] = 0 }
            return
        }
        unsafeMultiply(type: weights.type, matrix: w, rowBytes: weights.rowBytes, rowLength: weights.rowLength,
                       x: x.view(row: xRow), y: y, rows: rows)
    }

    /// The unchecked core. The caller guarantees `type` is supported, `x` is in its format with
    /// `rowLength` values, and the matrix holds `rows.upperBound` rows of `rowBytes`.
    public static func unsafeMultiply(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int,
        x: Q8Activation.RowView, y: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        switch type {
        case .q4_0:
            let blocks = rowLength / 32
            for r in rows { y[r] = q4_0Row(matrix + r &* rowBytes, x, blocks: blocks) }
        case .q4_1:
            let blocks = rowLength / 32
            for r in rows { y[r] = q4_1Row(matrix + r &* rowBytes, x, blocks: blocks) }
        case .q8_0:
            let blocks = rowLength / 32
            for r in rows { y[r] = q8_0Row(matrix + r &* rowBytes, x, blocks: blocks) }
        case .q4_K:
            let blocks = rowLength / 256
            for r in rows { y[r] = q4_KRow(matrix + r &* rowBytes, x, blocks: blocks) }
        case .q6_K:
            let blocks = rowLength / 256
            for r in rows { y[r] = q6_KRow(matrix + r &* rowBytes, x, blocks: blocks) }
        default:
            break
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Q4_0 · Q8_0: Σ_b d_w·d_x·(Σ q·x − 8·Σx), q the unsigned nibbles.
    @inline(__always)
    static func q4_0Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b &* 18
            let q = (block + 2).assumingMemoryBound(to: UInt8.self)
            let xq = x.qs + b &* 32
            var s: Int32 = 0
            for j in 0..<16 {
                let v = q[j]
                s &+= Int32(v & 0x0F) &* Int32(xq[j]) &+ Int32(v &>> 4) &* Int32(xq[j &+ 16])
            }
            acc += (half(block) * x.scales[b]) * Float(s &- 8 &* x.sums[b])
        }
        return acc
    }

    /// ggml's `hsum_float_8` on eight lane accumulators: (l0+l4, l1+l5, l2+l6, l3+l7), then
    /// pairs, in its order, so the Float result is bit-identical to llama.cpp's.
    @inline(__always)
    static func hsum8(_ a: UnsafeMutablePointer<Float>) -> Float {
        let r0 = a[4] + a[0], r1 = a[5] + a[1], r2 = a[6] + a[2], r3 = a[7] + a[3]
        return (r0 + r2) + (r1 + r3)
    }

    /// Q4_1 · Q8_1, in the float order of ggml's AVX2 `ggml_vec_dot_q4_1_q8_1`: eight lanes, lane l
    /// holding the integer sum of the four products 4l..4l+3 of a block (low nibbles first, then
    /// high), each block adding d_w·d_x·lane with a fused multiply-add; then `hsum_float_8` plus the
    /// separately summed m_w·s_x, s_x = Float16(d·Σq).
    ///
    /// The order matters beyond rounding: every product's output is re-quantized to 8 bits before
    /// the next one, so a last-bit difference can flip a quant and grow through the layers; matching
    /// ggml's order is what keeps greedy decoding on llama.cpp's tokens.
    @inline(__always)
    static func q4_1Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8) { lanes in
            let acc = lanes.baseAddress.unsafelyUnwrapped
            acc.update(repeating: 0, count: 8)
            var mins: Float = 0
            for b in 0..<blocks {
                let block = row + b &* 20
                let q = (block + 4).assumingMemoryBound(to: UInt8.self)
                let xq = x.qs + b &* 32
                let d = half(block) * x.scales[b]
                mins += half(block, 2) * x.minScales[b]
                for l in 0..<4 {
                    var s: Int32 = 0, t: Int32 = 0
                    for k in 0..<4 {
                        let v = q[4 &* l &+ k]
                        s &+= Int32(v & 0x0F) &* Int32(xq[4 &* l &+ k])
                        t &+= Int32(v &>> 4) &* Int32(xq[16 &+ 4 &* l &+ k])
                    }
                    acc[l] = acc[l].addingProduct(d, Float(s))
                    acc[l &+ 4] = acc[l &+ 4].addingProduct(d, Float(t))
                }
            }
            return hsum8(acc) + mins
        }
    }

    /// Q8_0 · Q8_0 in the float order of ggml's AVX2 `ggml_vec_dot_q8_0_q8_0`: eight lanes of four
    /// consecutive products per block, d_w·d_x·lane fused into each lane, then `hsum_float_8`.
    @inline(__always)
    static func q8_0Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8) { lanes in
            let acc = lanes.baseAddress.unsafelyUnwrapped
            acc.update(repeating: 0, count: 8)
            for b in 0..<blocks {
                let block = row + b &* 34
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                let xq = x.qs + b &* 32
                let d = half(block) * x.scales[b]
                for l in 0..<8 {
                    var s: Int32 = 0
                    for k in 0..<4 { s &+= Int32(q[4 &* l &+ k]) &* Int32(xq[4 &* l &+ k]) }
                    acc[l] = acc[l].addingProduct(d, Float(s))
                }
            }
            return hsum8(acc)
        }
    }

    /// Q4_K · Q8_K: per super-block d·d_x·Σ_s scale_s·(Σ q·x)_s − dmin·d_x·Σ_s min_s·(Σx)_s.
    @inline(__always)
    static func q4_KRow(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b &* 144
            let packed = block + 4
            let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
            let xq = x.qs + b &* 256
            let bsums = x.sums + b &* 16
            var sumi: Int32 = 0, summ: Int32 = 0
            for pair in 0..<4 {
                let q = qs + pair &* 32
                let x0 = xq + pair &* 64, x1 = x0 + 32
                var lo: Int32 = 0, hi: Int32 = 0
                for j in 0..<32 {
                    let v = q[j]
                    lo &+= Int32(v & 0x0F) &* Int32(x0[j])
                    hi &+= Int32(v &>> 4) &* Int32(x1[j])
                }
                let s0 = 2 &* pair, s1 = s0 &+ 1
                let (sc0, m0) = kQuantScaleMin(packed, s0)
                let (sc1, m1) = kQuantScaleMin(packed, s1)
                sumi &+= Int32(sc0) &* lo &+ Int32(sc1) &* hi
                summ &+= Int32(m0) &* (bsums[2 &* s0] &+ bsums[2 &* s0 &+ 1])
                    &+ Int32(m1) &* (bsums[2 &* s1] &+ bsums[2 &* s1 &+ 1])
            }
            let dx = x.scales[b]
            acc += (half(block) * dx) * Float(sumi) - (half(block, 2) * dx) * Float(summ)
        }
        return acc
    }

    /// Q6_K · Q8_K: per super-block d·d_x·Σ_s scale_s·(Σ u·x − 32·Σx)_s over the sixteen
    /// sub-blocks of 16, u the unsigned 6-bit values.
    @inline(__always)
    static func q6_KRow(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let block = row + b &* 210
            let ql = block.assumingMemoryBound(to: UInt8.self)
            let qh = ql + 128
            let scales = (block + 192).assumingMemoryBound(to: Int8.self)
            let xq = x.qs + b &* 256
            let bsums = x.sums + b &* 16
            var sumi: Int32 = 0
            for h in 0..<2 {
                let l = ql + 64 &* h, hb = qh + 32 &* h
                let xh = xq + 128 &* h
                // Four groups of 32 share the 32 bytes of qh: group t takes bits 2t..2t+1.
                var d0: Int32 = 0, d1: Int32 = 0, d2: Int32 = 0, d3: Int32 = 0
                var e0: Int32 = 0, e1: Int32 = 0, e2: Int32 = 0, e3: Int32 = 0
                for j in 0..<16 {
                    let a = l[j], c = l[j &+ 32], hh = hb[j]
                    d0 &+= Int32((a & 0x0F) | ((hh & 0x03) &<< 4)) &* Int32(xh[j])
                    d1 &+= Int32((c & 0x0F) | ((hh & 0x0C) &<< 2)) &* Int32(xh[j &+ 32])
                    d2 &+= Int32((a &>> 4) | (hh & 0x30)) &* Int32(xh[j &+ 64])
                    d3 &+= Int32((c &>> 4) | ((hh & 0xC0) &>> 2)) &* Int32(xh[j &+ 96])
                }
                for j in 16..<32 {
                    let a = l[j], c = l[j &+ 32], hh = hb[j]
                    e0 &+= Int32((a & 0x0F) | ((hh & 0x03) &<< 4)) &* Int32(xh[j])
                    e1 &+= Int32((c & 0x0F) | ((hh & 0x0C) &<< 2)) &* Int32(xh[j &+ 32])
                    e2 &+= Int32((a &>> 4) | (hh & 0x30)) &* Int32(xh[j &+ 64])
                    e3 &+= Int32((c &>> 4) | ((hh & 0xC0) &>> 2)) &* Int32(xh[j &+ 96])
                }
                // Sub-block s = 8h + 2t (first 16 of group t) and 8h + 2t + 1 (last 16).
                let s = 8 &* h
                let bs = bsums + s
                sumi &+= Int32(scales[s]) &* (d0 &- 32 &* bs[0]) &+ Int32(scales[s &+ 1]) &* (e0 &- 32 &* bs[1])
                sumi &+= Int32(scales[s &+ 2]) &* (d1 &- 32 &* bs[2]) &+ Int32(scales[s &+ 3]) &* (e1 &- 32 &* bs[3])
                sumi &+= Int32(scales[s &+ 4]) &* (d2 &- 32 &* bs[4]) &+ Int32(scales[s &+ 5]) &* (e2 &- 32 &* bs[5])
                sumi &+= Int32(scales[s &+ 6]) &* (d3 &- 32 &* bs[6]) &+ Int32(scales[s &+ 7]) &* (e3 &- 32 &* bs[7])
            }
            acc += (half(block, 208) * x.scales[b]) * Float(sumi)
        }
        return acc
    }
}

extension Q8Activation {
    /// One row's quants, scales and sums, for the kernels.
    public struct RowView {
        public let qs: UnsafePointer<Int8>
        public let scales: UnsafePointer<Float>
        public let sums: UnsafePointer<Int32>
        public let minScales: UnsafePointer<Float>
    }

    /// Row `row`'s view (the caller checks `row < rows`).
    public func view(row: Int) -> RowView {
        let blocks = count / format.blockSize
        let sumsPerRow = format == .q8_K ? count / 16 : count / 32
        return RowView(qs: qs + row &* count, scales: scales + row &* blocks, sums: sums + row &* sumsPerRow,
                       minScales: minScales + row &* (count / 32))
    }
}
