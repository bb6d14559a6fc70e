import Foundation
import Testing
import Tensor

@Suite("RMSNorm, softmax, SiLU, SwiGLU against numpy")
struct KernelElementwiseTests {
    struct Fixture: Decodable {
        struct Norm: Decodable { let x: [Float], weight: [Float], epsilon: Float, expected: [Double] }
        struct Unary: Decodable { let x: [Float], expected: [Double] }
        struct Glu: Decodable { let gate: [Float], up: [Float], expected: [Double] }
        let rmsnorm: Norm
        let softmax: Unary
        let silu: Unary
        let swiglu: Glu
    }

    static let fixture = Result { try KernelFixtures.load(Fixture.self, "elementwise.json") }

    @Test func rmsNorm() throws {
        let f = try Self.fixture.get().rmsnorm
        var y = [Float](repeating: 0, count: f.x.count)
        try f.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try f.weight.withUnsafeBufferPointer { (w) throws(KernelError) in
                try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try Normalization.rmsNorm(x, weight: w, epsilon: f.epsilon, into: yb)
                }
            }
        }
        expectRelativelyClose(y, f.expected, tolerance: 1e-6, "rmsNorm")
        // In place gives the same bits.
        var z = f.x
        try z.withUnsafeMutableBufferPointer { (zb) throws(KernelError) in
            try f.weight.withUnsafeBufferPointer { (w) throws(KernelError) in
                try Normalization.rmsNorm(zb, weight: w, epsilon: f.epsilon)
            }
        }
        #expect(z == y)
        #expect(throws: KernelError.lengthMismatch(operand: "weight", expected: f.x.count, actual: 3)) {
            try z.withUnsafeMutableBufferPointer { (zb) throws(KernelError) in
                try [Float](repeating: 1, count: 3).withUnsafeBufferPointer { (w) throws(KernelError) in
                    try Normalization.rmsNorm(zb, weight: w, epsilon: 1e-5)
                }
            }
        }
    }

    @Test func softmax() throws {
        let f = try Self.fixture.get().softmax
        var x = f.x
        x.withUnsafeMutableBufferPointer { Normalization.softmax($0) }
        expectRelativelyClose(x, f.expected, tolerance: 1e-6, "softmax")
        #expect(abs(x.reduce(0, +) - 1) < 1e-5)
    }

    @Test func softmaxEdgeCases() {
        var big: [Float] = [1000, 1000, -.infinity]
        big.withUnsafeMutableBufferPointer { Normalization.softmax($0) }
        #expect(big == [0.5, 0.5, 0])
        var masked: [Float] = [-.infinity, -.infinity]
        masked.withUnsafeMutableBufferPointer { Normalization.softmax($0) }
        #expect(masked == [0, 0])
        var empty: [Float] = []
        empty.withUnsafeMutableBufferPointer { Normalization.softmax($0) }
        #expect(empty.isEmpty)
    }

    @Test func silu() throws {
        let f = try Self.fixture.get().silu
        var x = f.x
        x.withUnsafeMutableBufferPointer { Activation.silu($0) }
        expectRelativelyClose(x, f.expected, tolerance: 1e-6, "silu")
        #expect(Activation.silu(-200) == 0)
        #expect(Activation.silu(200) == 200)
    }

    /// Below −89 silu skips `exp`; its bits must still be the formula's, x / (1 + e^−x), around the
    /// cut, where e^−x overflows, and at the ends.
    @Test func siluKeepsTheFormulasBitsWhereExpOverflows() {
        var inputs: [Float] = [-88, -88.5, -88.72, -88.7228, -88.73, -88.9, -89, -89.0001, -90, -1e30,
                               -.greatestFiniteMagnitude, -.infinity, .nan]
        var v: Float = -88.6
        while v > -89.4 { inputs.append(v); v = v.nextDown.nextDown.nextDown.nextDown.nextDown.nextDown.nextDown }
        for x in inputs {
            let formula = x / (1 + exp(-x))
            let result = Activation.silu(x)
            #expect(result.bitPattern == formula.bitPattern || (result.isNaN && formula.isNaN), "silu(\(x))")
        }
        #expect(Activation.silu(-100).sign == .minus)
    }

    @Test func swiglu() throws {
        let f = try Self.fixture.get().swiglu
        var out = [Float](repeating: 0, count: f.gate.count)
        try f.gate.withUnsafeBufferPointer { (g) throws(KernelError) in
            try f.up.withUnsafeBufferPointer { (u) throws(KernelError) in
                try out.withUnsafeMutableBufferPointer { (o) throws(KernelError) in
                    try Activation.swiglu(gate: g, up: u, into: o)
                }
            }
        }
        expectRelativelyClose(out, f.expected, tolerance: 1e-6, "swiglu")
        #expect(throws: KernelError.lengthMismatch(operand: "up", expected: f.gate.count, actual: 1)) {
            try f.gate.withUnsafeBufferPointer { (g) throws(KernelError) in
                try [Float(1)].withUnsafeBufferPointer { (u) throws(KernelError) in
                    try out.withUnsafeMutableBufferPointer { (o) throws(KernelError) in
                        try Activation.swiglu(gate: g, up: u, into: o)
                    }
                }
            }
        }
    }
}
