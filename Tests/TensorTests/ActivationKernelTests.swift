import Foundation
import Testing
import SparrowTestSupport
@testable import Tensor

/// The SiLU and SwiGLU kernels: the same bits on every instruction set, and close to numpy's
/// float64 values.
@Suite("SiLU and SwiGLU kernels")
struct ActivationKernelTests {
    /// Values whose handling differs from the bulk: zeros, infinities, NaNs, subnormals, where
    /// e^−x leaves Float's range (−88.72…) and where 1 + e^−x becomes 1.
    static let specials: [Float] = {
        var v: [Float] = [0, -0, .infinity, -.infinity, .nan, -.nan, Float(bitPattern: 0x7FA0_0001),
                          Float(bitPattern: 0xFFC1_2345), .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                          .leastNormalMagnitude, -.leastNormalMagnitude, Float(bitPattern: 0x0040_0000),
                          -Float(bitPattern: 0x007F_FFFF), .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                          88.7, -88.7, 88.72, -88.72, 88.7228, -88.7228, 88.75, -88.75, 104, -104, 80, -80,
                          17.3, 17.4, -17.3, 1e-30, -1e-30, 1, -1, 0.5, -0.5]
        // Every 64th Float from −88.76 to −88.68, across the overflow of e^−x.
        var x: Float = -88.76
        while x < -88.68 {
            v.append(x)
            x = Float(bitPattern: x.bitPattern - 64)
        }
        return v
    }()

