import CKernels
import Foundation
import Tensor
import Testing
@testable import Transformer

/// The C attention kernel (Sources/CKernels/attention_impl.h) through ``Attention``: the same bits on
/// every instruction set and however the tokens arrive, close to the same math in Double.
@Suite("Attention kernel")
struct AttentionKernelTests {
    /// One attention problem: its shape, the cache's precision and every token's inputs.
    struct Case: CustomTestStringConvertible, Sendable {
        let shape: AttentionShape
        let halfCache: Bool
        let tokens: Int
        let queries: [Float], keys: [Float], values: [Float]

        init(heads: Int, kvHeads: Int, headDim: Int, window: Int? = nil, halfCache: Bool = false,
             halfPrecision: Bool = false, scaleQueriesFirst: Bool = false, tokens: Int = 23, seed: UInt64) {
            shape = AttentionShape(heads: heads, kvHeads: kvHeads, headDim: headDim, window: window,
                                   halfPrecision: halfPrecision, scaleQueriesFirst: scaleQueriesFirst)
            self.halfCache = halfCache
            self.tokens = tokens
            var rng = SplitMix64(state: seed)
            // Queries large enough that the softmax is far from uniform.
            queries = (0..<tokens * shape.queryWidth).map { _ in rng.float(3) }
            keys = (0..<tokens * shape.kvWidth).map { _ in rng.float(2) }
            values = (0..<tokens * shape.kvWidth).map { _ in rng.float(1) }
        }

        var testDescription: String {
            "\(shape.heads)/\(shape.kvHeads) heads × \(shape.headDim), window \(shape.window.map(String.init) ?? "none")"
                + (halfCache ? ", F16 cache" : "") + (shape.halfPrecision ? ", F16 q and p" : "")
                + (shape.scaleQueriesFirst ? ", q scaled first" : "")
        }

        /// The outputs for every token, fed in runs of `chunk` tokens through a fresh cache. With
        /// `scattered`, the cache's blocks are taken from a pool in which other blocks are held between
        /// them, in the order 2, 5, 8, … rather than 0, 1, 2, ….
        func outputs(
            chunk: Int, isa: Int32 = sparrow_isa_best(), runner: any ParallelRunner = SerialRunner(), scattered: Bool = false
        ) throws -> [Float] {
            let blocks = KVBlockPool.blocks(forPositions: tokens)
            let pool = try KVBlockPool(layers: 1, width: shape.kvWidth, halfPrecision: halfCache,
                                       blockCount: scattered ? 3 * blocks + 2 : blocks)
            let cache = try KVCache(pool: pool, capacity: tokens)
            var decoys: [Int32] = []
            if scattered {
                for _ in 0..<2 { decoys.append(pool.allocate()!) }
            }
            defer { for block in decoys { pool.release(block) } }
            let scores = ScratchBuffer()
            try scores.reserve(Attention.scoresPerThread(attending: tokens) * runner.threadCount)
            var out = [Float](repeating: .nan, count: tokens * shape.queryWidth)
            var q = queries  // attend rounds its queries in place
            for start in stride(from: 0, to: tokens, by: chunk) {
                let rows = min(chunk, tokens - start), qAt = start * shape.queryWidth, kvAt = start * shape.kvWidth
                if scattered {
                    // Two held blocks after each block this chunk opens.
                    for _ in cache.heldBlocks..<KVBlockPool.blocks(forPositions: start + rows) {
                        try cache.prepareWrite(from: cache.heldBlocks * KVBlockPool.blockSize, rows: 1)
                        for _ in 0..<2 { decoys.append(pool.allocate()!) }
                    }
                }
                try cache.prepareWrite(from: start, rows: rows)
                q.withUnsafeMutableBufferPointer { q in
                    keys.withUnsafeBufferPointer { k in
                        values.withUnsafeBufferPointer { v in
                            out.withUnsafeMutableBufferPointer { o in
                                Attention.attend(
                                    queries: q.baseAddress! + qAt, rows: rows, start: start,
                                    newKeys: k.baseAddress! + kvAt, newValues: v.baseAddress! + kvAt,
                                    kv: cache.layer(0), shape: shape, scores: scores.buffer.baseAddress!,
                                    into: o.baseAddress! + qAt, runner: runner, isa: isa)
                            }
                        }
                    }
                }
            }
            return out
        }

