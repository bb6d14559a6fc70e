import Foundation
import Testing
import Tensor

@Suite("RoPE in both conventions")
struct KernelRoPETests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let base: Float, ropeDims: Int, position: Int
            let halfSplit: [Float], adjacentPairs: [Float], invFreq: [Float]
        }
        let heads: Int, headDim: Int
        let x: [Float]
        let cases: [Case]
    }

    static let fixture = Result { try KernelFixtures.load(Fixture.self, "rope.json") }

    func rotated(_ x: [Float], _ rope: RotaryEmbedding, heads: Int, position: Int) throws -> [Float] {
        var v = x
        try v.withUnsafeMutableBufferPointer { (b) throws(KernelError) in
            try rope.apply(to: b, heads: heads, position: position)
        }
        return v
    }

    /// Both conventions against numpy float32 implementations of the formulas: head dim 64,
    /// positions 0 to 4095, theta 1e4 and 5e5, full and half rotary.
    @Test(arguments: [RotaryEmbedding.Convention.adjacentPairs, .halfSplit])
    func matchesNumpyFloat32(convention: RotaryEmbedding.Convention) throws {
        let f = try Self.fixture.get()
        for c in f.cases {
            let rope = try RotaryEmbedding(headDim: f.headDim, ropeDims: c.ropeDims, base: c.base, convention: convention)
            // The frequencies are the same Floats HF computes.
            #expect(rope.inverseFrequencies == c.invFreq, "invFreq base \(c.base) dims \(c.ropeDims)")
            let y = try rotated(f.x, rope, heads: f.heads, position: c.position)
            let expected = convention == .halfSplit ? c.halfSplit : c.adjacentPairs
            // Values are O(1); a couple of ulps of cos/sin between libm and numpy is all that may differ.
            expectClose(y, expected.map(Double.init), scale: [Double](repeating: 1, count: y.count),
                        tolerance: 2e-6, "\(convention) base \(c.base) dims \(c.ropeDims) pos \(c.position)")
            if c.ropeDims < f.headDim {
                for h in 0..<f.heads {
                    let tail = h * f.headDim + c.ropeDims..<(h + 1) * f.headDim
                    #expect(y[tail] == f.x[tail], "unrotated tail must be untouched")
                }
            }
            if c.position == 0 { #expect(y == f.x) }
        }
    }

    /// llama.cpp's converter permutes Q/K rows so that the half-split pair (i, i + d/2) lands on
    /// the adjacent pair (2i, 2i+1); rotating before or after that permutation must agree.
    @Test(arguments: [64, 32])
    func conventionsAgreeUnderConverterPermutation(ropeDims: Int) throws {
        let headDim = 64, heads = 3
        var rng = KernelRNG(seed: 99)
        let hf = rng.floats(heads * headDim, in: -2...2)
        // The permutation, on the rotated part of each head: adjacent[2i + a] = half[a·d/2 + i].
        func permute(_ v: [Float]) -> [Float] {
            var out = v
            for h in 0..<heads {
                for i in 0..<ropeDims / 2 {
                    for a in 0..<2 { out[h * headDim + 2 * i + a] = v[h * headDim + a * ropeDims / 2 + i] }
                }
            }
            return out
        }
        for base: Float in [10000, 500000] {
            let half = try RotaryEmbedding(headDim: headDim, ropeDims: ropeDims, base: base, convention: .halfSplit)
            let adjacent = try RotaryEmbedding(headDim: headDim, ropeDims: ropeDims, base: base, convention: .adjacentPairs)
            for position in [0, 1, 5, 4095, 100_000] {
                let a = permute(try rotated(hf, half, heads: heads, position: position))
                let b = try rotated(permute(hf), adjacent, heads: heads, position: position)
                // Same products of the same Floats: bit for bit.
                #expect(a == b, "base \(base) position \(position)")
            }
        }
    }

    /// Precomputed angles shared by q and k give what apply(position:) gives.
    @Test func precomputedAnglesMatch() throws {
        let rope = try RotaryEmbedding(headDim: 64, base: 10000, convention: .halfSplit)
        var rng = KernelRNG(seed: 3)
        let x = rng.floats(4 * 64)
        var cos = [Float](repeating: 0, count: 32), sin = cos
        try cos.withUnsafeMutableBufferPointer { (c) throws(KernelError) in
            try sin.withUnsafeMutableBufferPointer { (s) throws(KernelError) in
                try rope.angles(position: 77, cos: c, sin: s)
            }
        }
        var y = x
        try y.withUnsafeMutableBufferPointer { (b) throws(KernelError) in
            try cos.withUnsafeBufferPointer { (c) throws(KernelError) in
                try sin.withUnsafeBufferPointer { (s) throws(KernelError) in
                    try rope.apply(to: b, heads: 4, cos: c, sin: s)
                }
            }
        }
        #expect(y == (try rotated(x, rope, heads: 4, position: 77)))
    }

    @Test func rejectsBadConfigurations() throws {
        #expect(throws: KernelError.invalidRotaryConfiguration(headDim: 64, ropeDims: 31, base: 10000)) {
            try RotaryEmbedding(headDim: 64, ropeDims: 31, base: 10000, convention: .halfSplit)
        }
        #expect(throws: KernelError.invalidRotaryConfiguration(headDim: 64, ropeDims: 128, base: 10000)) {
            try RotaryEmbedding(headDim: 64, ropeDims: 128, base: 10000, convention: .halfSplit)
        }
        #expect(throws: KernelError.self) {
            try RotaryEmbedding(headDim: 64, base: 0, convention: .adjacentPairs)
        }
        let rope = try RotaryEmbedding(headDim: 8, base: 10000, convention: .adjacentPairs)
        #expect(throws: KernelError.invalidPosition(-1)) { _ = try rotated([Float](repeating: 0, count: 8), rope, heads: 1, position: -1) }
        #expect(throws: KernelError.lengthMismatch(operand: "x", expected: 16, actual: 8)) {
            _ = try rotated([Float](repeating: 0, count: 8), rope, heads: 2, position: 0)
        }
    }
}
