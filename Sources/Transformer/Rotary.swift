#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Tensor

/// Rotary position embedding with the model's frequencies (θ, and any long-context scaling).
///
/// The angle of pair i at position p is p·ω_i. The ω_i are computed once, in Float, as
/// transformers computes them (`1 / θ^(2i/d)`, then the scaling), so that float checkpoints match
/// it to rounding; cos and sin are then computed per token, once for all layers. With llama.cpp's
/// numerics the angles are computed its way instead: p·s^i by a running product with
/// s = θ^(−2/d), divided by the frequency divisors, times the linear frequency scale.
struct Rotary: Sendable {
    /// The kernel that rotates pairs in the checkpoint's convention.
    let kernel: RotaryEmbedding
    /// ω_i for i in 0..<ropeDimensions/2.
    let frequencies: [Float]
    /// Compute angles as llama.cpp's `ggml_rope_cache_init` does.
    let llamaCpp: Bool
    /// llama.cpp's θ^(−2/d), frequency scale (1 / linear factor) and per-pair divisors.
    let thetaScale: Float, frequencyScale: Float, divisors: [Float]

    var pairs: Int { frequencies.count }

    init(config: ModelConfig, llamaCpp: Bool = false) throws(TransformerError) {
        let convention: RotaryEmbedding.Convention =
            config.ropeConvention == .adjacentPairs ? .adjacentPairs : .halfSplit
        do {
            kernel = try RotaryEmbedding(headDim: config.headDimension, ropeDims: config.ropeDimensions,
                                         base: config.ropeTheta, convention: convention)
        } catch {
            throw .kernel(error)
        }
        frequencies = Self.scaled(kernel.inverseFrequencies, by: config.ropeScaling)
        self.llamaCpp = llamaCpp
        thetaScale = powf(config.ropeTheta, -2 / Float(config.ropeDimensions))
        switch config.ropeScaling {
        case let .linear(factor):
            (frequencyScale, divisors) = (1 / factor, [Float](repeating: 1, count: config.ropeDimensions / 2))
        case let .frequencyDivisors(d):
            (frequencyScale, divisors) = (1, d)
        case .llama3:
            // llama.cpp gets Llama 3.1's scaling as precomputed divisors (rope_freqs.weight).
            (frequencyScale, divisors) = (1, zip(kernel.inverseFrequencies, frequencies).map { $0 / $1 })
        case nil:
            (frequencyScale, divisors) = (1, [Float](repeating: 1, count: config.ropeDimensions / 2))
        }
    }

    /// The unscaled frequencies stretched by `scaling`, step by step in Float as transformers'
    /// `_compute_linear_scaling_rope_parameters` and `_compute_llama3_parameters` do.
    static func scaled(_ base: [Float], by scaling: ModelConfig.RopeScaling?) -> [Float] {
        switch scaling {
        case nil:
            return base
        case let .linear(factor):
            return base.map { $0 / factor }
        case let .frequencyDivisors(divisors):
            return zip(base, divisors).map { $0 / $1 }
        case let .llama3(factor, low, high, original):
            let old = Float(original)
            let lowWavelength = old / low, highWavelength = old / high
            return base.map { omega in
                let wavelength = 2 * Float.pi / omega
                // Long wavelengths (low frequencies) are interpolated by the full factor.
                let interpolated = wavelength > lowWavelength ? omega / factor : omega
                // Between the two thresholds, blend the interpolated and original frequencies.
                let smooth = (old / wavelength - low) / (high - low)
                let blended = (1 - smooth) * interpolated / factor + smooth * interpolated
                let isMedium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
                return isMedium ? blended : interpolated
            }
        }
    }

    /// cos and sin of every pair's angle for positions start..<start+rows, as [rows, pairs].
    func angles(start: Int, rows: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let n = pairs
        if llamaCpp {
            for r in 0..<rows {
                var theta = Float(start + r)
                for i in 0..<n {
                    let angle = frequencyScale * (theta / divisors[i])
                    cos[r * n + i] = cosf(angle)
                    sin[r * n + i] = sinf(angle)
                    theta *= thetaScale
                }
            }
            return
        }
        frequencies.withUnsafeBufferPointer { omega in
            for r in 0..<rows {
                // The position becomes a Float before the product, as in transformers.
                let p = Float(start + r)
                for i in 0..<n {
                    let angle = p * omega[i]
                    cos[r * n + i] = cosf(angle)
                    sin[r * n + i] = sinf(angle)
                }
            }
        }
    }

    /// Rotates each of `rows` rows of `heads` heads by that row's angles.
    func rotate(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, stride: Int,
        cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>
    ) throws(TransformerError) {
        let width = heads * kernel.headDim, n = pairs
        do {
            for r in 0..<rows {
                try kernel.apply(to: UnsafeMutableBufferPointer(start: x + r * stride, count: width), heads: heads,
                                 cos: UnsafeBufferPointer(start: cos + r * n, count: n),
                                 sin: UnsafeBufferPointer(start: sin + r * n, count: n))
            }
        } catch {
            throw .kernel(error)
        }
    }
}