        /// The same math in Double from the same rounded inputs (queries, keys and values as the
        /// kernel sees them), and for each output Σ_j p_j·|v_j|, the scale its error is measured in.
        func reference() -> (outputs: [Double], magnitudes: [Double]) {
            let d = shape.headDim, group = shape.heads / shape.kvHeads
            var scale = 1 / Double(d).squareRoot()
            func half(_ x: Float) -> Float { Float(Float16(x)) }
            var q = queries
            if shape.halfPrecision {
                if shape.scaleQueriesFirst {
                    q = q.map { $0 * Float(scale) }
                    scale = 1
                }
                q = q.map(half)
            }
            let k = halfCache ? keys.map(half) : keys, v = halfCache ? values.map(half) : values
            var outputs = [Double](repeating: 0, count: q.count), magnitudes = outputs
            for i in 0..<tokens {
                let first = shape.firstAttended(start: i)
                for h in 0..<shape.heads {
                    let qAt = i * shape.queryWidth + h * d, kvHead = (h / group) * d
                    let s = (first...i).map { j in
                        (0..<d).reduce(0.0) { $0 + Double(q[qAt + $1]) * Double(k[j * shape.kvWidth + kvHead + $1]) } * scale
                    }
                    let m = s.max() ?? 0
                    let e = s.map { Foundation.exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for c in 0..<d {
                        for (n, j) in (first...i).enumerated() {
                            let p = e[n] / sum, value = Double(v[j * shape.kvWidth + kvHead + c])
                            outputs[qAt + c] += p * value
                            magnitudes[qAt + c] += p * abs(value)
                        }
                    }
                }
            }
            return (outputs, magnitudes)
        }
    }

    static let cases: [Case] = [
        // headDim 8: only the kernel's partial block.
        Case(heads: 4, kvHeads: 2, headDim: 8, seed: 1),
        Case(heads: 8, kvHeads: 2, headDim: 64, window: 5, halfCache: true, halfPrecision: true, seed: 2),
        Case(heads: 6, kvHeads: 3, headDim: 80, halfCache: true, halfPrecision: true, scaleQueriesFirst: true, seed: 3),
        // 40 = two whole blocks of 16 and a partial one.
        Case(heads: 4, kvHeads: 4, headDim: 40, window: 9, seed: 4),
        Case(heads: 4, kvHeads: 1, headDim: 128, halfCache: true, seed: 5),
    ]

    static var instructionSets: [Int32] { (0..<Int32(SPARROW_ISA_COUNT)).filter { sparrow_isa_supported($0) != 0 } }

    /// nil when `a` and `b` hold the same bits, else how many outputs differ and the first of them
    /// (the arrays themselves are too long for a readable failure).
    static func difference(_ a: [Float], _ b: [Float]) -> String? {
        guard a.count == b.count else { return "\(a.count) outputs, \(b.count) expected" }
        let differing = a.indices.filter { a[$0].bitPattern != b[$0].bitPattern }
        guard let first = differing.first else { return nil }
        return "\(differing.count) of \(a.count) outputs differ, the first at \(first): \(a[first]) vs \(b[first])"
    }

    @Test("every instruction set the CPU runs gives the portable kernel's bits", arguments: cases)
    func sameBitsOnEveryInstructionSet(_ c: Case) throws {
        let portable = try c.outputs(chunk: c.tokens, isa: Int32(SPARROW_ISA_PORTABLE.rawValue))
        #expect(portable.allSatisfy { $0.isFinite })
        for isa in Self.instructionSets {
            let output = try c.outputs(chunk: c.tokens, isa: isa, runner: sharedRunner(threads: 2))
            let difference = Self.difference(output, portable)
            #expect(difference == nil, "instruction set \(isa)")
        }
    }

    @Test("a token's output is the same bits in one batch, in chunks of 7, one at a time, on 1 or 2 threads",
          arguments: cases)
    func batchInvariant(_ c: Case) throws {
        let whole = try c.outputs(chunk: c.tokens, runner: sharedRunner(threads: 2))
        let serial = try c.outputs(chunk: c.tokens)
        let sevens = try c.outputs(chunk: 7, runner: sharedRunner(threads: 2))
        let ones = try c.outputs(chunk: 1), onesOnTwo = try c.outputs(chunk: 1, runner: sharedRunner(threads: 2))
        // A paged cache whose blocks lie anywhere in its pool.
        let scattered = try c.outputs(chunk: 7, runner: sharedRunner(threads: 2), scattered: true)
        #expect(scattered.elementsEqual(whole) { $0.bitPattern == $1.bitPattern })
        for (name, output) in [("serial", serial), ("chunks of 7", sevens), ("one at a time", ones),
                               ("one at a time on 2 threads", onesOnTwo)] {
            let difference = Self.difference(output, whole)
            #expect(difference == nil, "\(name)")
        }
    }

    /// With ``AttentionShape/halfPrecision`` the kernel rounds each probability to Float16 (a
    /// relative change of at most 2⁻¹²), which the reference does not: those cases get a tolerance of
    /// 2⁻¹¹ (still far below a wrong weight or position); all others 10⁻⁵.
    @Test("outputs agree with the same math in Double", arguments: cases)
    func matchesDouble(_ c: Case) throws {
        let (expected, magnitudes) = c.reference()
        let tolerance = c.shape.halfPrecision ? 0x1p-11 : 1e-5
        var worst = 0.0
        for isa in Self.instructionSets {
            let output = try c.outputs(chunk: 5, isa: isa)
            for i in output.indices {
                worst = max(worst, abs(Double(output[i]) - expected[i]) / max(magnitudes[i], 1e-30))
            }
        }
        #expect(worst <= tolerance, "worst error \(worst) of Σ p·|v|")
    }

