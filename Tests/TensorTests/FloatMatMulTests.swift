import Foundation
import ModelFormats
import Testing
import Tensor

@Suite("FloatMatMul: F32, F16 and BF16 weights in one order of additions, every instruction set")
struct FloatMatMulTests {
    static let types: [ElementType] = [.f32, .f16, .bf16]
    static let fixtures = Result { try KernelFixtures.load(KernelFixtures.MatVecFile.self, "matvec.json") }

    /// Weight k of a row of `type` at `row` in `bytes`, widened.
    static func weight(_ bytes: [UInt8], _ type: ElementType, row: Int, rowBytes: Int, _ k: Int) -> Float {
        let at = row * rowBytes + k * type.blockBytes
        let low = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8
        switch type {
        case .f32: return Float(bitPattern: low | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
        case .f16: return Float(Float16(bitPattern: UInt16(low)))
        default: return Float(bitPattern: low << 16)
        }
    }

    /// The order the kernel documents (CKernelsFloatMatMul.h), one operation at a time: 16 lanes
    /// from +0, lane l fusing the products of elements l, l + 16, … in increasing order (a partial
    /// last group padded with zeros), then the lanes added pairwise, l + (l + 8), then 4, 2, 1.
    static func scalarProduct(_ bytes: [UInt8], _ type: ElementType, row: Int, rowBytes: Int, x: ArraySlice<Float>)
        -> Float
    {
        let n = x.count, x0 = x.startIndex
        var lanes = [Float](repeating: 0, count: 16)
        for group in stride(from: 0, to: n, by: 16) {
            for l in 0..<16 {
                let k = group + l
                let w: Float = k < n ? weight(bytes, type, row: row, rowBytes: rowBytes, k) : 0
                let v: Float = k < n ? x[x0 + k] : 0
                lanes[l] = lanes[l].addingProduct(w, v)
            }
        }
        for width in [8, 4, 2, 1] {
            for l in 0..<width { lanes[l] = lanes[l] + lanes[l + width] }
        }
        return lanes[0]
    }

    /// Random weights of `type` in [−1, 1), `rows` × `n`, as a tensor.
    static func randomMatrix(_ type: ElementType, rows: Int, n: Int, rng: inout KernelRNG) throws -> Tensor {
        let values = rng.floats(rows * n)
        var bytes: [UInt8] = []
        for v in values {
            switch type {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            default: withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bytes += $0 }
            }
        }
        return try bytes.withUnsafeBytes { try Tensor(type: type, shape: Shape([rows, n]), copying: $0) }
    }

