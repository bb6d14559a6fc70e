import Testing
@testable import ModelFormats
@testable import Tensor

/// Row splitting across threads (``ParallelProducts``) changes no bit: every thread count gives
/// what one kernel call over all rows gives.
@Suite("ParallelProducts: the same bits on any number of threads")
struct ParallelProductsTests {
    /// 203 rows (several chunks per thread, a ragged last one) made of the "matvec" fixture's rows.
    static func tallMatrix(_ type: ElementType) throws -> Tensor {
        let fixture = try QuantizedMatMulTests.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", type, rows: fixture.rows, cols: fixture.cols)
        let source = Array(w.bytes), rowBytes = w.rowBytes
        var bytes: [UInt8] = []
        for r in 0..<203 { bytes += source[(r * 5 % fixture.rows) * rowBytes..<(r * 5 % fixture.rows + 1) * rowBytes] }
        return try bytes.withUnsafeBytes { try Tensor(type: type, shape: Shape([203, fixture.cols]), copying: $0) }
    }

    static let runners: [any ParallelRunner] = [SerialRunner(), WorkerPool(threads: 2), WorkerPool(threads: 3)]

    @Test("quantized weights", arguments: [ElementType.q4_0, .q8_0, .q4_K, .q6_K])
    func quantized(type: ElementType) throws {
        let w = try Self.tallMatrix(type)
        let format = try #require(Q8Activation.Format(weightType: type))
        var rng = KernelRNG(seed: 0x5B117 &+ UInt64(type.rawValue))
        let tokens = 5
        let x = (0..<tokens * w.rowLength).map { _ in Float.random(in: -2...2, using: &rng) }
        let q8 = Q8Activation()
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try q8.quantize(xb.baseAddress!, rows: tokens, count: w.rowLength, format: format)
        }
        var reference = [Float](repeating: .nan, count: tokens * w.rowCount)
        try reference.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatMul.multiply(w, q8, into: yb.baseAddress!, yCount: yb.count)
        }
        for runner in Self.runners {
            var y = [Float](repeating: .nan, count: tokens * w.rowCount)
            y.withUnsafeMutableBufferPointer { yb in
                ParallelProducts.unsafeQuantized(type: type, matrix: w.bytes.baseAddress!, rowBytes: w.rowBytes,
                                                 rowLength: w.rowLength, outputs: w.rowCount, x: q8, tokens: tokens,
                                                 into: yb.baseAddress!, runner: runner)
            }
            #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(type), \(runner.threadCount) threads")
        }
    }

    /// Two or three matrices of one input in one operation of the pool (q, k and v; gate and up)
    /// give each matrix's own product, bit for bit, whatever the mix of types sharing an 8-bit
    /// format and however many threads.
    @Test("grouped quantized products", arguments: [[ElementType.q4_0, .q4_0, .q4_0], [.q4_K, .q6_K, .q4_K], [.q8_0, .q8_0]])
    func grouped(types: [ElementType]) throws {
        let matrices = try types.map { try Self.tallMatrix($0) }
        let format = try #require(Q8Activation.Format(weightType: types[0]))
        var rng = KernelRNG(seed: 0x6A0 &+ UInt64(types.count))
        let tokens = 5, length = matrices[0].rowLength
        let x = (0..<tokens * length).map { _ in Float.random(in: -2...2, using: &rng) }
        let q8 = Q8Activation()
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try q8.quantize(xb.baseAddress!, rows: tokens, count: length, format: format)
        }
        var references: [[Float]] = []
        for w in matrices {
            var y = [Float](repeating: .nan, count: tokens * w.rowCount)
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatMul.multiply(w, q8, into: yb.baseAddress!, yCount: yb.count)
            }
            references.append(y)
        }
        for runner in Self.runners {
            let outputs = matrices.map { UnsafeMutablePointer<Float>.allocate(capacity: tokens * $0.rowCount) }
            defer { outputs.forEach { $0.deallocate() } }
            for (y, w) in zip(outputs, matrices) { y.update(repeating: .nan, count: tokens * w.rowCount) }
            let operands = zip(matrices, outputs).map { w, y in
                ParallelProducts.QuantizedOperand(type: w.type, matrix: w.bytes.baseAddress!, rowBytes: w.rowBytes,
                                                  outputs: w.rowCount, y: y)
            }
            ParallelProducts.unsafeQuantized(operands[0], operands[1], operands.count > 2 ? operands[2] : nil,
                                             rowLength: length, x: q8, tokens: tokens, runner: runner)
            for (i, w) in matrices.enumerated() {
                let y = Array(UnsafeBufferPointer(start: outputs[i], count: tokens * w.rowCount))
                #expect(y.map(\.bitPattern) == references[i].map(\.bitPattern),
                        "\(types), matrix \(i), \(runner.threadCount) threads")
            }
        }
    }

    /// A prompt's rows quantized on the pool's threads are the rows quantized one by one.
    @Test("activation rows quantized on the pool", arguments: [Q8Activation.Format.q8_0, .q8_1, .q8_K])
    func quantizedOnThePool(format: Q8Activation.Format) throws {
        var rng = KernelRNG(seed: 0x9A11 &+ UInt64(format.rawValue))
        let length = 512
        for rows in [1, 3, 4, 7, 33] {
            let x = (0..<rows * length).map { _ in Float.random(in: -3...3, using: &rng) }
            let alone = Q8Activation(), pooled = Q8Activation()
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try alone.quantize(xb.baseAddress!, rows: rows, count: length, format: format)
                try pooled.quantize(xb.baseAddress!, rows: rows, count: length, format: format,
                                    runner: WorkerPool(threads: 2))
            }
            func bytes<T>(_ p: UnsafeMutablePointer<T>, _ n: Int) -> [UInt8] {
                Array(UnsafeRawBufferPointer(start: p, count: n * MemoryLayout<T>.stride))
            }
            let total = rows * length
            #expect(bytes(alone.qs, total) == bytes(pooled.qs, total), "\(format), \(rows) rows")
            #expect(bytes(alone.scales, total / format.blockSize) == bytes(pooled.scales, total / format.blockSize))
            #expect(bytes(alone.minScales, total / 32) == bytes(pooled.minScales, total / 32) || format != .q8_1)
            #expect(bytes(alone.sums32, total / 32) == bytes(pooled.sums32, total / 32) || format != .q8_K)
            #expect(bytes(alone.negSums32, total / 32) == bytes(pooled.negSums32, total / 32) || format == .q8_K)
        }
    }

    @Test("float weights, and one row through dequantize-and-dot", arguments: [ElementType.f32, .f16, .bf16])
    func float(type: ElementType) throws {
        var rng = KernelRNG(seed: 0xF10A7 &+ UInt64(type.rawValue))
        let rows = 203, cols = 64, tokens = 3
        let w = try FloatMatMulTests.randomMatrix(type, rows: rows, n: cols, rng: &rng)
        let x = (0..<tokens * cols).map { _ in Float.random(in: -2...2, using: &rng) }
        let reference = try FloatMatMul.multiply(w, x)
        var scratch = [Float](repeating: 0, count: 3 * max(1, MatVec.scratchCount(for: w)))
        let perThread = scratch.count / 3
        var alone = [Float](repeating: .nan, count: rows)
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try scratch.withUnsafeMutableBufferPointer { (sb) throws(KernelError) in
                try alone.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try MatVec.multiply(w, UnsafeBufferPointer(rebasing: xb[0..<cols]), into: yb,
                                        scratch: UnsafeMutableBufferPointer(rebasing: sb[0..<perThread]))
                }
            }
        }
        for runner in Self.runners {
            var y = [Float](repeating: .nan, count: tokens * rows)
            var vector = [Float](repeating: .nan, count: rows)
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                y.withUnsafeMutableBufferPointer { yb in
                    ParallelProducts.unsafeFloat(type: type, matrix: w.bytes.baseAddress!, rowBytes: w.rowBytes,
                                                 rowLength: cols, outputs: rows, x: xb.baseAddress!, tokens: tokens,
                                                 into: yb.baseAddress!, runner: runner)
                }
                try scratch.withUnsafeMutableBufferPointer { (sb) throws(KernelError) in
                    try vector.withUnsafeMutableBufferPointer { (vb) throws(KernelError) in
                        try ParallelProducts.dequantizedVector(w, x: xb.baseAddress!, into: vb.baseAddress!,
                                                               scratch: sb.baseAddress!, perThread: perThread, runner: runner)
                    }
                }
            }
            #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(type), \(runner.threadCount) threads")
            #expect(vector.map(\.bitPattern) == alone.map(\.bitPattern), "\(type), \(runner.threadCount) threads")
        }
    }
}
