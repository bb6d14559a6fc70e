import Foundation
import ModelFormats
import Testing
@testable import Transformer
import Tensor

/// ggml's activation roundings (``Numerics/llamaCpp``) and the Float16 KV option.
@Suite("Transformer numerics: llama.cpp's roundings")
struct NumericsTests {
    func block(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(state: seed)
        return (0..<n).map { _ in rng.float(3) }
    }

    /// `x` as one row through ``ActivationRounding/round``.
    func rounded(_ x: [Float], for type: ElementType) throws -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        try x.withUnsafeBufferPointer { (xs) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (ys) throws(KernelError) in
                try ActivationRounding.round(xs.baseAddress!, rows: 1, count: x.count, for: type, into: ys.baseAddress!,
                                             scratch: Q8Activation())
            }
        }
        return y
    }

    @Test("Q8_0: every value is f16(max|x|/127)·q with |q| ≤ 127, the largest exactly ±127·d")
    func q8_0() throws {
        let x = block(32, seed: 7)
        let y = try rounded(x, for: .q8_0)
        let amax = x.map(abs).max() ?? 0
        let d = Float(Float16(amax / 127))
        for (a, b) in zip(x, y) {
            let q = b / d
            #expect(q == q.rounded() && abs(q) <= 127)
            #expect(abs(a - b) <= d / 2 + amax * 1e-3)
        }
        let i = x.indices.max { abs(x[$0]) < abs(x[$1]) } ?? 0
        #expect(abs(y[i]) == 127 * d)
    }

    @Test("Q8_K: blocks of 256, the extreme value maps to −127 with d = 1/iscale kept in Float")
    func q8_K() throws {
        var x = block(512, seed: 9)
        x[300] = -5  // the extreme of the second block
        let y = try rounded(x, for: .q4_K)
        let d: Float = 1 / (-127 / Float(-5))
        #expect(y[300] == d * -127)
        for j in 256..<512 {
            let q = y[j] / d
            #expect(abs(q - q.rounded()) < 1e-3 && abs(q) <= 127)
        }
        // An all-zero block stays zero.
        #expect(try rounded([Float](repeating: 0, count: 256), for: .q6_K).allSatisfy { $0 == 0 })
    }

    @Test("F16 and BF16 weights see their activations rounded to that type (nearest even)")
    func halfTypes() throws {
        #expect(ActivationRounding.bfloat16(1) == 1)
        #expect(ActivationRounding.bfloat16(Float(bitPattern: 0x3F80_8000)) == Float(bitPattern: 0x3F80_0000))
        #expect(ActivationRounding.bfloat16(Float(bitPattern: 0x3F81_8000)) == Float(bitPattern: 0x3F82_0000))
        #expect(ActivationRounding.bfloat16(.nan).isNaN)
        let x: [Float] = [1.0001, -3.14159, 65504, 1e-8]
        #expect(try rounded(x, for: .f16) == x.map { Float(Float16($0)) })
    }

    @Test("Numerics resolve as documented; a Float16 KV cache moves logits a little, not a lot")
    func resolution() throws {
        let tiny = TinyModel(TinyModel.config())
        #expect(try tiny.model().usesLlamaCppNumerics == false)
        #expect(try tiny.model(options: ModelOptions(numerics: .llamaCpp)).usesLlamaCppNumerics)
        let prompt = [3, 17, 5, 29, 0, 11, 38, 2]
        let exact = try tiny.model().prefillAllPositions(tokens: prompt)
        let half = try tiny.model(options: ModelOptions(kvCachePrecision: .float16)).prefillAllPositions(tokens: prompt)
        let delta = maxAbsDifference(exact, half)
        #expect(delta > 0 && delta < 0.05, "max |Δlogit| = \(delta)")
    }
}

