import ModelFormats

/// Kernel scheduling: one weight matrix W [outputs, rowLength] times `tokens` activation rows,
/// Y[token, output] = X[token]·W[output], with W's rows split across a ``ParallelRunner``'s threads.
///
/// Each (weight row, token) result is computed by exactly one task, by the kernel's own code and in
/// its own order of additions, so how the rows are split (and how many threads there are) changes
/// no bit of Y; the split only decides which thread computes what. The model layers choose the
/// kernel for a weight and call one of these; they never split rows themselves.
///
/// Y is row-major [tokens, outputs]. The `unsafe` entries check nothing: sizes are the caller's
/// (Transformer's `Linear` checks them once per weight).
package enum ParallelProducts {
    /// Quantized W times X quantized to 8 bits (``QuantizedMatMul``): W's rows in chunks, several
    /// per thread, each chunk multiplied with every token while it is in cache.
    package static func unsafeQuantized(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int, outputs: Int,
        x: Q8Activation, tokens: Int, into y: UnsafeMutablePointer<Float>, runner: any ParallelRunner
    ) {
        let chunk = chunkRows(outputs, threads: runner.threadCount)
        runner.run(tasks: (outputs + chunk - 1) / chunk,
                   QuantizedChunks(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength, q8: x,
                                   tokens: tokens, y: y, chunk: chunk, total: outputs))
    }

    /// One quantized weight matrix and where its product goes, for ``unsafeQuantized(_:_:_:rowLength:x:tokens:runner:)``.
    package struct QuantizedOperand {
        package let type: ElementType
        package let matrix: UnsafeRawPointer
        package let rowBytes: Int
        package let outputs: Int
        package let y: UnsafeMutablePointer<Float>

        package init(type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, outputs: Int,
                     y: UnsafeMutablePointer<Float>) {
            self.type = type
            self.matrix = matrix
            self.rowBytes = rowBytes
            self.outputs = outputs
            self.y = y
        }
    }

    /// Two or three quantized matrices times the same 8-bit X (q, k and v; gate and up) in one
    /// operation of the pool: each matrix's rows are cut into the chunks
    /// ``unsafeQuantized(type:matrix:rowBytes:rowLength:outputs:x:tokens:into:runner:)`` would cut,
    /// and the threads take chunks of all of them, so the products share one fork and one join.
    /// A decoded token of a small model spends as much time joining threads as multiplying; every
    /// result is still computed by the same kernel call on the same rows, so no bit changes.
    package static func unsafeQuantized(
        _ a: QuantizedOperand, _ b: QuantizedOperand, _ c: QuantizedOperand? = nil, rowLength: Int,
        x: Q8Activation, tokens: Int, runner: any ParallelRunner
    ) {
        let threads = runner.threadCount
        let chunks = QuantizedGroupChunks(
            a: a, b: b, c: c, rowLength: rowLength, q8: x, tokens: tokens,
            chunkA: chunkRows(a.outputs, threads: threads), chunkB: chunkRows(b.outputs, threads: threads),
            chunkC: chunkRows(c?.outputs ?? 0, threads: threads))
        runner.run(tasks: chunks.taskCount, chunks)
    }

    /// F32, F16 or BF16 W times Float X (``FloatMatMul``): W's rows in chunks of whole register
    /// tiles, each chunk multiplied with every token.
    package static func unsafeFloat(
        type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int, outputs: Int,
        x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>, runner: any ParallelRunner
    ) {
        let chunk = chunkRows(outputs, threads: runner.threadCount)
        runner.run(tasks: (outputs + chunk - 1) / chunk,
                   FloatChunks(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength, x: x,
                               tokens: tokens, y: y, chunk: chunk, total: outputs))
    }

    /// W of any type times one Float row x, dequantize-and-dot (``MatVec``): one contiguous share
    /// of W's rows per thread, thread t decoding through `scratch + t·perThread`.
    /// - Throws: ``KernelError`` when a size does not match or `perThread` is too small.
    package static func dequantizedVector(
        _ weight: Tensor, x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, perThread: Int, runner: any ParallelRunner
    ) throws(KernelError) {
        let threads = runner.threadCount, outputs = weight.rowCount, inputs = weight.rowLength
        guard threads > 1, outputs >= 64 else {
            try MatVec.multiply(weight, UnsafeBufferPointer(start: x, count: inputs),
                                into: UnsafeMutableBufferPointer(start: y, count: outputs),
                                scratch: UnsafeMutableBufferPointer(start: scratch, count: perThread))
            return
        }
        let needed = MatVec.scratchCount(for: weight)
        guard perThread >= needed else { throw .bufferTooSmall(operand: "scratch", needed: needed, available: perThread) }
        guard let w = weight.bytes.baseAddress, inputs > 0 else {
            for r in 0..<outputs { y[r] = 0 }
            return
        }
        runner.run(tasks: threads, VectorShares(
            type: weight.type, matrix: w, rowBytes: weight.rowBytes, rowLength: inputs, x: x, y: y,
            threads: threads, total: outputs, scratch: scratch, perThread: perThread))
    }

    /// W of any type times `tokens` Float rows through decoded tiles and sgemm (``MatMul``): one
    /// contiguous share of W's rows per thread (at least 16 rows each), thread t decoding into
    /// `scratch + t·perThread`; each thread's sgemm runs on that thread alone.
    /// - Throws: ``KernelError`` when a size does not match or `perThread` is too small.
    package static func dequantizedBatch(
        _ weight: Tensor, x: UnsafeMutablePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, perThread: Int, runner: any ParallelRunner
    ) throws(KernelError) {
        let outputs = weight.rowCount, inputs = weight.rowLength
        // Aligned F32 weights go to sgemm where they lie; every other type needs a row of scratch.
        let inPlace = weight.type == .f32 && Int(bitPattern: weight.bytes.baseAddress) % MemoryLayout<Float>.alignment == 0
        try MatMul.checkSizes(weights: weight, inputCount: tokens * inputs, tokens: tokens,
                              outputCount: tokens * outputs, scratchCount: inPlace ? max(perThread, inputs) : perThread)
        // Shares of whole rows, at least 16 apiece so that small matrices do not split finer.
        let tasks = max(1, min(runner.threadCount, outputs / 16))
        runner.run(tasks: tasks) { t in
            MatMul.unsafeMatMul(weights: weight, rows: share(t, of: tasks, total: outputs), input: x, tokens: tokens,
                                output: y, scratch: UnsafeMutableBufferPointer(start: scratch + t * perThread,
                                                                               count: perThread))
        }
    }

    /// Rows per task: 16 tasks per thread so that faster threads take more (a shared machine's cores
    /// are not equally fast), at least 16 rows each, and a multiple of 8 so that chunks split into
    /// the kernels' register tiles of rows (up to 8) without a remainder. The pool hands each thread
    /// a contiguous run of tasks in order (``WorkerPool``), so small chunks cost a cold start only
    /// where a thread takes over another's tasks.
    static func chunkRows(_ total: Int, threads: Int) -> Int {
        guard threads > 1 else { return max(total, 1) }
        return (max(16, (total + threads * 16 - 1) / (threads * 16)) + 7) / 8 * 8
    }

    /// Thread t's contiguous share of 0..<total.
    static func share(_ t: Int, of threads: Int, total: Int) -> Range<Int> {
        (t * total / threads)..<((t + 1) * total / threads)
    }

    /// Chunks of W's rows times every token's 8-bit input (a task per chunk of `chunk` rows).
    private struct QuantizedChunks: ParallelTask {
        let type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int
        let q8: Q8Activation, tokens: Int, y: UnsafeMutablePointer<Float>, chunk: Int, total: Int

        func run(task t: Int) {
            let lo = t * chunk
            QuantizedMatMul.unsafeMultiply(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength,
                                           x: q8, columns: 0..<tokens, y: y, ldy: total,
                                           rows: lo..<min(lo + chunk, total))
        }
    }

    /// Chunks of two or three matrices' rows times every token's 8-bit input: tasks 0..<tasksA are
    /// a's chunks, then b's, then c's.
    private struct QuantizedGroupChunks: ParallelTask {
        let a: QuantizedOperand, b: QuantizedOperand, c: QuantizedOperand?
        let rowLength: Int, q8: Q8Activation, tokens: Int
        let chunkA: Int, chunkB: Int, chunkC: Int

        var tasksA: Int { (a.outputs + chunkA - 1) / chunkA }
        var tasksB: Int { (b.outputs + chunkB - 1) / chunkB }
        var tasksC: Int { c.map { ($0.outputs + chunkC - 1) / chunkC } ?? 0 }
        var taskCount: Int { tasksA + tasksB + tasksC }

        func run(task t: Int) {
            let operand: QuantizedOperand, chunk: Int, index: Int
            if t < tasksA {
                (operand, chunk, index) = (a, chunkA, t)
            } else if t < tasksA + tasksB {
                (operand, chunk, index) = (b, chunkB, t - tasksA)
            } else if let c {
                (operand, chunk, index) = (c, chunkC, t - tasksA - tasksB)
            } else {
                return
            }
            let lo = index * chunk
            QuantizedMatMul.unsafeMultiply(type: operand.type, matrix: operand.matrix, rowBytes: operand.rowBytes,
                                           rowLength: rowLength, x: q8, columns: 0..<tokens, y: operand.y,
                                           ldy: operand.outputs, rows: lo..<min(lo + chunk, operand.outputs))
        }
    }

    /// Chunks of W's rows times every token's Float input (a task per chunk of `chunk` rows).
    private struct FloatChunks: ParallelTask {
        let type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int
        let x: UnsafePointer<Float>, tokens: Int, y: UnsafeMutablePointer<Float>, chunk: Int, total: Int

        func run(task t: Int) {
            let lo = t * chunk
            FloatMatMul.unsafeMultiply(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength, x: x,
                                       ldx: rowLength, columns: 0..<tokens, y: y, ldy: total,
                                       rows: lo..<min(lo + chunk, total))
        }
    }

    /// Thread t's share of W's rows dotted with x in Float, decoding through its own scratch.
    private struct VectorShares: ParallelTask {
        let type: ElementType, matrix: UnsafeRawPointer, rowBytes: Int, rowLength: Int
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        let threads: Int, total: Int, scratch: UnsafeMutablePointer<Float>, perThread: Int

        func run(task t: Int) {
            MatVec.unsafeMultiply(type: type, matrix: matrix, rowBytes: rowBytes, rowLength: rowLength, x: x, y: y,
                                  rows: ParallelProducts.share(t, of: threads, total: total),
                                  scratch: scratch + t * perThread)
        }
    }
}
