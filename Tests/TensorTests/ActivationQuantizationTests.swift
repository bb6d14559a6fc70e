import Testing
import Tensor

/// ``Q8Activation/quantize(_:rows:count:format:isa:runner:)`` on every instruction set against a
/// scalar Swift transcription of ggml's reference loops (`quantize_row_q8_0_ref`,
/// `quantize_row_q8_1_ref`, `quantize_row_q8_K_ref` in ggml-quants.c), bit for bit: random blocks,
/// and the inputs where a vectorized search, rounding or clamp could part from the scalar loops
/// (ties in |x|, NaN, ±∞, ±0, subnormals, halves).
@Suite("Activation quantization: every instruction set writes ggml's scalar loops' bits")
struct ActivationQuantizationTests {
    /// Every array a quantization writes, Floats as bit patterns.
    struct Quantized: Equatable, CustomStringConvertible {
        var qs: [Int8] = []
        var scales: [UInt32] = []
        var scaledSums: [UInt32] = []
        var sums32: [Int16] = []
        var negSums32: [Int32] = []

        var description: String {
            "qs \(qs)\nscales \(scales)\nscaledSums \(scaledSums)\nsums32 \(sums32)\nnegSums32 \(negSums32)"
        }
    }

    /// A rounded value as a quant: NaN to 0, then clamped to ±127.
    static func quant(_ v: Float) -> Int8 { v.isNaN ? 0 : Int8(v < -127 ? -127 : (v > 127 ? 127 : v)) }

    /// `rintf` in the default rounding mode.
    static func rint(_ v: Float) -> Float { v.rounded(.toNearestOrEven) }

    static func reference(_ x: [Float], format: Q8Activation.Format) -> Quantized {
        var out = Quantized()
        if format == .q8_K {
            for b in 0..<x.count / 256 {
                let v = x[256 * b..<256 * (b + 1)]
                // The first value of largest |x| (NaN never compares greater) sets the scale's sign.
                var amax: Float = 0, extreme: Float = 0
                for value in v where abs(value) > amax {
                    amax = abs(value)
                    extreme = value
                }
                if amax == 0 {
                    out.qs += repeatElement(0, count: 256)
                    out.sums32 += repeatElement(0, count: 8)
                    out.scales.append(Float(0).bitPattern)
                    continue
                }
                let iscale = -127 / extreme
                // ggml's MIN(127, ·) takes NaN to 127.
                let q = v.map { value -> Int8 in
                    let rounded = rint(iscale * value)
                    return quant(rounded < 127 ? rounded : 127)
                }
                // ggml's bsums (sums of 16), added in pairs.
                let sums16 = (0..<16).map { k in q[16 * k..<16 * (k + 1)].reduce(Int32(0)) { $0 + Int32($1) } }
                out.qs += q
                out.sums32 += (0..<8).map { Int16(sums16[2 * $0] + sums16[2 * $0 + 1]) }
                out.scales.append((1 / iscale).bitPattern)
            }
        } else {
            for b in 0..<x.count / 32 {
                let v = x[32 * b..<32 * (b + 1)]
                var amax: Float = 0
                for value in v { amax = abs(value) > amax ? abs(value) : amax }
                let d = amax / 127
                let inverse: Float = amax != 0 ? 127 / amax : 0
                let q = v.map { quant(rint($0 * inverse)) }
                let sum = q.reduce(Int32(0)) { $0 + Int32($1) }
                out.qs += q
                out.negSums32.append(-sum)
                out.scales.append(Float(Float16(d)).bitPattern)
                if format == .q8_1 { out.scaledSums.append(Float(Float16(d * Float(sum))).bitPattern) }
            }
        }
        return out
    }

