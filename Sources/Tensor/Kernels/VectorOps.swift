/// Float vector primitives shared by the kernels.
///
/// Float sums don't auto-vectorise (LLVM may not reassociate them), so the reductions here keep
/// explicit `SIMD16<Float>` accumulators: 16 lanes is one AVX-512 register, four AVX2 ones.
/// Multiply and add stay separate operations: `addingProduct` becomes a per-lane `fmaf` call
/// when the build doesn't enable FMA.
package enum VectorOps {
    /// Σ w[i]·x[i] for `count` Floats at `w` (any alignment: F32 rows of a mapped safetensors file
    /// need not be 4-byte aligned) and `x`. Checks nothing.
    @inline(__always)
    static func unsafeDot(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        let xr = UnsafeRawPointer(x)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        // Two independent accumulators hide the add latency.
        while i &+ 32 <= n {
            let o = i &* 4
            acc0 += w.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                * xr.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
            acc1 += w.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<Float>.self)
                * xr.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<Float>.self)
            i &+= 32
        }
        if i &+ 16 <= n {
            let o = i &* 4
            acc0 += w.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                * xr.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
            i &+= 16
        }
        var tail: Float = 0
        while i < n {
            tail += w.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) * x[i]
            i &+= 1
        }
        return (acc0 + acc1).sum() + tail
    }

    /// Σ x[i]² for `count` Floats. Checks nothing.
    @inline(__always)
    static func unsafeSumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        unsafeDot(UnsafeRawPointer(x), x, count: n)
    }
}
