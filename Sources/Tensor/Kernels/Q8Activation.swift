/// Activations quantized to 8 bits, as ggml quantizes them before every product with a quantized
/// weight (its `vec_dot_type`): the input of ``QuantizedMatVec``.
///
/// One quantization serves every matrix that reads the same input (q, k and v; gate and up), so
/// it is done once per input, not once per product.
///
/// Layout, for `rows` rows of `count` values each (row-major throughout):
/// - `qs`: the Int8 quants, `count` per row;
/// - `scales`: one Float per block (32 values for Q8_0/Q8_1, 256 for Q8_K): ggml's `d`, already
///   rounded to Float16 for Q8_0/Q8_1 as ggml stores it;
/// - `sums`: the Int32 sum of the quants of each block of 32 (Q8_0/Q8_1) or of each 16 (Q8_K, ggml's
///   `bsums`);
/// - `sums32` (Q8_K only): the sums of each 32 quants, eight per block: Q4_K's mins multiply them,
///   as ggml's pairwise-added `bsums`.
/// - `minScales` (Q8_1 only): ggml's `s = d · Σq` rounded to Float16, per block of 32.
/// - `pairs`: the same quants once more, three `SIMD16<Int16>` per 32 values, in the form the
///   kernels multiply (``QuantizedMatVec``): the 16 even-indexed quants, the 16 odd-indexed ones
///   (lane i holding quants 2i and 2i + 1), and, as the bits of a `SIMD8<Int32>`, 8 · Σ of quants
///   4l..4l+3 in lane l: what Q4_0's −8 offset subtracts from each of its lanes (Q8_0 format
///   only; zero in the others, whose kernels do not read it). Splitting once
///   per input instead of once per weight row takes a quarter of the per-block operations out of
///   the 32-value kernels.
///
/// Memory only grows; after the first product of each size nothing is allocated.
public final class Q8Activation {
    /// The 8-bit format, after the weight type it is multiplied with.
    public enum Format: Sendable, Hashable {
        /// Blocks of 32, a Float16 scale (Q4_0, Q5_0, Q8_0 weights).
        case q8_0
        /// Q8_0 plus each block's scaled sum as Float16 (Q4_1, Q5_1 weights).
        case q8_1
        /// Blocks of 256 with a Float scale and sums of each 16 (the K-quants).
        case q8_K

        /// The format ggml pairs with weights of `type`, or `nil` for F32/F16/BF16 weights.
        public init?(weightType type: ElementType) {
            switch type {
            case .q4_0, .q5_0, .q8_0: self = .q8_0
            case .q4_1, .q5_1: self = .q8_1
            case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: self = .q8_K
            case .f32, .f16, .bf16: return nil
            }
        }

        /// Values per block.
        public var blockSize: Int { self == .q8_K ? 256 : 32 }
    }

    public private(set) var format: Format = .q8_0
    /// Values per row.
    public private(set) var count = 0
    /// Rows held.
    public private(set) var rows = 0

    public private(set) var qs: UnsafeMutablePointer<Int8>
    public private(set) var scales: UnsafeMutablePointer<Float>
    public private(set) var sums: UnsafeMutablePointer<Int32>
    public private(set) var minScales: UnsafeMutablePointer<Float>
    public private(set) var pairs: UnsafeMutablePointer<SIMD16<Int16>>
    public private(set) var sums32: UnsafeMutablePointer<Int32>
    private var capacity = 0

    public init() {
        qs = .allocate(capacity: 64)
        scales = .allocate(capacity: 2)
        sums = .allocate(capacity: 4)
        minScales = .allocate(capacity: 2)
        pairs = .allocate(capacity: 6)
        sums32 = .allocate(capacity: 2)
        capacity = 64
    }

    deinit {
        qs.deallocate()
        scales.deallocate()
        sums.deallocate()
        minScales.deallocate()
        pairs.deallocate()
        sums32.deallocate()
    }

    /// Quantizes `rows` rows of `count` values from `x` (rows `count` apart) in `format`.
    /// - Throws: ``KernelError`` when `count` is not a whole number of blocks or sizes overflow.
    public func quantize(
        _ x: UnsafePointer<Float>, rows: Int, count: Int, format: Format
    ) throws(KernelError) {
        let block = format.blockSize
        guard count >= 0, count % block == 0 else { throw .invalidDimension(name: "count", value: count) }
        let (total, overflow) = rows.multipliedReportingOverflow(by: count)
        guard rows >= 0, !overflow, total <= Int.max / 8 else { throw .invalidDimension(name: "rows", value: rows) }
        reserve(total)
        self.format = format
        self.count = count
        self.rows = rows
        for r in 0..<rows {
            let src = x + r &* count
            let q = qs + r &* count
            switch format {
            case .q8_0, .q8_1:
                let b0 = r &* (count / 32)
                for b in 0..<count / 32 {
                    Self.quantizeQ8_0(src + b &* 32, q + b &* 32, scale: scales + (b0 &+ b), sum: sums + (b0 &+ b),
                                      minScale: minScales + (b0 &+ b))
                }
            case .q8_K:
                for b in 0..<count / 256 {
                    Self.quantizeQ8_K(src + b &* 256, q + b &* 256, scale: scales + (r &* (count / 256) &+ b),
                                      sums: sums + (r &* (count / 16) &+ b &* 16))
                }
                let sums16 = sums + r &* (count / 16), sums32 = self.sums32 + r &* (count / 32)
                for g in 0..<count / 32 { sums32[g] = sums16[2 &* g] &+ sums16[2 &* g &+ 1] }
            }
            Self.splitPairs(q, groups: count / 32, into: pairs + r &* (count / 32) &* 3, offsets: format == .q8_0)
        }
    }

