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

    /// A fixture set's weights of `type`, its activation quantized in the kernel's format, and the
    /// kernel's output.
    static func kernelOutput(type: ElementType, set: String) throws
        -> (fixture: KernelFixtures.MatVecSet, w: Tensor, a: Q8Activation, y: [Float])
    {
        let file = try fixtures.get()
        let fixture = set == "matvec" ? file.matvec : file.wide
        let w = try KernelFixtures.matrix(set, type, rows: fixture.rows, cols: fixture.cols)
        let a = Q8Activation()
        let format = try #require(Q8Activation.Format(weightType: type))
        try fixture.x.withUnsafeBufferPointer { (x) throws(KernelError) in
            try a.quantize(x.baseAddress!, rows: 1, count: fixture.cols, format: format)
        }
        var y = [Float](repeating: .nan, count: fixture.rows)
        try y.withUnsafeMutableBufferPointer { (yb) throws(KernelError) in
            try QuantizedMatVec.multiply(w, a, into: yb.baseAddress!, yCount: yb.count)
        }
        return (fixture, w, a, y)
    }

    /// The 32-value kernels add in the float order of ggml's AVX2 `vec_dot` (eight lanes, lane l the
    /// integer sum of products 4l..4l+3 in `bytes_from_nibbles_32` order, d_w·d_x fused into each
    /// lane, then `hsum_float_8`; Q4_1 adds Σ m_w·s_x after). A scalar transcription of that order
    /// must give the same bits, row for row.
    @Test(arguments: [ElementType.q4_0, .q4_1, .q8_0], ["matvec", "wide"])
    func addsInGGMLsOrder(type: ElementType, set: String) throws {
        let (fixture, w, a, y) = try Self.kernelOutput(type: type, set: set)
        let bytes = Array(w.bytes)
        let blockBytes = type == .q4_0 ? 18 : type == .q4_1 ? 20 : 34
        let blocks = fixture.cols / 32
        func f16(_ at: Int) -> Float { Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)) }
        for r in 0..<fixture.rows {
            var lanes = [Float](repeating: 0, count: 8)
            var mins: Float = 0
            for b in 0..<blocks {
                let base = (r * blocks + b) * blockBytes
                // The block's 32 weight values in ggml's order: low nibbles, then high nibbles.
                let q: [Int32] = (0..<32).map { i in
                    switch type {
                    case .q4_0: return Int32(i < 16 ? bytes[base + 2 + i] & 0x0F : bytes[base + 2 + i - 16] >> 4) - 8
                    case .q4_1: return Int32(i < 16 ? bytes[base + 4 + i] & 0x0F : bytes[base + 4 + i - 16] >> 4)
                    default: return Int32(Int8(bitPattern: bytes[base + 2 + i]))
                    }
                }
                let d = f16(base) * a.scales[b]
                for l in 0..<8 {
                    let s = (0..<4).reduce(Int32(0)) { $0 + q[4 * l + $1] * Int32(a.qs[b * 32 + 4 * l + $1]) }
                    lanes[l] = lanes[l].addingProduct(d, Float(s))
                }
                if type == .q4_1 { mins += f16(base + 2) * a.minScales[b] }
            }
            let h = ((lanes[4] + lanes[0]) + (lanes[6] + lanes[2])) + ((lanes[5] + lanes[1]) + (lanes[7] + lanes[3]))
            #expect(y[r].bitPattern == (h + mins).bitPattern, "\(set) \(type) row \(r): \(y[r]) vs \(h + mins)")
        }
    }

    /// The K-quant kernels add in the float order of ggml's AVX2 `ggml_vec_dot_q4_K_q8_K` and
    /// `ggml_vec_dot_q6_K_q8_K`: per super-block eight Int32 lanes, lane l the sum over the 32-value
    /// groups of scale × (products 4l..4l+3 of the group), fused as d·d_x into eight Float lanes;
    /// Q4_K's mins as four lanes of m·Σx pairs (sub-blocks 2k, 2k+1) fused with −dmin·d_x; then
    /// `hsum_float_8`, plus the four min lanes summed pairwise. A scalar transcription of that order,
    /// unpacking the blocks from their documented layout, must give the same bits.
    @Test(arguments: [ElementType.q4_K, .q6_K], ["matvec", "wide"])
    func kQuantsAddInGGMLsOrder(type: ElementType, set: String) throws {
        let (fixture, w, a, y) = try Self.kernelOutput(type: type, set: set)
        let bytes = Array(w.bytes)
        let blockBytes = type == .q4_K ? 144 : 210
        let blocks = fixture.cols / 256
        func f16(_ at: Int) -> Float { Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)) }
        for r in 0..<fixture.rows {
            var lanes = [Float](repeating: 0, count: 8), minLanes = [Float](repeating: 0, count: 4)
            for b in 0..<blocks {
                let base = (r * blocks + b) * blockBytes
                let x = (0..<256).map { Int32(a.qs[b * 256 + $0]) }
                // Each value's integer weight (after Q6_K's −32) and the integer scale of its sub-block.
                var q = [Int32](repeating: 0, count: 256), scale = [Int32](repeating: 0, count: 256)
                var d: Float
                if type == .q4_K {
                    let sc = (0..<12).map { Int32(bytes[base + 4 + $0]) }
                    var mins = [Int32](repeating: 0, count: 8)
                    for s in 0..<8 {
                        let (scale6, min6) = s < 4
                            ? (sc[s] & 63, sc[s + 4] & 63)
                            : ((sc[s + 4] & 0xF) | (sc[s - 4] >> 6) << 4, (sc[s + 4] >> 4) | (sc[s] >> 6) << 4)
                        mins[s] = min6
                        for i in 0..<32 {
                            let byte = Int32(bytes[base + 16 + 32 * (s / 2) + i])
                            q[32 * s + i] = s % 2 == 0 ? byte & 0xF : byte >> 4
                            scale[32 * s + i] = scale6
                        }
                    }
                    let sums = (0..<8).map { s in (0..<32).reduce(Int32(0)) { $0 + x[32 * s + $1] } }
                    let dmin = -a.scales[b] * f16(base + 2)
                    for k in 0..<4 {
                        let prod = mins[2 * k] * sums[2 * k] + mins[2 * k + 1] * sums[2 * k + 1]
                        minLanes[k] = minLanes[k].addingProduct(dmin, Float(prod))
                    }
                    d = a.scales[b] * f16(base)
                } else {
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
                    d = a.scales[b] * f16(base + 208)
                }
                for l in 0..<8 {
                    var sum: Int32 = 0
                    for g in 0..<8 {
                        for i in 4 * l..<4 * l + 4 { sum += scale[32 * g + i] * q[32 * g + i] * x[32 * g + i] }
                    }
                    lanes[l] = lanes[l].addingProduct(d, Float(sum))
                }
            }
            let h = ((lanes[4] + lanes[0]) + (lanes[6] + lanes[2])) + ((lanes[5] + lanes[1]) + (lanes[7] + lanes[3]))
            let m = (minLanes[0] + minLanes[2]) + (minLanes[1] + minLanes[3])
            let expected = type == .q4_K ? h + m : h
            #expect(y[r].bitPattern == expected.bitPattern, "\(set) \(type) row \(r): \(y[r]) vs \(expected)")
        }
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

    /// The same through a task value (`ParallelTask`, the decode loop's allocation-free form),
    /// alternating with closures, on the pool and on the serial runner.
    @Test(arguments: [1, 2, 3])
    func workerPoolRunsEveryTaskValueOnce(threads: Int) {
        struct Count: ParallelTask {
            let counts: UnsafeMutablePointer<Int>
            let offset: Int
            func run(task: Int) { counts[task] += offset }
        }
        let runner = sharedRunner(threads: threads)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for tasks in [1, 2, 3, 7, 64, 1000] {
            for round in 0..<50 {
                counts.update(repeating: 0, count: tasks)
                if round % 2 == 0 {
                    runner.run(tasks: tasks, Count(counts: counts, offset: 1))
                } else {
                    runner.run(tasks: tasks) { i in counts[i] += 1 }
                }
                #expect((0..<tasks).allSatisfy { counts[$0] == 1 })
            }
        }
    }

    /// After a pause long enough for idle workers to stop spinning and sleep, the next operations
    /// wake them and still run every task exactly once, on more than the calling thread.
    @Test func sleepingWorkerPoolWakesForTheNextRun() {
        let runner = sharedRunner(threads: 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        defer { counts.deallocate() }
        let caller = pthread_self()
        var otherThreadRan = false
        for round in 0..<200 {
            // 20 000 yields, then the worker sleeps: 50 ms is well past that on this kind of machine.
            if round % 40 == 0 { usleep(50_000) }
            counts.update(repeating: 0, count: 256)
            let others = UnsafeMutablePointer<Int>.allocate(capacity: 256)
            defer { others.deallocate() }
            runner.run(tasks: 256) { i in
                counts[i] += 1
                for _ in 0..<2_000 { others[i] = pthread_equal(pthread_self(), caller) == 0 ? 1 : 0 }
            }
            #expect((0..<256).allSatisfy { counts[$0] == 1 })
            if (0..<256).contains(where: { others[$0] == 1 }) { otherThreadRan = true }
        }
        #expect(otherThreadRan)
    }
}
