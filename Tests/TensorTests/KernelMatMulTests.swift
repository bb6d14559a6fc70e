import Foundation
import ModelFormats
import Testing
import Tensor

@Suite("sgemm and tiled matMul")
struct KernelMatMulTests {
    struct SgemmCase: Decodable {
        let m: Int, n: Int, k: Int
        let alpha: Float, beta: Float
        let a: [Float], b: [Float], c: [Float], bt: [Float]
        let expected: [Double], expectedABt: [Double]
    }

    static let matmul = Result { try KernelFixtures.load(KernelFixtures.MatMulFile.self, "matmul.json") }
    static let sgemm = Result { try KernelFixtures.load(SgemmCase.self, "sgemm.json") }

    /// Row-major transpose of a rows × cols matrix.
    func transposed(_ v: [Float], rows: Int, cols: Int) -> [Float] {
        (0..<rows * cols).map { i in v[(i % rows) * cols + i / rows] }
    }

    /// C = alpha·op(A)·op(B) + beta·C with every transpose combination, against numpy.
    @Test(arguments: [BLAS.Transpose.none, .transposed], [BLAS.Transpose.none, .transposed])
    func generalForm(transposeA: BLAS.Transpose, transposeB: BLAS.Transpose) throws {
        let f = try Self.sgemm.get()
        // Store each operand the way its flag says; the product must not change.
        let a = transposeA == .none ? f.a : transposed(f.a, rows: f.m, cols: f.k)
        let b = transposeB == .none ? f.b : transposed(f.b, rows: f.k, cols: f.n)
        let lda = transposeA == .none ? f.k : f.m
        let ldb = transposeB == .none ? f.n : f.k
        var c = f.c
        try a.withUnsafeBufferPointer { (ab) throws(KernelError) in
            try b.withUnsafeBufferPointer { (bb) throws(KernelError) in
                try c.withUnsafeMutableBufferPointer { (cb) throws(KernelError) in
                    try BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: f.m, n: f.n, k: f.k,
                                   alpha: f.alpha, a: ab, lda: lda, b: bb, ldb: ldb, beta: f.beta, c: cb, ldc: f.n)
                }
            }
        }
        expectClose(c, f.expected, scale: f.expected.map { max(abs($0), 1) }, tolerance: 1e-5, "C")
    }

    @Test func aTimesBTransposed() throws {
        let f = try Self.sgemm.get()
        var c = [Float](repeating: .nan, count: f.m * f.n)  // beta = 0 must ignore old contents
        try f.a.withUnsafeBufferPointer { (ab) throws(KernelError) in
            try f.bt.withUnsafeBufferPointer { (bb) throws(KernelError) in
                try c.withUnsafeMutableBufferPointer { (cb) throws(KernelError) in
                    try BLAS.sgemmABt(a: ab, b: bb, c: cb, m: f.m, n: f.n, k: f.k)
                }
            }
        }
        expectClose(c, f.expectedABt, scale: f.expectedABt.map { max(abs($0), 1) }, tolerance: 1e-5, "A·Bᵀ")
    }

    @Test func sgemmRejectsBadSizes() throws {
        let a = [Float](repeating: 1, count: 6), b = [Float](repeating: 1, count: 6)
        var c = [Float](repeating: 0, count: 4)
        func run(m: Int = 2, n: Int = 2, k: Int = 3, lda: Int = 3, ldb: Int = 3, ldc: Int = 2) throws(KernelError) {
            try a.withUnsafeBufferPointer { (ab) throws(KernelError) in
                try b.withUnsafeBufferPointer { (bb) throws(KernelError) in
                    try c.withUnsafeMutableBufferPointer { (cb) throws(KernelError) in
                        try BLAS.sgemm(transposeB: .transposed, m: m, n: n, k: k, a: ab, lda: lda,
                                       b: bb, ldb: ldb, c: cb, ldc: ldc)
                    }
                }
            }
        }
        try run()
        #expect(c == [3, 3, 3, 3])
        #expect(throws: KernelError.invalidDimension(name: "k", value: -1)) { try run(k: -1) }
        #expect(throws: KernelError.leadingDimensionTooSmall(name: "lda", value: 2, minimum: 3)) { try run(lda: 2) }
        #expect(throws: KernelError.bufferTooSmall(operand: "a", needed: 9, available: 6)) { try run(m: 3, n: 1) }
        #expect(throws: KernelError.bufferTooSmall(operand: "c", needed: 6, available: 4)) { try run(ldc: 4) }
        #expect(throws: KernelError.invalidDimension(name: "m", value: Int(Int32.max) + 1)) {
            try run(m: Int(Int32.max) + 1)
        }
        // An empty inner dimension leaves beta·C (0 here) without calling BLAS.
        c = [5, 5, 5, 5]
        try run(k: 0, lda: 1, ldb: 1)
        #expect(c == [0, 0, 0, 0])
    }

    /// Runs matMul on fixture weights with a scratch of `scratchRows` rows (forcing tiles).
    func product(_ w: Tensor, _ x: [Float], tokens: Int, scratchRows: Int) throws -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.rowCount)
        let scratch = try ScratchBuffer(capacity: scratchRows * w.rowLength)
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try MatMul.matMul(weights: w, input: xb, tokens: tokens, output: yb, scratch: scratch.buffer)
            }
        }
        return y
    }

    /// Y = X·Wᵀ against numpy, and each token's row against MatVec, for every type; 3-row tiles
    /// over 8 rows also cover a partial last tile.
    @Test(arguments: ElementType.allCases)
    func matMulMatchesNumpyAndMatVec(type: ElementType) throws {
        let f = try Self.matmul.get()
        let reference = try #require(f.types[type.name])
        let w = try KernelFixtures.matrix("matvec", type, rows: f.rows, cols: f.cols)
        let y = try product(w, f.x, tokens: f.tokens, scratchRows: 3)
        expectClose(y, reference.Y, scale: reference.absdot, tolerance: 1e-5, "\(type) Y")
        for t in 0..<f.tokens {
            let column = try MatVec.multiply(w, Array(f.x[t * f.cols..<(t + 1) * f.cols]))
            let scale = Array(reference.absdot[t * f.rows..<(t + 1) * f.rows])
            expectClose(Array(y[t * f.rows..<(t + 1) * f.rows]), column.map(Double.init), scale: scale,
                        tolerance: 1e-5, "\(type) token \(t) vs MatVec")
        }
    }

    /// Unaligned F32 weights can't go to BLAS directly; the tiled path must give the same product.
    @Test func unalignedF32TakesTiledPath() throws {
        let rows = 5, cols = 24, tokens = 3
        var rng = KernelRNG(seed: 11)
        let values = rng.floats(rows * cols), x = rng.floats(tokens * cols)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-kernel-\(UUID()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try (Data([1, 2, 3]) + values.withUnsafeBytes { Data($0) }).write(to: url)
        let file = try MappedFile(path: url.path)
        let mapped = try Tensor(type: .f32, shape: Shape([rows, cols]), storage: .mapped(file, offset: 3, count: rows * cols * 4))
        let owned = try Tensor(floats: values, shape: Shape([rows, cols]))
        let a = try product(mapped, x, tokens: tokens, scratchRows: 2)
        let b = try product(owned, x, tokens: tokens, scratchRows: 0)
        for i in a.indices { #expect(abs(a[i] - b[i]) <= 1e-5 * max(1, abs(b[i]))) }
    }

    @Test func matMulRejectsBadSizes() throws {
        let halves = [Float16](repeating: 1, count: 64)
        let w = try halves.withUnsafeBytes { try Tensor(type: .f16, shape: Shape([2, 32]), copying: $0) }
        #expect(throws: KernelError.bufferTooSmall(operand: "scratch", needed: 32, available: 0)) {
            _ = try product(w, [Float](repeating: 1, count: 64), tokens: 2, scratchRows: 0)
        }
        #expect(throws: KernelError.lengthMismatch(operand: "input", expected: 96, actual: 64)) {
            _ = try product(w, [Float](repeating: 1, count: 64), tokens: 3, scratchRows: 1)
        }
        #expect(MatMul.recommendedScratchCount(for: w) == 64)
    }
}
