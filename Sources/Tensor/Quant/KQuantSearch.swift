// The searches ggml's K-quant reference quantizers run for each sub-block (`make_qkx2_quants`,
// `make_qx_quants`, `nearest_int` in ggml-quants.c), with the same Float32 operations in the same
// order, so that the chosen quants and scales are the same bits. ggml builds these functions for
// baseline x86-64 (SSE), so nothing in them is fused into a multiply-add; Swift does not fuse either.

/// ggml's `nearest_int`: `v` rounded to nearest even through the float add of 1.5·2²³, valid for
/// |v| < 2²²; outside that (never reached from finite inputs) the low mantissa bits still give an
/// integer rather than a trap.
@inline(__always)
func nearestInt(_ v: Float) -> Int {
    let shifted = v + 12_582_912
    return Int(shifted.bitPattern & 0x007F_FFFF) - 0x0040_0000
}

/// ``signedAbsMax(_:_:)``, or nil when its magnitude is below ggml's `GROUP_MAX_EPS` (1e-15): an
/// all-zero group, which the searches below quantize to zeros.
@inline(__always)
func nonZeroSignedAbsMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float? {
    let max = signedAbsMax(x, n)
    return abs(max) < 1e-15 ? nil : max
}

/// ggml's `make_qkx2_quants`: quants in 0...nmax for the `n` values at `x`, with a scale and a
/// non-negative offset (`min`, returned negated as ggml does) chosen by a weighted least-squares
/// search over `nstep + 1` candidate scales. Writes the quants to `L`; returns (scale, −min).
func makeQKX2Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
    _ L: UnsafeMutablePointer<UInt8>, _ Laux: UnsafeMutablePointer<UInt8>,
    rmin: Float, rdelta: Float, nstep: Int, useMAD: Bool
) -> (scale: Float, negativeMin: Float) {
    var min = x[0], max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        if x[i] < min { min = x[i] }
        if x[i] > max { max = x[i] }
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    if min > 0 { min = 0 }
    if max == min {
        for i in 0..<n { L[i] = 0 }
        return (0, -min)
    }
    let top = Float(nmax)
    var iscale = top / (max - min)
    var scale = 1 / iscale
    var bestError: Float = 0
    for i in 0..<n {
        let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
        L[i] = UInt8(truncatingIfNeeded: l)
        var diff = scale * Float(l) + min - x[i]
        diff = useMAD ? abs(diff) : diff * diff
        bestError += weights[i] * diff
    }
    if nstep < 1 { return (scale, -min) }
    for step in 0...nstep {
        iscale = (rmin + rdelta * Float(step) + top) / (max - min)
        var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
        for i in 0..<n {
            let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
            Laux[i] = UInt8(truncatingIfNeeded: l)
            let w = weights[i], fl = Float(l)
            sumL += w * fl
            sumL2 += w * fl * fl
            sumXL += w * fl * x[i]
        }
        let D = sumW * sumL2 - sumL * sumL
        if D > 0 {
            var thisScale = (sumW * sumXL - sumX * sumL) / D
            var thisMin = (sumL2 * sumX - sumL * sumXL) / D
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<n {
                var diff = thisScale * Float(Laux[i]) + thisMin - x[i]
                diff = useMAD ? abs(diff) : diff * diff
                error += weights[i] * diff
            }
            if error < bestError {
                for i in 0..<n { L[i] = Laux[i] }
                bestError = error
                scale = thisScale
                min = thisMin
            }
        }
    }
    return (scale, -min)
}

/// ggml's `make_qx_quants` with `rmse_type` 1 and no importance weights (what the reference Q6_K
/// quantizer calls): symmetric quants in 0..<2·nmax (stored offset by `nmax`) for the `n` values at
/// `x`, weighted by x², the scale refined over 18 candidates around nmax / max. Writes the quants to
/// `L`; returns the scale.
func makeQXQuants(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
    guard let max = nonZeroSignedAbsMax(x, n) else {
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    let top = Float(nmax)
    var iscale = -top / max
    var sumLX: Float = 0, sumL2: Float = 0
    for i in 0..<n {
        let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
        L[i] = Int8(truncatingIfNeeded: l + nmax)
        let w = x[i] * x[i], fl = Float(l)
        sumLX += w * x[i] * fl
        sumL2 += w * fl * fl
    }
    var scale: Float = sumL2 != 0 ? sumLX / sumL2 : 0
    var best = scale * sumLX
    for step in -9...9 where step != 0 {
        iscale = -(top + 0.1 * Float(step)) / max
        sumLX = 0
        sumL2 = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
            let w = x[i] * x[i], fl = Float(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        if sumL2 > 0 && sumLX * sumLX > best * sumL2 {
            for i in 0..<n {
                L[i] = Int8(truncatingIfNeeded: nmax + Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i]))))
            }
            scale = sumLX / sumL2
            best = scale * sumLX
        }
    }
    return scale
}

