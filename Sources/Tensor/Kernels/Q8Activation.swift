import CKernels
import ModelFormats

/// Activations quantized to 8 bits, as ggml quantizes them before every product with a quantized
/// weight (its `vec_dot_type`): the input of ``QuantizedMatMul``.
///
/// One quantization serves every matrix that reads the same input (q, k and v; gate and up), so
/// it is done once per input, not once per product. Each row (one token's activation, a column of
/// the product) is quantized on its own, so a token's quants never depend on the batch it is in.
///
/// Layout, for `rows` rows of `count` values each (row-major throughout):
/// - `qs`: the Int8 quants, `count` per row;
/// - `scales`: one Float per block (32 values for Q8_0/Q8_1, 256 for Q8_K): ggml's `d`, already
///   rounded to Float16 for Q8_0/Q8_1 as ggml stores it;
/// - `minScales` (Q8_1 only): ggml's `s = d · Σq` rounded to Float16, per block of 32;
/// - `sums32` (Q8_K only): the sum of each 32 quants (ggml's `bsums` in pairs), as Int16;
/// - `negSums32` (Q8_0 and Q8_1): −Σ of each block's 32 quants, which the kernels scale to take off
///   the offsets of unsigned weight encodings (Q4_0's −8, Q5_0's −16, Q8_0's +128 with VNNI).
///
/// Memory only grows; after the first product of each size nothing is allocated.
package final class Q8Activation {
    /// The 8-bit format, after the weight type it is multiplied with.
    package enum Format: Int32, Sendable, Hashable {
        /// Blocks of 32, a Float16 scale (Q4_0, Q5_0, Q8_0 weights).
        case q8_0 = 0
        /// Q8_0 plus each block's scaled sum as Float16 (Q4_1, Q5_1 weights).
        case q8_1 = 1
        /// Blocks of 256 with a Float scale and sums of each 32 (the K-quants).
        case q8_K = 2

        /// The format ggml pairs with weights of `type`, or `nil` for F32/F16/BF16 weights.
        package init?(weightType type: ElementType) {
            switch type {
            case .q4_0, .q5_0, .q8_0: self = .q8_0
            case .q4_1, .q5_1: self = .q8_1
            case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: self = .q8_K
            case .f32, .f16, .bf16: return nil
            }
        }

        /// Values per block.
        package var blockSize: Int { self == .q8_K ? 256 : 32 }
    }

    package private(set) var format: Format = .q8_0
    /// Values per row.
    package private(set) var count = 0
    /// Rows held.
    package private(set) var rows = 0

    package private(set) var qs: UnsafeMutablePointer<Int8>
    package private(set) var scales: UnsafeMutablePointer<Float>
    package private(set) var minScales: UnsafeMutablePointer<Float>
    package private(set) var sums32: UnsafeMutablePointer<Int16>
    package private(set) var negSums32: UnsafeMutablePointer<Int32>
    /// Values the buffers hold room for.
    private var capacity = 0

    package init() {
        qs = .allocate(capacity: 256)
        scales = .allocate(capacity: 8)
        minScales = .allocate(capacity: 8)
        sums32 = .allocate(capacity: 8)
        negSums32 = .allocate(capacity: 8)
        capacity = 256
    }

    deinit { deallocateBuffers() }

    private func deallocateBuffers() {
        qs.deallocate()
        scales.deallocate()
        minScales.deallocate()
        sums32.deallocate()
        negSums32.deallocate()
    }

    /// Quantizes `rows` rows of `count` values from `x` (rows `count` apart) in `format`, with the
    /// kernels of `isa` (every instruction set gives the same quants). With a `runner`, a prompt's
    /// rows are shared among its threads: each row is quantized alone, so the split changes no bit,
    /// and the pool's other threads need not wait idle while one thread quantizes a prefill.
    /// - Throws: ``KernelError`` when `count` is not a whole number of blocks or sizes overflow.
    package func quantize(
        _ x: UnsafePointer<Float>, rows: Int, count: Int, format: Format, isa: InstructionSet = .best,
        runner: (any ParallelRunner)? = nil
    ) throws(KernelError) {
        let block = format.blockSize
        guard count >= 0, count % block == 0 else { throw .invalidDimension(name: "count", value: count) }
        let (total, overflow) = rows.multipliedReportingOverflow(by: count)
        guard rows >= 0, !overflow, total <= Int.max / 8 else { throw .invalidDimension(name: "rows", value: rows) }
        reserve(total)
        self.format = format
        self.count = count
        self.rows = rows
        let job = RowQuantization(x: x, count: count, format: format, isa: isa, qs: qs, scales: scales,
                                  minScales: minScales, sums32: sums32, negSums32: negSums32)
        if let runner, runner.threadCount > 1, rows >= 2 * runner.threadCount {
            runner.run(tasks: runner.threadCount, RowShares(job: job, rows: rows, shares: runner.threadCount))
        } else {
            for r in 0..<rows { job.quantize(row: r) }
        }
    }

    /// What quantizing one row needs, as a value the pool's threads can read.
    private struct RowQuantization {
        let x: UnsafePointer<Float>
        let count: Int
        let format: Format
        let isa: InstructionSet
        let qs: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
        let minScales: UnsafeMutablePointer<Float>, sums32: UnsafeMutablePointer<Int16>
        let negSums32: UnsafeMutablePointer<Int32>

        func quantize(row r: Int) {
            sparrow_quantize_q8(isa.rawValue, format.rawValue, x + r &* count, Int64(count), qs + r &* count,
                                scales + r &* (count / format.blockSize), minScales + r &* (count / 32),
                                sums32 + r &* (count / 32), negSums32 + r &* (count / 32))
        }
    }

    /// Contiguous shares of the rows, one per task.
    private struct RowShares: ParallelTask {
        let job: RowQuantization
        let rows: Int
        let shares: Int

        func run(task t: Int) {
            for r in (t * rows / shares)..<((t + 1) * rows / shares) { job.quantize(row: r) }
        }
    }

    /// The C kernels' view of rows `0..<rows`.
    var matrix: sparrow_q8_matrix {
        sparrow_q8_matrix(qs: qs, scales: scales, scaled_sums: minScales, sums32: sums32,
                          neg_sums32: negSums32,
                          count: Int64(count))
    }

    /// Makes room for `total` values (all rows).
    private func reserve(_ total: Int) {
        guard total > capacity else { return }
        deallocateBuffers()
        qs = .allocate(capacity: total)
        scales = .allocate(capacity: total / 32 + 1)
        minScales = .allocate(capacity: total / 32 + 1)
        sums32 = .allocate(capacity: total / 32 + 1)
        negSums32 = .allocate(capacity: total / 32 + 1)
        capacity = total
    }
}
