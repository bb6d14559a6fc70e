import CIntrinsics

/// Matrix × vector on quantized weights with an 8-bit activation (``Q8Activation``): ggml's
/// `vec_dot_*_q8_*` arithmetic. Each block's product is an exact integer dot product of the weight
/// quants and the activation quants, scaled by the product of the two block scales in Float, so
/// the result equals a Float dot product of the dequantized weights with the dequantized
/// activation up to the order of the Float additions.
///
/// Vectorisation: every kernel works on groups of 32 values as `SIMD16<Int16>` with same-type
/// operations (loads, shifts, masks, `&*`, `&+`), which compile to ymm instructions. Each Int16
/// lane holds one even-indexed and one odd-indexed value: the weight's are split out of its bytes,
/// the activation's come pre-split (``Q8Activation``'s `pairs`, once per input). Products reach
/// Int32 through ``madd(_:_:)``, one `vpmaddwd` (an inline C function: Swift's own spelling of it
/// did not survive LLVM inside the kernels, see `CIntrinsics.h`): the 32-value
/// formats madd weights with activations directly; the K-quants first form Int16 products and
/// madd them with their sub-block scales, as ggml's AVX2 kernels do. Every kernel's Int32 lanes
/// hold the same integers as ggml's AVX2 `vec_dot` lanes, and the Float accumulation follows its
/// order, so results are bit-identical to it. Other SIMD element-type conversions (from 8-bit
/// lanes, and SIMD32 of 8-bit lanes) compile to calls or scalar loops and are avoided; Swift has
/// no `vpmaddubsw`.
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

    /// How far ahead of the block being read the kernels prefetch: 2 KiB, past the next 4 KiB page
    /// boundary often enough that the hardware prefetcher's restart there no longer stalls
    /// (in a Q4_0 micro-benchmark 2 KiB beat 256 B, 512 B and 1 KiB).
    static let prefetchDistance = 2048

    /// Prefetches `lines` cache lines starting ``prefetchDistance`` bytes past `block`. Addresses past
    /// the matrix are harmless: a prefetch never faults.
    ///
    /// Every 64-byte line must get one: the kernels prefetch at most 64 bytes apart (Q4_0 every
    /// second 18-byte block; every fourth, 72 bytes apart, left one line in nine to the hardware
    /// and decoded 7–10 % slower).
    @inline(__always)
    static func prefetch(_ block: UnsafeRawPointer, lines: Int = 1) {
        for l in 0..<lines { sparrow_prefetch(block + (prefetchDistance &+ l &* 64)) }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// ggml's `hsum_float_8`: (l0+l4, l1+l5, l2+l6, l3+l7), then pairs, in its order, so the Float
    /// result is bit-identical to llama.cpp's.
    @inline(__always)
    static func hsum8(_ v: SIMD8<Float>) -> Float {
        let r0 = v[4] + v[0], r1 = v[5] + v[1], r2 = v[6] + v[2], r3 = v[7] + v[3]
        return (r0 + r2) + (r1 + r3)
    }

    /// `vpmaddwd`: lane l = a[2l]·b[2l] + a[2l+1]·b[2l+1] in Int32 (``sparrow_madd``, where the
    /// header says why this one operation is not written in Swift). Exact for every input the
    /// kernels produce: it only wraps for 2·(−2¹⁵)².
    @inline(__always)
    static func madd(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
        sparrow_madd(a, b)
    }

    /// The eight bytes of `packed` (little-endian) as eight Int32 lanes, zero-extended: one
    /// `vpmovzxbd`, which LLVM recognises in this shift-and-mask form.
    @inline(__always)
    static func bytes32(_ packed: UInt64) -> SIMD8<Int32> {
        let low = SIMD4(repeating: UInt32(truncatingIfNeeded: packed))
        let high = SIMD4(repeating: UInt32(truncatingIfNeeded: packed &>> 32))
        let v = (SIMD8(lowHalf: low, highHalf: high) &>> SIMD8<UInt32>(0, 8, 16, 24, 0, 8, 16, 24)) & 0xFF
        return unsafeBitCast(v, to: SIMD8<Int32>.self)
    }

    /// Byte `k` of `packed` in every lane.
    @inline(__always)
    static func splat(byte k: Int, of packed: UInt64) -> SIMD16<Int16> {
        SIMD16(repeating: Int16(truncatingIfNeeded: (packed &>> (8 &* UInt64(k))) & 0xFF))
    }

    /// A 4-bit block's 16 bytes as nibble pairs in ggml's order (`bytes_from_nibbles_32`): lanes 0–7
    /// hold the low nibbles of bytes 2i and 2i+1, lanes 8–15 the high ones, each pair split into the
    /// even byte's nibble and the odd byte's, matching ``Q8Activation``'s `pairs`.
    ///
    /// The 16 bytes go to both halves of a 256-bit vector and the upper half is shifted by 4 as
    /// 32-bit lanes (`vpsrlvd`): bits crossing into a lane's top nibble are masked off. Written as
    /// two 128-bit halves, LLVM pushed the later shift by 8 into each half and built the odd
    /// nibbles with four extra instructions; this form is five instructions and measured 13 %
    /// faster on Q4_0.
    @inline(__always)
    static func nibbles(_ qs: UnsafeRawPointer) -> (even: SIMD16<Int16>, odd: SIMD16<Int16>) {
        let w = qs.loadUnaligned(as: SIMD4<UInt32>.self)
        let shifted = SIMD8<UInt32>(lowHalf: w, highHalf: w) &>> SIMD8<UInt32>(0, 0, 0, 0, 4, 4, 4, 4)
        let n = unsafeBitCast(shifted, to: SIMD16<Int16>.self)
        return (n & 0x000F, (n &>> 8) & 0x000F)
    }

    /// Q4_0 · Q8_0 in the float order of ggml's AVX2 `ggml_vec_dot_q4_0_q8_0`: per block, eight
    /// lanes of four products of (nibble − 8)·x, d_w·d_x fused into each lane, then `hsum_float_8`.
    /// Lane l madds products 4l, 4l+2 (even) and 4l+1, 4l+3 (odd); the −8 comes off as 8·Σx over
    /// the lane's four values (``Q8Activation``'s third pair vector): integers, so the lanes are
    /// exactly ggml's.
    @inline(__always)
    static func q4_0Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let block = row + b &* 18
            if b & 1 == 0 { prefetch(block) }
            let (we, wo) = nibbles(block + 2)
            let xp = x.pairs + b &* 3
            let p = madd(we, xp[0]) &+ madd(wo, xp[1]) &- unsafeBitCast(xp[2], to: SIMD8<Int32>.self)
            acc = acc.addingProduct(SIMD8(repeating: half(block) * x.scales[b]), SIMD8<Float>(p))
        }
        return hsum8(acc)
    }

    /// Q4_1 · Q8_1 in the float order of ggml's AVX2 `ggml_vec_dot_q4_1_q8_1`: the same eight lanes
    /// of four products (unsigned nibbles), d_w·d_x fused into each lane, then `hsum_float_8` plus the
    /// separately summed m_w·s_x, s_x = Float16(d·Σq).
    ///
    /// The order matters beyond rounding: every product's output is re-quantized to 8 bits before
    /// the next one, so a last-bit difference can flip a quant and grow through the layers.
    @inline(__always)
    static func q4_1Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var mins: Float = 0
        for b in 0..<blocks {
            let block = row + b &* 20
            if b & 1 == 0 { prefetch(block) }
            let (we, wo) = nibbles(block + 4)
            let xp = x.pairs + b &* 3
            let p = madd(we, xp[0]) &+ madd(wo, xp[1])
            acc = acc.addingProduct(SIMD8(repeating: half(block) * x.scales[b]), SIMD8<Float>(p))
            mins += half(block, 2) * x.minScales[b]
        }
        return hsum8(acc) + mins
    }

    /// Q8_0 · Q8_0 in the float order of ggml's AVX2 `ggml_vec_dot_q8_0_q8_0`: eight lanes of four
    /// consecutive products per block, d_w·d_x fused into each lane, then `hsum_float_8`.
    @inline(__always)
    static func q8_0Row(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let block = row + b &* 34
            prefetch(block)
            let w = (block + 2).loadUnaligned(as: SIMD16<Int16>.self)
            let xp = x.pairs + b &* 3
            let p = madd((w &<< 8) &>> 8, xp[0]) &+ madd(w &>> 8, xp[1])
            acc = acc.addingProduct(SIMD8(repeating: half(block) * x.scales[b]), SIMD8<Float>(p))
        }
        return hsum8(acc)
    }

    /// Q4_K · Q8_K in the order of ggml's AVX2 `ggml_vec_dot_q4_K_q8_K`: per super-block,
    /// d·d_x·Σ_s scale_s·(q·x)_s into eight Float lanes and −dmin·d_x·Σ_s min_s·(Σx)_s into four,
    /// then `hsum_float_8` of the first plus the four summed pairwise.
    ///
    /// The eight 6-bit scales and mins are unpacked once per super-block with ggml's 32-bit masks
    /// (``q4_KScalesAndMins(_:)``). Sub-blocks 2·pair (low nibbles) and 2·pair + 1 (high nibbles)
    /// share 32 bytes of quants; their Int16 lanes hold two products (≤ 2·15·127) and are madded
    /// with the sub-block's scale, which makes lane l scale·(products 4l..4l+3): ggml's lanes.
    @inline(__always)
    static func q4_KRow(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc = SIMD8<Float>(), accMins = SIMD4<Float>()
        for b in 0..<blocks {
            let block = row + b &* 144
            prefetch(block, lines: 3)
            let qs = block + 16
            let xp = x.pairs + b &* 24
            let (packedScales, packedMins) = q4_KScalesAndMins(block + 4)
            // ggml's four min lanes, lane k = min_2k·(Σx)_2k + min_2k+1·(Σx)_2k+1.
            let products = bytes32(packedMins) &* UnsafeRawPointer(x.sums32 + b &* 8).loadUnaligned(as: SIMD8<Int32>.self)
            let minTerms = products.evenHalf &+ products.oddHalf
            accMins = accMins.addingProduct(SIMD4(repeating: -x.scales[b] * half(block, 2)), SIMD4<Float>(minTerms))
            var sumi = SIMD8<Int32>()
            for pair in 0..<4 {
                let q = (qs + pair &* 32).loadUnaligned(as: SIMD16<Int16>.self)
                let lo = q & 0x0F0F, hi = (q &>> 4) & 0x0F0F
                let x0 = xp + pair &* 6, x1 = x0 + 3
                let p0 = (lo & 0x000F) &* x0[0] &+ (lo &>> 8) &* x0[1]
                let p1 = (hi & 0x000F) &* x1[0] &+ (hi &>> 8) &* x1[1]
                sumi &+= madd(p0, splat(byte: 2 &* pair, of: packedScales))
                    &+ madd(p1, splat(byte: 2 &* pair &+ 1, of: packedScales))
            }
            acc = acc.addingProduct(SIMD8(repeating: x.scales[b] * half(block)), SIMD8<Float>(sumi))
        }
        return hsum8(acc) + ((accMins[0] + accMins[2]) + (accMins[1] + accMins[3]))
    }

    /// The eight 6-bit scales and mins of a Q4_K (or Q5_K) super-block from its 12 packed bytes
    /// (the layout on ``Q4_KBlock``), as ggml's `kmask` arithmetic unpacks them: byte s of `scales`
    /// and of `mins` belongs to sub-block s.
    @inline(__always)
    static func q4_KScalesAndMins(_ packed: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
        let w0 = packed.loadUnaligned(as: UInt32.self)
        let w1 = packed.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let w2 = packed.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        // Sub-blocks 0–3: the low 6 bits of bytes 0–3 (scales) and 4–7 (mins). Sub-blocks 4–7: the
        // nibbles of bytes 8–11, topped with the high 2 bits of bytes 0–3 (scales) and 4–7 (mins).
        let scalesLow = w0 & 0x3F3F_3F3F, minsLow = w1 & 0x3F3F_3F3F
        let scalesHigh = (w2 & 0x0F0F_0F0F) | (((w0 &>> 6) & 0x0303_0303) &<< 4)
        let minsHigh = ((w2 &>> 4) & 0x0F0F_0F0F) | (((w1 &>> 6) & 0x0303_0303) &<< 4)
        return (UInt64(scalesLow) | UInt64(scalesHigh) &<< 32, UInt64(minsLow) | UInt64(minsHigh) &<< 32)
    }

    /// Q6_K · Q8_K in the order of ggml's AVX2 `ggml_vec_dot_q6_K_q8_K`: per super-block,
    /// d·d_x·Σ_g scale_g·((u − 32)·x)_g into eight Float lanes, then `hsum_float_8`; u are the
    /// unsigned 6-bit values, sixteen sub-blocks of 16 with one scale each.
    ///
    /// Each half of the block (128 values) has 64 bytes of low nibbles `ql` and 32 bytes of high
    /// bit pairs `qh`; group t of 32 values takes the low or high nibbles of `ql[0..<32]` or
    /// `ql[32..<64]` and bits 2t..2t+1 of `qh`.
    @inline(__always)
    static func q6_KRow(_ row: UnsafeRawPointer, _ x: Q8Activation.RowView, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let block = row + b &* 210
            prefetch(block, lines: 4)
            // The sixteen Int8 scales, sign-extended: scale 2k in lane k of `even`, 2k + 1 in `odd`.
            let packed = (block + 192).loadUnaligned(as: SIMD8<Int16>.self)
            let even = (packed &<< 8) &>> 8, odd = packed &>> 8
            let xp = x.pairs + b &* 24
            let sumi = q6_KHalf(block, xp, even, odd, 0) &+ q6_KHalf(block, xp, even, odd, 1)
            acc = acc.addingProduct(SIMD8(repeating: x.scales[b] * half(block, 208)), SIMD8<Float>(sumi))
        }
        return hsum8(acc)
    }

    /// Half `h` of a Q6_K block (128 values, sub-blocks 8h..<8h+8). A function called with constant
    /// `h` rather than a loop: LLVM kept the loop and spilled the scales to the stack to index them.
    @inline(__always)
    static func q6_KHalf(
        _ block: UnsafeRawPointer, _ xp: UnsafePointer<SIMD16<Int16>>, _ even: SIMD8<Int16>, _ odd: SIMD8<Int16>,
        _ h: Int
    ) -> SIMD8<Int32> {
        let l0 = (block + 64 &* h).loadUnaligned(as: SIMD16<Int16>.self)
        let l1 = (block + (64 &* h &+ 32)).loadUnaligned(as: SIMD16<Int16>.self)
        let hb = (block + (128 &+ 32 &* h)).loadUnaligned(as: SIMD16<Int16>.self)
        let u0 = (l0 & 0x0F0F) | ((hb & 0x0303) &<< 4)
        let u1 = (l1 & 0x0F0F) | ((hb & 0x0C0C) &<< 2)
        let u2 = ((l0 &>> 4) & 0x0F0F) | (hb & 0x3030)
        let u3 = ((l1 &>> 4) & 0x0F0F) | ((hb &>> 2) & 0x3030)
        let xh = xp + 12 &* h, s = 4 &* h
        return (q6_KGroup(u0, xh, even[s], odd[s]) &+ q6_KGroup(u1, xh + 3, even[s &+ 1], odd[s &+ 1]))
            &+ (q6_KGroup(u2, xh + 6, even[s &+ 2], odd[s &+ 2]) &+ q6_KGroup(u3, xh + 9, even[s &+ 3], odd[s &+ 3]))
    }

    /// One group of 32 six-bit values u (two sub-blocks of 16, scales `first` and `second`) times
    /// its activations (`xp`: the group's pair vectors). The −32 comes off each value before the
    /// products, so an Int16 lane holds two products of at most 32·127, as ggml's
    /// `maddubs(u, x) − maddubs(32, x)`; the madd with the scales then gives ggml's lanes.
    @inline(__always)
    static func q6_KGroup(
        _ u: SIMD16<Int16>, _ xp: UnsafePointer<SIMD16<Int16>>, _ first: Int16, _ second: Int16
    ) -> SIMD8<Int32> {
        let p = ((u & 0x003F) &- 32) &* xp[0] &+ ((u &>> 8) &- 32) &* xp[1]
        return madd(p, SIMD16(lowHalf: SIMD8(repeating: first), highHalf: SIMD8(repeating: second)))
    }
}

extension Q8Activation {
    /// One row's quants, scales and sums, for the kernels.
    public struct RowView {
        public let qs: UnsafePointer<Int8>
        public let scales: UnsafePointer<Float>
        public let sums: UnsafePointer<Int32>
        public let minScales: UnsafePointer<Float>
        /// Q8_K only: the sums of each 32 quants (eight per block of 256).
        public let sums32: UnsafePointer<Int32>
        /// Three pair vectors per 32 values (see ``Q8Activation``).
        public let pairs: UnsafePointer<SIMD16<Int16>>
    }

    /// Row `row`'s view (the caller checks `row < rows`).
    public func view(row: Int) -> RowView {
        let blocks = count / format.blockSize
        let sumsPerRow = format == .q8_K ? count / 16 : count / 32
        return RowView(qs: qs + row &* count, scales: scales + row &* blocks, sums: sums + row &* sumsPerRow,
                       minScales: minScales + row &* (count / 32), sums32: sums32 + row &* (count / 32), pairs: pairs + row &* (count / 32) &* 3)
    }
}