/// ggml's `make_q3_quants` with `do_rmse`: symmetric quants (−nmax..<nmax, stored offset by
/// `nmax`) for the `n` values at `x`, weighted by x², improved by up to five passes that move single
/// quants while that raises the weighted fit. Writes the quants to `L`; returns the scale.
func makeQ3Quants(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
    guard let max = nonZeroSignedAbsMax(x, n) else {
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    let iscale = -Float(nmax) / max
    var sumLX: Float = 0, sumL2: Float = 0
    for i in 0..<n {
        let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
        L[i] = Int8(truncatingIfNeeded: l)
        let w = x[i] * x[i], fl = Float(l)
        sumLX += w * x[i] * fl
        sumL2 += w * fl * fl
    }
    for _ in 0..<5 {
        var changed = 0
        for i in 0..<n {
            let w = x[i] * x[i], current = Float(L[i])
            var slx = sumLX - w * x[i] * current
            if slx > 0 {
                var sl2 = sumL2 - w * current * current
                let newL = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(x[i] * sl2 / slx)))
                if newL != Int(L[i]) {
                    let fl = Float(newL)
                    slx += w * x[i] * fl
                    sl2 += w * fl * fl
                    if sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2 {
                        L[i] = Int8(truncatingIfNeeded: newL)
                        sumLX = slx
                        sumL2 = sl2
                        changed += 1
                    }
                }
            }
        }
        if changed == 0 { break }
    }
    for i in 0..<n { L[i] = Int8(truncatingIfNeeded: Int(L[i]) + nmax) }
    return sumLX / sumL2
}

/// Packs 2-bit quants (0...3) four to a byte as Q2_K and Q3_K store them: byte `j / 4 + l` of each
/// half of 128 holds quants `j + l`, `+ 32`, `+ 64` and `+ 96` at shifts 0, 2, 4 and 6.
@inline(__always)
func packTwoBitQuants(_ L: UnsafePointer<UInt8>, into qs: UnsafeMutableRawPointer) {
    for j in stride(from: 0, to: 256, by: 128) {
        for l in 0..<32 {
            let byte = L[j + l] | L[j + l + 32] &<< 2 | L[j + l + 64] &<< 4 | L[j + l + 96] &<< 6
            qs.storeBytes(of: byte, toByteOffset: j / 4 + l, as: UInt8.self)
        }
    }
}

/// Packs sub-block `j`'s 6-bit scale and min into Q4_K's and Q5_K's 12 scale bytes (the inverse of
/// ``kQuantScaleMin(_:_:)``).
@inline(__always)
func packKQuantScaleMin(_ scales: UnsafeMutableRawPointer, _ j: Int, scale: UInt8, min: UInt8) {
    func or(_ offset: Int, _ bits: UInt8) {
        scales.storeBytes(of: scales.load(fromByteOffset: offset, as: UInt8.self) | bits, toByteOffset: offset, as: UInt8.self)
    }
    if j < 4 {
        scales.storeBytes(of: scale, toByteOffset: j, as: UInt8.self)
        scales.storeBytes(of: min, toByteOffset: j + 4, as: UInt8.self)
    } else {
        scales.storeBytes(of: (scale & 0x0F) | (min & 0x0F) &<< 4, toByteOffset: j + 4, as: UInt8.self)
        or(j - 4, (scale >> 4) &<< 6)
        or(j, (min >> 4) &<< 6)
    }
}

/// The shared body of ggml's `quantize_row_q4_K_ref` and `quantize_row_q5_K_ref` for one
/// super-block of 256 values at `x`: per sub-block of 32, weights `sqrt(mean x²) + |x|` and
/// ``makeQKX2Quants``; the sub-block scales and mins as 6-bit multiples of `d` and `dmin`; then
/// every value quantized again against the stored scales. Writes `d`, `dmin` and the 12 scale bytes
/// at `block` and the quants (0...nmax) to `L`; returns false when `d` or `dmin` overflows Float16.
func quantizeKSuperBlock(
    _ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer, nmax: Int, rmin: Float, nstep: Int,
    _ L: UnsafeMutablePointer<UInt8>
) -> Bool {
    // Per sub-block: 8 scales, 8 mins, 32 weights (Float), and 32 candidate quants.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { floats in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { aux in
            quantizeKSuperBlock(x, into: block, nmax: nmax, rmin: rmin, nstep: nstep, L,
                                scales: floats.baseAddress!, Laux: aux.baseAddress!)
        }
    }
}

/// ``quantizeKSuperBlock(_:into:nmax:rmin:nstep:_:)`` with its scratch: `scales` holds 48 Floats
/// (scales, mins, weights), `Laux` 32 quants.
private func quantizeKSuperBlock(
    _ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer, nmax: Int, rmin: Float, nstep: Int,
    _ L: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>, Laux: UnsafeMutablePointer<UInt8>
) -> Bool {
    let mins = scales + 8, weights = scales + 16
    var maxScale: Float = 0, maxMin: Float = 0
    for j in 0..<8 {
        let sub = x + 32 &* j
        var sumX2: Float = 0
        for l in 0..<32 { sumX2 += sub[l] * sub[l] }
        let avX = (sumX2 / 32).squareRoot()
        for l in 0..<32 { weights[l] = avX + abs(sub[l]) }
        let (scale, min) = makeQKX2Quants(32, nmax, sub, weights, L + 32 &* j, Laux,
                                          rmin: rmin, rdelta: 0.1, nstep: nstep, useMAD: false)
        scales[j] = scale
        mins[j] = min
        if scale > maxScale { maxScale = scale }
        if min > maxMin { maxMin = min }
    }
    let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
    let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
    let packed = block + 4
    for j in 0..<12 { packed.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
    for j in 0..<8 {
        let ls = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j])))
        let lm = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j])))
        packKQuantScaleMin(packed, j, scale: ls, min: lm)
    }
    let finite = storeF16(block, 0, maxScale / 63) && storeF16(block, 2, maxMin / 63)
    let d = loadF16(block, 0), dmin = loadF16(block, 2)
    for j in 0..<8 {
        let (sc, m) = kQuantScaleMin(packed, j)
        let dj = d * Float(sc)
        if dj == 0 { continue }
        let dm = dmin * Float(m)
        for i in 0..<32 {
            L[32 &* j &+ i] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, nearestInt((x[32 &* j &+ i] + dm) / dj))))
        }
    }
    return finite
}
