import Foundation
import ModelFormats
import Testing
import Tensor

@Suite("QuantizedMatMul: integer products with 8-bit activations (ggml's vec_dot), every instruction set")
struct QuantizedMatMulTests {
    static let fixtures = Result { try KernelFixtures.load(KernelFixtures.MatVecFile.self, "matvec.json") }
    static let types: [ElementType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// The little-endian Float16 at `at`, widened.
    static func half(_ bytes: [UInt8], _ at: Int) -> Float {
        Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8))
    }

    /// ggml's `hsum_float_8` of eight lanes: (l0+l4, l1+l5, l2+l6, l3+l7), then (0+2) + (1+3).
    static func hsum8(_ lanes: [Float]) -> Float {
        ((lanes[4] + lanes[0]) + (lanes[6] + lanes[2])) + ((lanes[5] + lanes[1]) + (lanes[7] + lanes[3]))
    }

    /// The activation as the kernels see it: d·q per block.
    static func dequantized(_ a: Q8Activation) -> [Double] {
        let block = a.format.blockSize
        return (0..<a.count).map { i in Double(a.scales[i / block]) * Double(a.qs[i]) }
    }

    /// A fixture set's weights of `type`, its activation quantized in the kernel's format, and the
    /// kernel's output.
    static func kernelOutput(type: ElementType, set: String, isa: InstructionSet = .best) throws
        -> (fixture: KernelFixtures.MatVecSet, w: Tensor, a: Q8Activation, y: [Float])
    {
        let file = try fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let a = Q8Activation()
        let format = try #require(Q8Activation.Format(weightType: type))
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: format, isa: isa)
        }
        var y = [Float](repeating: .nan, count: fixture.rows)
        try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, isa: isa)
        }
        return (fixture, w, a, y)
    }

    /// Against a Double dot product of the dequantized weights (gguf-py's, `toFloats`) with the
    /// dequantized 8-bit activation: the integer kernels compute exactly that, up to Float rounding.
    @Test(arguments: types, ["matvec", "wide"])
    func matchesDequantizedProduct(type: ElementType, set: String) throws {
        let (fixture, w, a, y) = try Self.kernelOutput(type: type, set: set)
        let xq = Self.dequantized(a)
        let dense = w.toFloats()
        var expected: [Double] = [], scale: [Double] = []
        for r in 0..<fixture.rows {
            let row = dense[r * fixture.cols..<(r + 1) * fixture.cols]
            expected.append(zip(row, xq).reduce(0) { $0 + Double($1.0) * $1.1 })
            scale.append(zip(row, xq).reduce(0) { $0 + abs(Double($1.0) * $1.1) })
        }
        // Q4_1/Q5_1's min term uses ggml's s = Float16(d·Σq), not the exact d·Σq: within Float16's 2⁻¹¹.
        let tolerance = type == .q4_1 || type == .q5_1 ? 1e-3 : 1e-5
        expectClose(y, expected, scale: scale, tolerance: tolerance, "\(set) \(type) integer kernel")
        // And close to the exact Float product (numpy's), within the activation's 8-bit rounding.
        let reference = try #require(fixture.types[type.name])
        expectClose(y, reference.y, scale: reference.absdot, tolerance: 2e-2, "\(set) \(type) vs exact x")
    }

    /// The 32-value kernels keep one Float per (row, column): each block adds its exact integer dot
    /// product, converted to Float, times d_w·d_x with one fused multiply-add, blocks in order; Q4_1
    /// and Q5_1 then add Σ m_w·s_x, summed block by block. A scalar transcription of that order,
    /// unpacking the blocks from their documented layout, must give the same bits, on every
    /// instruction set.
    @Test(arguments: [ElementType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0], ["matvec", "wide"])
    func addsInTheDocumentedOrder(type: ElementType, set: String) throws {
        for isa in InstructionSet.supported {
            let (fixture, w, a, y) = try Self.kernelOutput(type: type, set: set, isa: isa)
            let bytes = Array(w.bytes)
            let blockBytes = type.blockBytes
            let blocks = fixture.cols / 32
            func f16(_ at: Int) -> Float { Self.half(bytes, at) }
            for r in 0..<fixture.rows {
                var sum: Float = 0
                var mins: Float = 0
                for b in 0..<blocks {
                    let base = (r * blocks + b) * blockBytes
                    // Where the nibbles and the fifth bits start, and the offset of the values.
                    let (nibbles, fifth, offset): (Int, Int?, Int32) = switch type {
                    case .q4_0: (base + 2, nil, 8)
                    case .q4_1: (base + 4, nil, 0)
                    case .q5_0: (base + 6, base + 2, 16)
                    case .q5_1: (base + 8, base + 4, 0)
                    default: (0, nil, 0)
                    }
                    // The block's 32 weight values in ggml's order: low nibbles, then high nibbles.
                    let q: [Int32] = (0..<32).map { i in
                        if type == .q8_0 { return Int32(Int8(bitPattern: bytes[base + 2 + i])) }
                        let n = Int32(i < 16 ? bytes[nibbles + i] & 0x0F : bytes[nibbles + i - 16] >> 4)
                        var high: Int32 = 0
                        if let fifth { high = Int32((bytes[fifth + i / 8] >> (i % 8)) & 1) << 4 }
                        return (n | high) - offset
                    }
                    let d = f16(base) * a.scales[b]
                    let dot = (0..<32).reduce(Int32(0)) { $0 + q[$1] * Int32(a.qs[b * 32 + $1]) }
                    sum = sum.addingProduct(d, Float(dot))
                    if type == .q4_1 || type == .q5_1 { mins += f16(base + 2) * a.minScales[b] }
                }
                #expect(y[r].bitPattern == (sum + mins).bitPattern, "\(isa) \(set) \(type) row \(r): \(y[r]) vs \(sum + mins)")
            }
        }
    }

    /// The K-quant kernels' Float orders. Q4_K and Q5_K keep one Float per (row, column): per
    /// super-block d·d_x times the exact Σ scale·q·x with one fused multiply-add, then −dmin·d_x times
    /// the exact Σ_s min_s·(Σx)_s with another. Q6_K adds in the order of ggml's AVX2
    /// `ggml_vec_dot_q6_K_q8_K`: per super-block eight Int32 lanes, lane l the sum over the 32-value
    /// groups of scale × (products 4l..4l+3 of the group), fused as d·d_x into eight Float lanes, then
    /// `hsum_float_8`. A scalar transcription of those orders, unpacking the blocks from their
    /// documented layout, must give the same bits on every instruction set.
    @Test(arguments: [ElementType.q4_K, .q5_K, .q6_K], ["matvec", "wide"])
    func kQuantsAddInTheDocumentedOrder(type: ElementType, set: String) throws {
        for isa in InstructionSet.supported {
            let (fixture, w, a, y) = try Self.kernelOutput(type: type, set: set, isa: isa)
            let bytes = Array(w.bytes)
            let blockBytes = type.blockBytes
            let blocks = fixture.cols / 256
            func f16(_ at: Int) -> Float { Self.half(bytes, at) }
            for r in 0..<fixture.rows {
                var lanes = [Float](repeating: 0, count: 8)
                var sum: Float = 0
                for b in 0..<blocks {
                    let base = (r * blocks + b) * blockBytes
                    let x = (0..<256).map { Int32(a.qs[b * 256 + $0]) }
                    // Each value's integer weight (after Q6_K's −32) and the integer scale of its sub-block.
                    var q = [Int32](repeating: 0, count: 256), scale = [Int32](repeating: 0, count: 256)
                    if type == .q4_K || type == .q5_K {
                        let sc = (0..<12).map { Int32(bytes[base + 4 + $0]) }
                        let quants = type == .q4_K ? base + 16 : base + 48
                        var mins = [Int32](repeating: 0, count: 8)
                        for s in 0..<8 {
                            let (scale6, min6) = s < 4
                                ? (sc[s] & 63, sc[s + 4] & 63)
                                : ((sc[s + 4] & 0xF) | (sc[s - 4] >> 6) << 4, (sc[s + 4] >> 4) | (sc[s] >> 6) << 4)
                            mins[s] = min6
                            for i in 0..<32 {
                                let byte = Int32(bytes[quants + 32 * (s / 2) + i])
                                q[32 * s + i] = s % 2 == 0 ? byte & 0xF : byte >> 4
                                // Q5_K: bit s of qh[i] is the fifth bit of value i of sub-block s.
                                if type == .q5_K { q[32 * s + i] |= Int32((bytes[base + 16 + i] >> s) & 1) << 4 }
                                scale[32 * s + i] = scale6
                            }
                        }
                        let sums = (0..<8).map { s in (0..<32).reduce(Int32(0)) { $0 + x[32 * s + $1] } }
                        let dot = (0..<256).reduce(Int32(0)) { $0 + scale[$1] * q[$1] * x[$1] }
                        let minDot = (0..<8).reduce(Int32(0)) { $0 + mins[$1] * sums[$1] }
                        sum = sum.addingProduct(a.scales[b] * f16(base), Float(dot))
                        sum = sum.addingProduct(-a.scales[b] * f16(base + 2), Float(minDot))
                        continue
                    }
                    for h in 0..<2 {
                        for i in 0..<32 {
                            let l0 = Int32(bytes[base + 64 * h + i]), l1 = Int32(bytes[base + 64 * h + 32 + i])
                            let hb = Int32(bytes[base + 128 + 32 * h + i])
                            q[128 * h + i] = (l0 & 0xF) | (hb & 3) << 4
                            q[128 * h + 32 + i] = (l1 & 0xF) | ((hb >> 2) & 3) << 4
                            q[128 * h + 64 + i] = (l0 >> 4) | ((hb >> 4) & 3) << 4
                            q[128 * h + 96 + i] = (l1 >> 4) | ((hb >> 6) & 3) << 4
                        }
                    }
                    for v in 0..<256 {
                        q[v] -= 32
                        scale[v] = Int32(Int8(bitPattern: bytes[base + 192 + v / 16]))
                    }
                    let d = a.scales[b] * f16(base + 208)
                    for l in 0..<8 {
                        var laneSum: Int32 = 0
                        for g in 0..<8 {
                            for i in 4 * l..<4 * l + 4 { laneSum += scale[32 * g + i] * q[32 * g + i] * x[32 * g + i] }
                        }
                        lanes[l] = lanes[l].addingProduct(d, Float(laneSum))
                    }
                }
                let expected = type == .q6_K ? Self.hsum8(lanes) : sum
                #expect(y[r].bitPattern == expected.bitPattern, "\(isa) \(set) \(type) row \(r): \(y[r]) vs \(expected)")
            }
        }
    }

    /// 13 rows (a tile of 4 or 8, then pairs and a single row) made of the "matvec" fixture's 8 rows of `type`.
    static func raggedMatrix(_ type: ElementType, set: String = "matvec") throws -> Tensor {
        let file = try fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let source = Array(w.bytes), rowBytes = w.rowBytes
        var bytes: [UInt8] = []
        for r in 0..<13 {
            let row = r * 5 % fixture.rows
            bytes += source[row * rowBytes..<(row + 1) * rowBytes]
        }
        return try bytes.withUnsafeBytes { try Tensor(type: type, shape: Shape([13, fixture.cols]), copying: $0) }
    }

    /// Matrix × matrix gives, for every (row, column), the bits of matrix × one vector, and the
    /// same bits on every instruction set: whatever the column count (ragged B), whatever row range
    /// and tile a result falls in. This is what makes a token's logits independent of its batch.
    /// The rows of 512 values ("matvec") fit one run of a sweep's unpacked blocks; those of 4,352
    /// ("wide") take several.
    @Test(arguments: types, ["matvec", "wide"])
    func everyBatchAndInstructionSetGivesTheSameBits(type: ElementType, set: String) throws {
        let w = try Self.raggedMatrix(type, set: set)
        let format = try #require(Q8Activation.Format(weightType: type))
        var rng = KernelRNG(seed: 0xB47C4 &+ UInt64(type.rawValue))
        let maxColumns = 33
        let x = (0..<maxColumns * w.rowLength).map { _ in Float.random(in: -2...2, using: &rng) }
        // The reference: each column alone, portable C, one row at a time.
        let single = Q8Activation()
        var reference = [Float](repeating: .nan, count: maxColumns * w.rowCount)
        for c in 0..<maxColumns {
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try single.quantize(xb.baseAddress! + c * w.rowLength, rows: 1, count: w.rowLength, format: format,
                                    isa: .portable)
            }
            for r in 0..<w.rowCount {
                try reference.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                    try QuantizedMatMul.multiply(w, single, into: yb.baseAddress! + c * w.rowCount, yCount: w.rowCount,
                                                 rows: r..<r + 1, isa: .portable)
                }
            }
        }
        let batch = Q8Activation()
        for isa in InstructionSet.supported {
            for columns in [1, 2, 3, 7, 8, 33] {
                try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                    try batch.quantize(xb.baseAddress!, rows: columns, count: w.rowLength, format: format, isa: isa)
                }
                // Odd row ranges, as pool tasks split them.
                for rows in [0..<13, 1..<13, 0..<5, 5..<13] {
                    var y = [Float](repeating: .nan, count: columns * w.rowCount)
                    try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                        try QuantizedMatMul.multiply(w, batch, into: yb.baseAddress!, yCount: yb.count, rows: rows,
                                                     isa: isa)
                    }
                    for c in 0..<columns {
                        for r in rows where y[c * w.rowCount + r].bitPattern != reference[c * w.rowCount + r].bitPattern {
                            Issue.record("\(type) \(isa) B=\(columns) rows \(rows): (\(r), \(c)) \(y[c * w.rowCount + r]) vs \(reference[c * w.rowCount + r])")
                        }
                    }
                }
            }
        }
    }

    /// Q4_K and Q5_K for one column read each tile's rows one after another in runs of up to 64
    /// super-blocks (`DIRECT_K4`); rows of 65 super-blocks (16,640 values) take two runs, the second
    /// of one. One column gives the bits of the same column among two (the interleaved kernel), and
    /// of the portable C, on every instruction set; 13 random rows make tiles of 8 and 5.
    @Test(arguments: [ElementType.q4_K, .q5_K])
    func rowsLongerThanOneRunGiveTheSameBits(type: ElementType) throws {
        let rows = 13, length = 65 * 256, blockBytes = type == .q4_K ? 144 : 176
        var rng = KernelRNG(seed: 0x65B10C + UInt64(type.rawValue))
        var bytes = (0..<rows * (length / 256) * blockBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // d and dmin: small positive Float16s (random bytes would give infinities and NaNs).
        for block in stride(from: 0, to: bytes.count, by: blockBytes) {
            bytes[block] = UInt8.random(in: 0...255, using: &rng)
            bytes[block + 1] = 0x1C
            bytes[block + 2] = UInt8.random(in: 0...255, using: &rng)
            bytes[block + 3] = 0x1C
        }
        let w = try bytes.withUnsafeBytes { try Tensor(type: type, shape: Shape([rows, length]), copying: $0) }
        let x = rng.floats(2 * length, in: -2...2)
        func product(columns: Int, isa: InstructionSet) throws -> [Float] {
            let a = Q8Activation()
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try a.quantize(xb.baseAddress!, rows: columns, count: length, format: .q8_K, isa: isa)
            }
            var y = [Float](repeating: .nan, count: columns * rows)
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 0..<rows, isa: isa)
            }
            return y
        }
        let reference = try product(columns: 1, isa: .portable)
        let finite = reference.allSatisfy { $0.isFinite }
        #expect(finite)
        for isa in InstructionSet.supported {
            let one = try product(columns: 1, isa: isa), two = try product(columns: 2, isa: isa)
            for r in 0..<rows {
                #expect(one[r].bitPattern == reference[r].bitPattern, "\(type) \(isa) row \(r): \(one[r]) vs \(reference[r])")
                #expect(two[r].bitPattern == one[r].bitPattern, "\(type) \(isa) row \(r) among 2: \(two[r]) vs \(one[r])")
            }
        }
    }

    /// Quantizing the activations gives the same quants, scales and sums on every instruction set,
    /// including for NaN, infinite, zero and tiny inputs.
    @Test(arguments: [Q8Activation.Format.q8_0, .q8_1, .q8_K])
    func quantizationIsTheSameOnEveryInstructionSet(format: Q8Activation.Format) throws {
        var rng = KernelRNG(seed: 7)
        var x = (0..<1024).map { _ in Float.random(in: -3...3, using: &rng) }
        x[3] = .nan
        x[300] = .infinity
        for i in 512..<768 { x[i] = 0 }
        for i in 768..<800 { x[i] = 1e-30 }
        func snapshot(_ isa: InstructionSet) throws -> [String] {
            let a = Q8Activation()
            try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
                try a.quantize(xb.baseAddress!, rows: 2, count: 512, format: format, isa: isa)
            }
            let blocks = 1024 / format.blockSize
            return [
                "\(Array(UnsafeBufferPointer(start: a.qs, count: 1024)))",
                "\(Array(UnsafeBufferPointer(start: a.scales, count: blocks)).map(\.bitPattern))",
                format == .q8_K ? "" : "\(Array(UnsafeBufferPointer(start: a.negSums32, count: 32)))",
                format == .q8_K ? "\(Array(UnsafeBufferPointer(start: a.sums32, count: 32)))"
                    : format == .q8_1 ? "\(Array(UnsafeBufferPointer(start: a.minScales, count: 32)).map(\.bitPattern))" : "",
            ]
        }
        let portable = try snapshot(.portable)
        for isa in InstructionSet.supported { #expect(try snapshot(isa) == portable, "\(isa)") }
        // The sums are the quants' sums.
        let a = Q8Activation()
        try x.withUnsafeBufferPointer { (xb) throws(KernelError) in
            try a.quantize(xb.baseAddress!, rows: 2, count: 512, format: format)
        }
        for k in 0..<32 where format != .q8_K {
            #expect(a.negSums32[k] == -(0..<32).reduce(Int32(0)) { $0 + Int32(a.qs[32 * k + $1]) })
        }
        #expect(a.qs[3] == (format == .q8_K ? 127 : 0), "NaN quantizes as ggml's code does")
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
            try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
        }
        try parts.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 2..<5)
        }
        #expect(parts[0..<2].allSatisfy { $0 == 12345 } && parts[5...].allSatisfy { $0 == 12345 })
        try parts.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 0..<2)
            try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count, rows: 5..<fixture.rows)
        }
        #expect(parts.map(\.bitPattern) == full.map(\.bitPattern))
    }

    /// A format that doesn't belong to the weight type is refused, not misread; so are a y too small
    /// for the columns asked for and columns the activation does not hold.
    @Test func refusesMismatchedOperands() throws {
        let fixture = try Self.fixtures.get().matvec
        let w = try KernelFixtures.matrix("matvec", .q4_K, rows: fixture.rows, cols: fixture.cols)
        let a = Q8Activation()
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: .q8_0)
        }
        var y = [Float](repeating: 0, count: 2 * fixture.rows)
        #expect(throws: KernelError.unsupportedType(.q4_K)) {
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
            }
        }
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: .q8_K)
        }
        #expect(throws: KernelError.self) {
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatMul.multiply(w, a, columns: 0..<2, into: yb.baseAddress!, yCount: yb.count)
            }
        }
        #expect(throws: KernelError.self) {
            try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
                try QuantizedMatMul.multiply(w, a, into: yb.baseAddress!, yCount: fixture.rows - 1)
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

    /// The machine's best instruction set is among those it supports, and the portable one always is.
    @Test func instructionSetsAreDetected() {
        #expect(InstructionSet.portable.isSupported)
        #expect(InstructionSet.best.isSupported)
        #expect(InstructionSet.supported.contains(.best))
    }
}
