import Foundation
import ModelFormats
import Testing
import Tensor

@Suite("MatVec: y = W·x for every element type")
struct KernelMatVecTests {
    static let fixtures = Result { try KernelFixtures.load(KernelFixtures.MatVecFile.self, "matvec.json") }

    /// Against numpy's float64 dequantize(W)·x, within 1e-5 of Σ|w·x| per row.
    @Test(arguments: ElementType.allCases, ["matvec", "wide"])
    func matchesNumpy(type: ElementType, set: String) throws {
        let file = try Self.fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let reference = try #require(fixture.types[type.name])
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let y = try MatVec.multiply(w, fixture.x)
        expectClose(y, reference.y, scale: reference.absdot, tolerance: 1e-5, "\(set) \(type) y")
    }

    /// Against Sparrow's own `toFloats()` followed by a dot product in Double.
    @Test(arguments: ElementType.allCases)
    func matchesDequantizeThenDot(type: ElementType) throws {
        let fixture = try Self.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", type, rows: fixture.rows, cols: fixture.cols)
        let dense = w.toFloats()
        var expected: [Double] = [], scale: [Double] = []
        for r in 0..<fixture.rows {
            let row = dense[r * fixture.cols..<(r + 1) * fixture.cols]
            expected.append(zip(row, fixture.x).reduce(0) { $0 + Double($1.0) * Double($1.1) })
            scale.append(zip(row, fixture.x).reduce(0) { $0 + abs(Double($1.0) * Double($1.1)) })
        }
        let y = try MatVec.multiply(w, fixture.x)
        expectClose(y, expected, scale: scale, tolerance: 1e-5, "\(type) vs toFloats")
    }

    /// Computing disjoint row ranges (as pool threads will) writes only those rows and adds up to
    /// the whole product.
    @Test(arguments: [ElementType.f32, .f16, .bf16, .q4_0, .q6_K])
    func rowRangesComposeAndWriteOnlyTheirRows(type: ElementType) throws {
        let fixture = try Self.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", type, rows: fixture.rows, cols: fixture.cols)
        let full = try MatVec.multiply(w, fixture.x)
        let scratch = try ScratchBuffer(capacity: MatVec.scratchCount(for: w))
        var y = [Float](repeating: 12345, count: fixture.rows)
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try MatVec.multiply(w, x, into: yb, rows: 2..<5, scratch: scratch.buffer)
            }
        }
        #expect(y[0..<2].allSatisfy { $0 == 12345 } && y[5...].allSatisfy { $0 == 12345 })
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try MatVec.multiply(w, x, into: yb, rows: 0..<2, scratch: scratch.buffer)
                try MatVec.multiply(w, x, into: yb, rows: 5..<8, scratch: scratch.buffer)
                try MatVec.multiply(w, x, into: yb, rows: 3..<3, scratch: scratch.buffer)
            }
        }
        // Bit-identical: a row's result doesn't depend on which range computed it.
        #expect(y.map(\.bitPattern) == full.map(\.bitPattern))
    }

    /// F32 and F16 rows of awkward lengths (vector tails) against a Double reference.
    @Test(arguments: [1, 15, 16, 17, 31, 33, 100, 2047, 2048, 2049, 4111])
    func floatRowsOfAnyLength(cols: Int) throws {
        var rng = KernelRNG(seed: UInt64(cols))
        let rows = 3
        let values = rng.floats(rows * cols)
        let x = rng.floats(cols)
        let halves = values.map { Float16($0) }
        let f16 = try halves.withUnsafeBytes { try Tensor(type: .f16, shape: Shape([rows, cols]), copying: $0) }
        let cases: [(Tensor, [Float])] = [
            (try Tensor(floats: values, shape: Shape([rows, cols])), values),
            (f16, halves.map { Float($0) }),
        ]
        for (w, dense) in cases {
            var expected: [Double] = [], scale: [Double] = []
            for r in 0..<rows {
                let row = dense[r * cols..<(r + 1) * cols]
                expected.append(zip(row, x).reduce(0) { $0 + Double($1.0) * Double($1.1) })
                scale.append(zip(row, x).reduce(0) { $0 + abs(Double($1.0) * Double($1.1)) })
            }
            expectClose(try MatVec.multiply(w, x), expected, scale: scale, tolerance: 1e-5, "\(w.type) \(cols)")
        }
    }

    /// F32 rows at an odd address, as in a mapped safetensors file.
    @Test func unalignedMappedF32() throws {
        let rows = 4, cols = 37
        var rng = KernelRNG(seed: 7)
        let values = rng.floats(rows * cols)
        let x = rng.floats(cols)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-kernel-\(UUID()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try (Data([0x55]) + values.withUnsafeBytes { Data($0) }).write(to: url)
        let file = try MappedFile(path: url.path)
        let w = try Tensor(type: .f32, shape: Shape([rows, cols]), storage: .mapped(file, offset: 1, count: rows * cols * 4))
        let y = try MatVec.multiply(w, x)
        let aligned = try MatVec.multiply(try Tensor(floats: values, shape: Shape([rows, cols])), x)
        #expect(y == aligned)
    }

    @Test func rejectsWrongSizes() throws {
        let w = try Tensor(floats: [Float](repeating: 1, count: 64), shape: Shape([2, 32]))
        #expect(throws: KernelError.lengthMismatch(operand: "x", expected: 32, actual: 31)) {
            try MatVec.multiply(w, [Float](repeating: 1, count: 31))
        }
        let x = [Float](repeating: 1, count: 32)
        var y = [Float](repeating: 0, count: 3)
        let scratch = ScratchBuffer()
        #expect(throws: KernelError.lengthMismatch(operand: "y", expected: 2, actual: 3)) {
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try MatVec.multiply(w, xb, into: yb, scratch: scratch.buffer)
                }
            }
        }
        y = [0, 0]
        #expect(throws: KernelError.rowRangeOutOfBounds(1..<3, rowCount: 2)) {
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try MatVec.multiply(w, xb, into: yb, rows: 1..<3, scratch: scratch.buffer)
                }
            }
        }
        let halves = [Float16](repeating: 1, count: 64)
        let f16 = try halves.withUnsafeBytes { try Tensor(type: .f16, shape: Shape([2, 32]), copying: $0) }
        #expect(throws: KernelError.bufferTooSmall(operand: "scratch", needed: 32, available: 0)) {
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try MatVec.multiply(f16, xb, into: yb, scratch: scratch.buffer)
                }
            }
        }
    }

    @Test func scratchSizes() throws {
        #expect(MatVec.scratchCount(type: .f32, rowLength: 4096) == 0)
        #expect(MatVec.scratchCount(type: .q4_K, rowLength: 512) == 512)
        #expect(MatVec.scratchCount(type: .q8_0, rowLength: 11008) == MatVec.chunkElements)
        let s = try ScratchBuffer(capacity: 10)
        try s.reserve(5)
        #expect(s.capacity == 10 && s.buffer.count == 10)
        try s.reserve(100)
        #expect(s.capacity == 100)
        #expect(throws: KernelError.invalidDimension(name: "scratch", value: -1)) { try s.reserve(-1) }
    }
}
