import Foundation
import Testing
import Tensor

@Suite("QuantizedMatVec: integer dot products with 8-bit activations (ggml's vec_dot)")
struct QuantizedMatVecTests {
    static let fixtures = Result { try KernelFixtures.load(KernelFixtures.MatVecFile.self, "matvec.json") }
    static let types: [ElementType] = [.q4_0, .q4_1, .q8_0, .q4_K, .q6_K]

    /// The activation as the kernels see it: d·q per block.
    static func dequantized(_ a: Q8Activation) -> [Double] {
        let block = a.format.blockSize
        return (0..<a.count).map { i in Double(a.scales[i / block]) * Double(a.qs[i]) }
    }

    /// Against a Double dot product of the dequantized weights (`toFloats`) with the dequantized
    /// 8-bit activation: the integer kernels compute exactly that, up to Float rounding of the sum.
    @Test(arguments: types, ["matvec", "wide"])
    func matchesDequantizedProduct(type: ElementType, set: String) throws {
        let file = try Self.fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let format = try #require(Q8Activation.Format(weightType: type))
        let a = Q8Activation()
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: format)
        }
        let xq = Self.dequantized(a)
        let dense = w.toFloats()
        var expected: [Double] = [], scale: [Double] = []
        for r in 0..<fixture.rows {
            let row = dense[r * fixture.cols..<(r + 1) * fixture.cols]
            expected.append(zip(row, xq).reduce(0) { $0 + Double($1.0) * $1.1 })
            scale.append(zip(row, xq).reduce(0) { $0 + abs(Double($1.0) * $1.1) })
        }
        var y = [Float](repeating: .nan, count: fixture.rows)
        try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
        }
        // Q4_1's min term uses ggml's s = Float16(d·Σq), not the exact d·Σq: within Float16's 2⁻¹¹.
        expectClose(y, expected, scale: scale, tolerance: type == .q4_1 ? 1e-3 : 1e-5, "\(set) \(type) integer kernel")
        // And close to the exact Float product (numpy's), within the activation's 8-bit rounding.
        let reference = try #require(fixture.types[type.name])
        expectClose(y, reference.y, scale: reference.absdot, tolerance: 2e-2, "\(set) \(type) vs exact x")
    }

    /// Disjoint row ranges (what pool threads compute) write only their rows and give the same bits.
    @Test(arguments: types)
    func rowRangesCompose(type: ElementType) throws {
        let fixture = try Self.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", type, rows: fixture.rows, cols: fixture.cols)
        let a = Q8Activation()
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: Q8Activation.Format(weightType: type)!)
        }
        var full = [Float](repeating: 0, count: fixture.rows)
        var parts = [Float](repeating: 12345, count: fixture.rows)
        try full.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
        }
        try parts.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 2..<5)
        }
        #expect(parts[0..<2].allSatisfy { $0 == 12345 } && parts[5...].allSatisfy { $0 == 12345 })
        try parts.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 0..<2)
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 5..<fixture.rows)
        }
        #expect(parts.map(\.bitPattern) == full.map(\.bitPattern))
    }

    /// A format that doesn't belong to the weight type is refused, not misread.
    @Test func refusesAMismatchedFormat() throws {
        let fixture = try Self.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", .q4_K, rows: fixture.rows, cols: fixture.cols)
        let a = Q8Activation()
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: .q8_0)
        }
        var y = [Float](repeating: 0, count: fixture.rows)
        #expect(throws: KernelError.unsupportedType(.q4_K)) {
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
            }
        }
    }

    /// NaN and infinite activations quantize without trapping.
    @Test func nonFiniteActivationsDoNotTrap() throws {
        var x = [Float](repeating: 1, count: 256)
        x[3] = .nan
        x[7] = .infinity
        let a = Q8Activation()
        for format in [Q8Activation.Format.q8_0, .q8_1, .q8_K] {
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try a.quantize(xb.baseAddress!, rows: 1, count: 256, format: format)
            }
            #expect(a.count == 256)
        }
    }

    /// The pool runs every task exactly once, for any task count, many times over.
    @Test func workerPoolRunsEveryTaskOnce() {
        let runner = sharedRunner(threads: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for tasks in [1, 2, 3, 7, 64, 1000] {
            for _ in 0..<50 {
                counts.update(repeating: 0, count: tasks)
                runner.run(tasks: tasks) { i in counts[i] += 1 }
                #expect((0..<tasks).allSatisfy { counts[$0] == 1 })
            }
        }
    }
}