    static func swiglu(_ gate: [Float], _ up: [Float], isa: InstructionSet) -> [Float] {
        var out = [Float](repeating: .nan, count: gate.count)
        gate.withUnsafeBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                out.withUnsafeMutableBufferPointer { o in
                    if let gb = g.baseAddress, let ub = u.baseAddress, let ob = o.baseAddress {
                        Activation.unsafeSwiGLU(gate: gb, up: ub, into: ob, count: g.count, isa: isa)
                    }
                }
            }
        }
        return out
    }

    /// Whether `a` and `b` hold the same bits (NaN payloads included).
    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                guard let p = x.baseAddress, let q = y.baseAddress else { return true }
                return memcmp(p, q, x.count) == 0
            }
        }
    }

    static func silu(_ x: [Float], isa: InstructionSet) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { Activation.silu($0, isa: isa) }
        return out
    }

    /// A million gates in [−100, 100] plus the specials, each with a random `up` (specials too).
    @Test func everyInstructionSetGivesThePortableBits() {
        var rng = KernelRNG(seed: 0x5116)
        var gate = rng.floats(1_000_000, in: -100...100)
        var up = rng.floats(gate.count, in: -3...3)
        gate += Self.specials
        up += Self.specials.map { _ in Float.random(in: -3...3, using: &rng) }
        // Every special gate with every special `up` as well (NaN × NaN included).
        for g in Self.specials {
            for u in Self.specials {
                gate.append(g)
                up.append(u)
            }
        }
        let portable = Self.swiglu(gate, up, isa: .portable)
        let portableSilu = Self.silu(gate, isa: .portable)
        for isa in InstructionSet.supported where isa != .portable {
            let out = Self.swiglu(gate, up, isa: isa)
            if !Self.sameBits(out, portable), let i = gate.indices.first(where: { out[$0].bitPattern != portable[$0].bitPattern }) {
                Issue.record("\(isa): swiglu(\(gate[i]), \(up[i])) is \(out[i]), portable \(portable[i])")
            }
            let silu = Self.silu(gate, isa: isa)
            if !Self.sameBits(silu, portableSilu), let i = gate.indices.first(where: { silu[$0].bitPattern != portableSilu[$0].bitPattern }) {
                Issue.record("\(isa): silu(\(gate[i])) is \(silu[i]), portable \(portableSilu[i])")
            }
        }
    }

    /// Every count from 0 to 67 (whole vectors of 16 and every tail), in place and not, on each
    /// set: the values past `count` are untouched and each value is the one it has in a long run.
    @Test func everyCountGivesTheSameBitsAsALongRun() {
        var rng = KernelRNG(seed: 0x67)
        let gate = rng.floats(67 + 5, in: -12...12), up = rng.floats(67 + 5, in: -2...2)
        let whole = Self.swiglu(gate, up, isa: .portable)
        for isa in InstructionSet.supported {
            for count in 0...67 {
                for offset in [0, 3] {
                    let g = Array(gate[offset..<offset + count]), u = Array(up[offset..<offset + count])
                    var padded = g + [Float(-7)]
                    padded.withUnsafeMutableBufferPointer { p in
                        u.withUnsafeBufferPointer { ub in
                            guard let pb = p.baseAddress, let upb = ub.baseAddress else { return }
                            // In place in the gate.
                            Activation.unsafeSwiGLU(gate: pb, up: upb, into: pb, count: count, isa: isa)
                        }
                    }
                    let expected = whole[offset..<offset + count].map(\.bitPattern)
                    #expect(padded.prefix(count).map(\.bitPattern) == expected, "\(isa) count \(count)+\(offset)")
                    #expect(padded[count] == -7, "\(isa) count \(count): wrote past the end")
                    var s = g + [Float(-7)]
                    s.withUnsafeMutableBufferPointer { Activation.silu(UnsafeMutableBufferPointer(rebasing: $0[0..<count]), isa: isa) }
                    #expect(s.prefix(count).map(\.bitPattern) == g.map { Activation.silu($0, isa: .portable).bitPattern })
                    #expect(s[count] == -7)
                }
            }
        }
    }

    /// The limits the division form gives: −0 once e^−x overflows, x once 1 + e^−x is 1, ±0 kept;
    /// silu(−∞) and silu(NaN) are NaN, silu(+∞) = +∞.
    @Test func limits() {
        for isa in InstructionSet.supported {
            for x: Float in [-88.73, -88.75, -89, -100, -104, -1e10, -.greatestFiniteMagnitude] {
                #expect(Activation.silu(x, isa: isa).bitPattern == (-Float.zero).bitPattern, "\(isa) silu(\(x))")
            }
            for x: Float in [17.5, 20, 80, 81, 100, 1e10, .greatestFiniteMagnitude, .infinity] {
                #expect(Activation.silu(x, isa: isa) == x, "\(isa) silu(\(x))")
            }
            #expect(Activation.silu(0, isa: isa).bitPattern == Float.zero.bitPattern)
            #expect(Activation.silu(-Float.zero, isa: isa).bitPattern == (-Float.zero).bitPattern)
            #expect(Activation.silu(-.infinity, isa: isa).isNaN)
            #expect(Activation.silu(.nan, isa: isa).isNaN)
            #expect(Activation.silu(-88.72, isa: isa) < 0, "e^88.72 is still a Float")
        }
    }

    /// The distance between two Floats in units in the last place, counting across zero (±0 are 0 apart).
    static func ulps(_ a: Float, _ b: Float) -> Int64 {
        func ordered(_ x: Float) -> Int64 {
            let bits = Int64(Int32(bitPattern: x.bitPattern))
            return bits < 0 ? Int64(Int32.min) - bits : bits
        }
        return abs(ordered(a) - ordered(b))
    }

    /// Within 1 ulp of numpy's float64 silu rounded to Float, and within 2 ulp of silu·up rounded
    /// once where silu is a normal Float (Fixtures/kernels/make_silu_fixture.py), for gates from
    /// −88.72 to 100. The largest errors measured are those bounds: 1 ulp for silu, on 0.16 % of all
    /// Floats from −88.72 up (every variant, exhaustively, against double-precision exp); 2 ulp on
    /// about 3 in 10⁵ of 10⁸ random products (silu is rounded before the product is).
    @Test func matchesNumpy() throws {
        let data = try Data(contentsOf: FixturePaths.url("kernels/silu.bin"))
        let values = data.withUnsafeBytes { raw in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let count = values.count / 4
        #expect(count == 16384)
        let gate = (0..<count).map { values[4 * $0] }, up = (0..<count).map { values[4 * $0 + 1] }
        for isa in InstructionSet.supported {
            let silu = Self.silu(gate, isa: isa), swiglu = Self.swiglu(gate, up, isa: isa)
            var worstSilu: Int64 = 0, worstSwiGLU: Int64 = 0
            for i in 0..<count {
                worstSilu = max(worstSilu, Self.ulps(silu[i], values[4 * i + 2]))
                // A subnormal silu has fewer bits than `up`'s product needs: the bound is for normal ones.
                if abs(values[4 * i + 2]) >= .leastNormalMagnitude {
                    worstSwiGLU = max(worstSwiGLU, Self.ulps(swiglu[i], values[4 * i + 3]))
                }
            }
            #expect(worstSilu <= 1, "\(isa) silu")
            #expect(worstSwiGLU <= 2, "\(isa) swiglu")
        }
    }
}