    @Test("a sliding window ignores positions before it, the whole prefix counts without one")
    func windowMatters() throws {
        let windowed = Case(heads: 2, kvHeads: 1, headDim: 16, window: 3, seed: 9)
        let full = Case(heads: 2, kvHeads: 1, headDim: 16, seed: 9)
        let a = try windowed.outputs(chunk: windowed.tokens), b = try full.outputs(chunk: full.tokens)
        let width = windowed.shape.queryWidth
        // The first 3 tokens see the same positions either way; later ones do not.
        #expect(Array(a[..<(3 * width)]) == Array(b[..<(3 * width)]))
        #expect(Array(a[(3 * width)...]) != Array(b[(3 * width)...]))
    }
}

/// The binary16 conversions the cache and the roundings use, against Swift's `Float16(x)`.
@Suite("Float16 conversion kernels")
struct HalfConversionTests {
    /// Values where rounding to Float16 is delicate: ties, the overflow threshold, subnormals, NaNs.
    static let edgeCases: [Float] = {
        var values: [Float] = [
            0, -0.0, 1, -1, 65504, 65519.996, 65520, 65536, -65520, 1e10, .greatestFiniteMagnitude,
            .infinity, -.infinity, .leastNormalMagnitude, .leastNonzeroMagnitude,
            0x1p-14, 0x1p-24, 0x1p-25, 0x1.000002p-25, 0x1.8p-24, 0x1.8p-25, 0x1.4p-24, 0x1.cp-24, 0x1p-26,
            0x1.ffcp-15, 0x1.ffep-15, 0x1.ff8p-15,
            1 + 0x1p-11, 1 + 0x1.8p-11, 1 + 0x3p-11, 1 + 0x1.000002p-11, 2049, 2051, 4097,
            .nan, -.nan, Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFA0_0000),
            Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0x7FBF_FFFF),
        ]
        // Every exponent, with mantissas that are ties, just below and just above them.
        for exponent in UInt32(90)...UInt32(160) {
            for mantissa: UInt32 in [0, 0x1000, 0x0FFF, 0x1001, 0x3000, 0x2000, 0x7F_E000, 0x7F_F000, 0x7F_FFFF] {
                values.append(Float(bitPattern: exponent << 23 | mantissa))
                values.append(Float(bitPattern: 1 << 31 | exponent << 23 | mantissa))
            }
        }
        var rng = SplitMix64(state: 77)
        for _ in 0..<100_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        return values
    }()

    @Test("Float → Float16 rounds as Float16(x) on every instruction set (ties to even, overflow, subnormals, NaN)")
    func narrowing() {
        let x = Self.edgeCases
        let expected = x.map { Float16($0).bitPattern }
        for isa in AttentionKernelTests.instructionSets {
            var halves = [UInt16](repeating: 0, count: x.count)
            halves.withUnsafeMutableBytes { h in _ = sparrow_f16_from_f32(isa, x, h.baseAddress!, Int64(x.count)) }
            #expect(halves == expected, "instruction set \(isa)")
            // The same through the round trip to Float.
            var rounded = [Float](repeating: 0, count: x.count)
            _ = sparrow_round_f16(isa, x, &rounded, Int64(x.count))
            #expect(rounded.map { $0.bitPattern } == expected.map { Float(Float16(bitPattern: $0)).bitPattern })
        }
    }

    @Test("Float16 → Float is exact for all 65536 halves on every instruction set")
    func widening() {
        let halves = (0...UInt16.max).map { $0 }
        for isa in AttentionKernelTests.instructionSets {
            var floats = [Float](repeating: 0, count: halves.count)
            halves.withUnsafeBytes { h in _ = sparrow_f32_from_f16(isa, h.baseAddress!, &floats, Int64(halves.count)) }
            for (h, f) in zip(halves, floats) {
                let expected = Float(Float16(bitPattern: h))
                // F16C makes a signalling NaN quiet (and so does the portable kernel); Swift's
                // software conversion may not, so NaNs are compared by sign and payload top bits.
                if expected.isNaN {
                    #expect(f.isNaN && f.sign == expected.sign && (f.bitPattern & 0x3F_E000) == (expected.bitPattern & 0x3F_E000))
                } else {
                    #expect(f.bitPattern == expected.bitPattern, "half \(h) on \(isa)")
                }
            }
        }
    }

    @Test("every length works, the tails after the last whole block of 16 included")
    func lengths() {
        let x: [Float] = (0..<37).map { Float($0) * 0.1 + 1e-3 }
        for isa in AttentionKernelTests.instructionSets {
            for count in [0, 1, 15, 16, 17, 33, 37] {
                var halves = [UInt16](repeating: 0xFFFF, count: 37)
                halves.withUnsafeMutableBytes { h in _ = sparrow_f16_from_f32(isa, x, h.baseAddress!, Int64(count)) }
                #expect(Array(halves[..<count]) == x[..<count].map { Float16($0).bitPattern })
                #expect(halves[count...].allSatisfy { $0 == 0xFFFF })
            }
        }
    }
}
