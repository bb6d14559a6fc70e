#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vector kernels one sampling step runs over the whole vocabulary.
///
/// A 128k-entry softmax with the C library's scalar `expf` alone costs most of a millisecond, so
/// `exp` here is Cephes' single-precision polynomial on 16 lanes (about 1 ulp on the range that
/// matters, exactly 1 at 0 and exactly 0 below -87.3, which the filters' `-inf` logits rely on).
/// The scalar version runs the same arithmetic so that a token's probability does not depend on
/// whether it sat in a vector body or a loop tail. Sums are accumulated in a fixed order, so the
/// same logits give the same draw on every machine.
enum VectorMath {
    typealias Vector = SIMD16<Float>
    static let width = Vector.scalarCount

    // Cephes expf: x = k ln2 + r with ln2 split in two for an exact reduction, then a degree-5
    // polynomial for (e^r - 1 - r) / r^2.
    private static let log2e: Float = 1.442_695_040_888_963_4
    private static let ln2Hi: Float = 0.693_359_375
    private static let ln2Lo: Float = -2.121_944_4e-4
    private static let lowest: Float = -87.336_54
    private static let highest: Float = 88.722_83
    // 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low
    // mantissa bits, a conversion that SIMD code can do without leaving floats.
    private static let roundingMagic: Float = 12_582_912
    private static let roundingMagicBits: UInt32 = 0x4B40_0000

    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // `replace(with:where:)` rather than `clamped` or `pointwiseMin`: those compile to a
        // loop over lanes (a hundred times slower here), a masked select does not.
        var clamped = x
        clamped.replace(with: lowest, where: clamped .< lowest)
        clamped.replace(with: highest, where: clamped .> highest)
        let shifted = clamped * log2e + roundingMagic
        let k = shifted - roundingMagic
        let r = clamped - k * ln2Hi - k * ln2Lo
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let poly = p * (r * r) + r + 1
        let kBits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- roundingMagicBits
        let scaleBits = (kBits &+ 127) &* (1 << 23)  // a multiply: SIMD `&<<` is a lane loop
        var result = poly * unsafeBitCast(scaleBits, to: Vector.self)
        result.replace(with: 0, where: x .< lowest)
        return result
    }

    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, lowest), highest)
        let shifted = clamped * log2e + roundingMagic
        let k = shifted - roundingMagic
        let r = clamped - k * ln2Hi - k * ln2Lo
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let poly = p * (r * r) + r + 1
        let kBits = shifted.bitPattern &- roundingMagicBits
        let result = poly * Float(bitPattern: (kBits &+ 127) &<< 23)
        return x < lowest ? 0 : result
    }

    /// Natural logarithm in double precision: normalisers are summed in `Double`, and their log
    /// is taken once per step, so the C library's is fast enough.
    @inline(__always)
    static func log(_ x: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.log(x)
        #else
        return Darwin.log(x)
        #endif
    }

    /// The largest value and its first index (`-inf` and 0 when every value is `-inf` or NaN).
    static func argmax(_ values: UnsafeBufferPointer<Float>) -> (index: Int, value: Float) {
        guard let base = values.baseAddress, !values.isEmpty else { return (0, -.infinity) }
        let n = values.count
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + width <= n {
            let v = load(base, i)
            best.replace(with: v, where: v .> best)
            i += width
        }
        var top = best.max()
        while i < n {
            top = max(top, base[i])
            i += 1
        }
        // The first index holding the maximum: a second pass is cheaper than tracking indices
        // in every lane, and usually stops early.
        var index = 0
        for j in 0 ..< n where base[j] == top {
            index = j
            break
        }
        return (index, top)
    }

    /// Blocks of 16 summed per chunk in one vector accumulator: horizontal sums are slow, and a
    /// chunk of 64 blocks keeps `Float` rounding small before the chunk total joins a `Double`.
    static let chunk = 64 * width

    /// `probabilities[i] = exp(values[i] - maximum)` (unnormalised), and their sum in `Double`,
    /// accumulated chunk by chunk in the order ``draw`` walks.
    static func exponentiate(
        _ values: UnsafeBufferPointer<Float>, maximum: Float, into probabilities: UnsafeMutableBufferPointer<Float>
    ) -> Double {
        guard let base = values.baseAddress, let out = probabilities.baseAddress else { return 0 }
        let n = min(values.count, probabilities.count)
        var total: Double = 0
        var i = 0
        while i + width <= n {
            let end = min(n - (n - i) % width, i + chunk)
            var acc = Vector(repeating: 0)
            while i < end {
                let p = exp(load(base, i) - maximum)
                UnsafeMutableRawPointer(out + i).storeBytes(of: p, as: Vector.self)
                acc += p
                i += width
            }
            total += Double(acc.sum())
        }
        var tail: Float = 0
        while i < n {
            let p = exp(base[i] - maximum)
            out[i] = p
            tail += p
            i += 1
        }
        return total + Double(tail)
    }

    /// Σ exp(values[i] - maximum), summed as ``exponentiate`` does, without storing the terms.
    static func sumExp(_ values: UnsafeBufferPointer<Float>, maximum: Float) -> Double {
        guard let base = values.baseAddress else { return 0 }
        let n = values.count
        var total: Double = 0
        var i = 0
        while i + width <= n {
            let end = min(n - (n - i) % width, i + chunk)
            var acc = Vector(repeating: 0)
            while i < end {
                acc += exp(load(base, i) - maximum)
                i += width
            }
            total += Double(acc.sum())
        }
        var tail: Float = 0
        while i < n {
            tail += exp(base[i] - maximum)
            i += 1
        }
        return total + Double(tail)
    }

    /// The index whose cumulative probability first exceeds `target` (in [0, total)): chunks
    /// are skipped by their sums, computed exactly as ``exponentiate`` computed them, and the
    /// chunk holding the target is walked token by token. Rounding that runs past the chunk's
    /// end lands on its last token with a non-zero probability, so a draw always finds a token.
    static func draw(_ probabilities: UnsafeBufferPointer<Float>, target: Double) -> Int {
        guard let base = probabilities.baseAddress, !probabilities.isEmpty else { return 0 }
        let n = probabilities.count
        var cumulative: Double = 0
        var i = 0
        var lastPositive = -1
        while i + width <= n {
            let start = i
            let end = min(n - (n - i) % width, i + chunk)
            var acc = Vector(repeating: 0)
            while i < end {
                acc += load(base, i)
                i += width
            }
            let sum = Double(acc.sum())
            if cumulative + sum > target {
                return walk(base, start ..< end, from: cumulative, target: target)
            }
            if sum > 0 { lastPositive = end - 1 }
            cumulative += sum
        }
        if i < n, let j = Optional(walk(base, i ..< n, from: cumulative, target: target)), base[j] > 0 { return j }
        // Only rounding gets here: the last token that could have been drawn.
        for j in stride(from: n - 1, through: 0, by: -1) where base[j] > 0 { return j }
        return max(0, lastPositive)
    }

    private static func walk(_ base: UnsafePointer<Float>, _ range: Range<Int>, from start: Double, target: Double) -> Int {
        var cumulative = start
        var last = range.lowerBound
        for j in range where base[j] > 0 {
            cumulative += Double(base[j])
            last = j
            if cumulative > target { return j }
        }
        return last
    }

    /// `round(x - 0.5)` (ties to even) of values in [0, 2^22): a monotone stand-in for the integer
    /// part, computed without leaving floats (SIMD `rounded(.down)` is a loop over lanes). The
    /// scalar form below gives the same integers, so vector and scalar code agree on buckets.
    @inline(__always)
    static func lowerIntegers(_ x: Vector) -> SIMD16<Int32> {
        let shifted = (x - 0.5) + roundingMagic
        return unsafeBitCast(unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- roundingMagicBits, to: SIMD16<Int32>.self)
    }

    @inline(__always)
    static func lowerInteger(_ x: Float) -> Int {
        let shifted = (x - 0.5) + roundingMagic
        return Int(Int32(bitPattern: shifted.bitPattern &- roundingMagicBits))
    }

    /// The largest value and the smallest one above `-inf` (`-inf`, `+inf` when there is none).
    static func extrema(_ values: UnsafeBufferPointer<Float>) -> (maximum: Float, minimum: Float) {
        guard let base = values.baseAddress else { return (-.infinity, .infinity) }
        let n = values.count
        var top = Vector(repeating: -.infinity), bottom = Vector(repeating: .infinity)
        var i = 0
        while i + width <= n {
            let v = load(base, i)
            top.replace(with: v, where: v .> top)
            bottom.replace(with: v, where: (v .< bottom) .& (v .> -.infinity))
            i += width
        }
        var maximum = top.max(), minimum = bottom.min()
        while i < n {
            maximum = max(maximum, base[i])
            if base[i] > -.infinity { minimum = min(minimum, base[i]) }
            i += 1
        }
        return (maximum, minimum)
    }

    @inline(__always)
    static func load(_ base: UnsafePointer<Float>, _ i: Int) -> Vector {
        UnsafeRawPointer(base + i).loadUnaligned(as: Vector.self)
    }
}