    /// Fills `pairs` for `groups` groups of 32 quants at `q` (see the type's layout); the third
    /// vector of each group only with `offsets` (Q8_0, what Q4_0 pairs with; zero otherwise).
    @inline(__always)
    static func splitPairs(
        _ q: UnsafePointer<Int8>, groups: Int, into pairs: UnsafeMutablePointer<SIMD16<Int16>>, offsets: Bool
    ) {
        for g in 0..<groups {
            let x = UnsafeRawPointer(q + g &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let even = (x &<< 8) &>> 8, odd = x &>> 8
            pairs[g &* 3] = even
            pairs[g &* 3 &+ 1] = odd
            let eights = offsets ? QuantizedMatVec.madd(even &+ odd, SIMD16(repeating: 8)) : SIMD8()
            pairs[g &* 3 &+ 2] = unsafeBitCast(eights, to: SIMD16<Int16>.self)
        }
    }

    /// Makes room for `total` values (all rows).
    private func reserve(_ total: Int) {
        guard total > capacity else { return }
        qs.deallocate()
        scales.deallocate()
        sums.deallocate()
        minScales.deallocate()
        pairs.deallocate()
        sums32.deallocate()
        qs = .allocate(capacity: total)
        scales = .allocate(capacity: total / 32 + 1)
        sums = .allocate(capacity: total / 16 + 1)
        minScales = .allocate(capacity: total / 32 + 1)
        pairs = .allocate(capacity: total / 32 &* 3 + 3)
        sums32 = .allocate(capacity: total / 32 + 1)
        capacity = total
    }

    /// A rounded value as an Int8 quant: NaN (from a NaN activation) becomes 0, and the value is
    /// clamped to ±127 so the conversion can never trap.
    @inline(__always)
    static func quant(_ v: Float) -> Int8 {
        v.isNaN ? 0 : Int8(Swift.min(Swift.max(v, -127), 127))
    }

    /// ggml's x86 `quantize_row_q8_0` / `quantize_row_q8_1` for one block of 32: d = max|x| / 127
    /// stored as Float16, q = round(x · 127 / max|x|) to nearest even; for Q8_1 also
    /// s = Float16(d · Σq) with the unrounded d.
    @inline(__always)
    static func quantizeQ8_0(
        _ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<Float>,
        sum: UnsafeMutablePointer<Int32>, minScale: UnsafeMutablePointer<Float>
    ) {
        var amax: Float = 0
        for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
        let d = amax / 127
        let inverse: Float = amax != 0 ? 127 / amax : 0
        var s: Int32 = 0
        for j in 0..<32 {
            let v = quant((x[j] * inverse).rounded(.toNearestOrEven))
            q[j] = v
            s &+= Int32(v)
        }
        scale.pointee = Float(Float16(d))
        sum.pointee = s
        minScale.pointee = Float(Float16(d * Float(s)))
    }

    /// ggml's `quantize_row_q8_K_ref` for one block of 256: the value of largest magnitude maps
    /// to −127, d = 1/iscale kept as Float, q = min(127, round(iscale · x)); sums of each 16.
    @inline(__always)
    static func quantizeQ8_K(
        _ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<Float>,
        sums: UnsafeMutablePointer<Int32>
    ) {
        var amax: Float = 0, extreme: Float = 0
        for j in 0..<256 where abs(x[j]) > amax {
            amax = abs(x[j])
            extreme = x[j]
        }
        guard amax != 0 else {
            q.update(repeating: 0, count: 256)
            sums.update(repeating: 0, count: 16)
            scale.pointee = 0
            return
        }
        let iscale = -127 / extreme
        for j in 0..<256 { q[j] = quant(Swift.min(127, (iscale * x[j]).rounded(.toNearestOrEven))) }
        for g in 0..<16 {
            var s: Int32 = 0
            for j in 0..<16 { s &+= Int32(q[g &* 16 &+ j]) }
            sums[g] = s
        }
        scale.pointee = 1 / iscale
    }
}