    static func kernel(_ x: [Float], format: Q8Activation.Format, isa: InstructionSet) throws -> Quantized {
        let a = Q8Activation()
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try a.quantize(xb.baseAddress!, rows: 1, count: x.count, format: format, isa: isa)
        }
        func read<T>(_ p: UnsafeMutablePointer<T>, _ n: Int) -> [T] { Array(UnsafeBufferPointer(start: p, count: n)) }
        let n = x.count
        return Quantized(
            qs: read(a.qs, n), scales: read(a.scales, n / format.blockSize).map(\.bitPattern),
            scaledSums: format == .q8_1 ? read(a.minScales, n / 32).map(\.bitPattern) : [],
            sums32: format == .q8_K ? read(a.sums32, n / 32) : [],
            negSums32: format == .q8_K ? [] : read(a.negSums32, n / 32))
    }

    /// A block of 256 zeros with `values` at their indices.
    static func zeros(with values: [Int: Float]) -> [Float] {
        var x = [Float](repeating: 0, count: 256)
        for (i, v) in values { x[i] = v }
        return x
    }

    /// Inputs of whole blocks of 256 (so whole blocks of 32 too), by name.
    static let inputs: [(String, [Float])] = {
        var rng = KernelRNG(seed: 0x51A)
        let tiny = Float(bitPattern: 1), largestSubnormal = Float(bitPattern: 0x007F_FFFF)
        var cases: [(String, [Float])] = [
            ("uniform", rng.floats(8 * 256, in: -3...3)),
            ("any bits", (0..<8 * 256).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }),
            ("small integers, ties everywhere", (0..<8 * 256).map { _ in Float(Int.random(in: -3...3, using: &rng)) }),
            ("all +0", [Float](repeating: 0, count: 256)),
            ("all −0", [Float](repeating: -0.0, count: 256)),
            ("NaN and zeros", (0..<256).map { $0 % 3 == 0 ? .nan : ($0 % 3 == 1 ? 0 : -0.0) }),
            ("NaN first, then finite", zeros(with: [0: .nan, 1: 2, 40: -1.5])),
            ("+∞ after −∞", zeros(with: [3: -.infinity, 17: .infinity, 30: 1])),
            ("∞ with NaN", zeros(with: [5: .nan, 6: .infinity, 7: -2])),
            ("largest finite", zeros(with: [9: -.greatestFiniteMagnitude, 10: .greatestFiniteMagnitude, 11: 1])),
            ("subnormals only", zeros(with: [2: tiny, 3: -tiny, 50: tiny, 100: -largestSubnormal / 2])),
            ("one subnormal largest", zeros(with: [33: -tiny, 34: 0, 35: -0.0])),
            ("halves round to even", (0..<256).map { j in j == 0 ? -127 : Float(j % 9) - 3.5 }),
            ("halves, +127 first", (0..<256).map { j in j == 1 ? 127 : Float(j % 11) * 0.5 - 2.5 }),
        ]
        // Ties in |x| of opposite signs, in one lane group, across groups and across the block: the
        // first one gives Q8_K's scale its sign.
        for (i, j) in [(3, 5), (5, 3), (7, 8), (8, 7), (0, 255), (255, 0), (40, 200), (200, 40), (31, 32)] {
            cases.append(("−3 at \(i), +3 at \(j)", zeros(with: [i: -3, j: 3])))
        }
        var mixed = rng.floats(256, in: -1...1)
        for i in [64, 65, 130, 255] { mixed[i] = i == 65 ? -1.25 : 1.25 }
        cases.append(("random with four ties", mixed))
        var specials = rng.floats(4 * 256, in: -2...2)
        let sprinkled: [Float] = [.nan, -.nan, .infinity, -.infinity, 0, -0.0, tiny, -largestSubnormal,
                                  .leastNormalMagnitude, -.greatestFiniteMagnitude]
        for _ in 0..<64 { specials[Int.random(in: 0..<specials.count, using: &rng)] = sprinkled.randomElement(using: &rng)! }
        cases.append(("random with specials", specials))
        return cases
    }()

    @Test(arguments: [Q8Activation.Format.q8_0, .q8_1, .q8_K])
    func everyInstructionSetMatchesTheScalarLoops(format: Q8Activation.Format) throws {
        for (name, x) in Self.inputs {
            let expected = Self.reference(x, format: format)
            for isa in InstructionSet.supported {
                let actual = try Self.kernel(x, format: format, isa: isa)
                #expect(actual == expected, "\(format) \(isa) \(name)")
            }
        }
    }

    /// The first value of largest |x| maps to −127 and gives the scale its sign; a later one of the
    /// opposite sign maps to +127 (ggml's `quantize_row_q8_K_ref`).
    @Test func q8KTiesGoToTheFirstValue() throws {
        for isa in InstructionSet.supported {
            for (first, second, sign) in [(Float(-3), Float(3), Float(1)), (3, -3, -1)] {
                let a = try Self.kernel(Self.zeros(with: [20: first, 9: 0.5, 100: second]), format: .q8_K, isa: isa)
                #expect(a.qs[20] == -127 && a.qs[100] == 127, "\(isa)")
                let scale = Float(bitPattern: a.scales[0])
                #expect(scale.sign == sign.sign && abs(abs(scale) - 3 / 127) < 1e-7, "\(isa) \(scale)")
                // Sub-block 0 holds quants 9 (0.5 · 127 / 3, rounded: ±21, the scale's sign) and 20 (−127).
                #expect(a.sums32[0] == (sign > 0 ? -106 : -148) && a.sums32[3] == 127, "\(isa)")
            }
        }
    }
}