    /// The kernel's y for `columns` columns of x (each `ldx` apart) and W's rows `rows`, every other
    /// entry NaN.
    static func product(_ w: Tensor, _ x: [Float], ldx: Int, columns: Int, rows: Range<Int>, isa: InstructionSet)
        throws -> [Float]
    {
        var y = [Float](repeating: .nan, count: columns * w.rowCount)
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try FloatMatMul.multiply(w, xb.baseAddress!, xCount: xb.count, ldx: ldx, columns: 0..<columns,
                                         into: yb.baseAddress!, yCount: yb.count, rows: rows, isa: isa)
            }
        }
        return y
    }

    /// Every (row, column) result is the scalar transcription's bits, on every instruction set, for
    /// every number of columns (tiles full and ragged) and every row range a pool task may get; row
    /// lengths with and without a partial last group of 16, columns of x further apart than a row.
    @Test(arguments: types, [1, 15, 16, 100, 257, 4500])
    func addsInTheDocumentedOrder(type: ElementType, n: Int) throws {
        var rng = KernelRNG(seed: 0xF10A7 &+ UInt64(type.rawValue) &* 1000 &+ UInt64(n))
        let w = try Self.randomMatrix(type, rows: 13, n: n, rng: &rng)
        let bytes = Array(w.bytes)
        let maxColumns = 33, ldx = n + 3
        let x = rng.floats(maxColumns * ldx, in: -2...2)
        var reference = [Float](repeating: 0, count: maxColumns * w.rowCount)
        for c in 0..<maxColumns {
            for r in 0..<w.rowCount {
                reference[c * w.rowCount + r] = Self.scalarProduct(bytes, type, row: r, rowBytes: w.rowBytes,
                                                                   x: x[c * ldx..<c * ldx + n])
            }
        }
        for isa in InstructionSet.supported {
            for columns in [1, 2, 3, 7, 8, 33] {
                for rows in [0..<13, 1..<13, 0..<5, 5..<13, 12..<13] {
                    let y = try Self.product(w, x, ldx: ldx, columns: columns, rows: rows, isa: isa)
                    var mismatches = 0
                    for c in 0..<columns {
                        for r in 0..<w.rowCount {
                            let got = y[c * w.rowCount + r]
                            if !rows.contains(r) {
                                if !got.isNaN { Issue.record("\(type) \(isa): row \(r) outside \(rows) written") }
                                continue
                            }
                            let expected = reference[c * w.rowCount + r]
                            if got.bitPattern != expected.bitPattern {
                                mismatches += 1
                                if mismatches <= 3 {
                                    Issue.record("\(type) n=\(n) \(isa) B=\(columns) rows \(rows): (\(r), \(c)) \(got) vs \(expected)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every instruction set gives the portable variant's bits on a wide matrix (many groups of 16,
    /// more columns than a column block), including for infinities and zeros in x.
    @Test(arguments: types)
    func everyInstructionSetGivesTheSameBits(type: ElementType) throws {
        var rng = KernelRNG(seed: 0x15A &+ UInt64(type.rawValue))
        let n = 1040, columns = 50
        let w = try Self.randomMatrix(type, rows: 37, n: n, rng: &rng)
        var x = rng.floats(columns * n, in: -3...3)
        for i in stride(from: 5, to: x.count, by: 97) { x[i] = 0 }
        x[3 * n + 7] = .infinity
        let portable = try Self.product(w, x, ldx: n, columns: columns, rows: 0..<37, isa: .portable)
        #expect(portable[3 * 37].isInfinite || portable[3 * 37].isNaN, "the infinity reaches column 3")
        for isa in InstructionSet.supported {
            let y = try Self.product(w, x, ldx: n, columns: columns, rows: 0..<37, isa: isa)
            #expect(y.map(\.bitPattern) == portable.map(\.bitPattern), "\(type) \(isa)")
        }
    }

    /// Close to numpy's exact product of the committed fixture matrices (F16 and BF16 widened), within
    /// Float rounding of the sum.
    @Test(arguments: types, ["matvec", "wide"])
    func matchesTheExactProduct(type: ElementType, set: String) throws {
        let file = try Self.fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let reference = try #require(fixture.types[type.name])
        for isa in InstructionSet.supported {
            let y = try FloatMatMul.multiply(w, fixture.x, isa: isa)
            expectClose(y, reference.y, scale: reference.absdot, tolerance: 1e-5, "\(set) \(type) \(isa)")
        }
    }

    /// Rows that start anywhere (a mapped safetensors file does not align F32 rows) give the same
    /// bits as aligned ones.
    @Test(arguments: types)
    func unalignedRowsGiveTheSameBits(type: ElementType) throws {
        var rng = KernelRNG(seed: 0xA11 &+ UInt64(type.rawValue))
        let n = 70, rows = 9, columns = 5
        let w = try Self.randomMatrix(type, rows: rows, n: n, rng: &rng)
        let x = rng.floats(columns * n)
        let aligned = try Self.product(w, x, ldx: n, columns: columns, rows: 0..<rows, isa: .best)
        // The same rows, 1 byte into a buffer and 6 bytes apart beyond their length.
        let rowBytes = w.rowBytes + 6
        var shifted = [UInt8](repeating: 0xFF, count: 1 + rows * rowBytes)
        for r in 0..<rows {
            for b in 0..<w.rowBytes { shifted[1 + r * rowBytes + b] = w.bytes[r * w.rowBytes + b] }
        }
        for isa in InstructionSet.supported {
            var y = [Float](repeating: .nan, count: columns * rows)
            shifted.withUnsafeBytes { raw in
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        FloatMatMul.unsafeMultiply(type: type, matrix: raw.baseAddress! + 1, rowBytes: rowBytes,
                                                   rowLength: n, x: xb.baseAddress!, ldx: n, columns: 0..<columns,
                                                   y: yb.baseAddress!, ldy: rows, rows: 0..<rows, isa: isa)
                    }
                }
            }
            #expect(y.map(\.bitPattern) == aligned.map(\.bitPattern), "\(type) \(isa)")
        }
    }

    /// Quantized weights, and operands too small for the columns asked for, are refused.
    @Test func refusesWhatItCannotMultiply() throws {
        var rng = KernelRNG(seed: 3)
        let w = try Self.randomMatrix(.f16, rows: 4, n: 32, rng: &rng)
        let x = rng.floats(2 * 32)
        var y = [Float](repeating: 0, count: 2 * 4)
        #expect(FloatMatMul.supports(.f32) && FloatMatMul.supports(.f16) && FloatMatMul.supports(.bf16))
        #expect(!FloatMatMul.supports(.q8_0) && !FloatMatMul.supports(.q4_K))
        let q = try KernelFixtures.matrix("matvec", .q8_0, rows: 8, cols: 512)
        #expect(throws: KernelError.unsupportedType(.q8_0)) { _ = try FloatMatMul.multiply(q, [Float](repeating: 0, count: 512)) }
        #expect(throws: KernelError.self) { _ = try FloatMatMul.multiply(w, [Float](repeating: 0, count: 33)) }
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeMutableBufferPointer { yb in
                #expect(throws: KernelError.self) {
                    try FloatMatMul.multiply(w, xb.baseAddress!, xCount: 63, columns: 0..<2, into: yb.baseAddress!,
                                             yCount: 8)
                }
                #expect(throws: KernelError.self) {
                    try FloatMatMul.multiply(w, xb.baseAddress!, xCount: 64, columns: 0..<2, into: yb.baseAddress!,
                                             yCount: 7)
                }
                #expect(throws: KernelError.self) {
                    try FloatMatMul.multiply(w, xb.baseAddress!, xCount: 64, columns: 0..<2, into: yb.baseAddress!,
                                             yCount: 8, rows: 2..<5)
                }
                try FloatMatMul.multiply(w, xb.baseAddress!, xCount: 64, columns: 0..<2, into: yb.baseAddress!,
                                         yCount: 8)
            }
        }
        #expect(y.allSatisfy { $0.isFinite })
    }
}
