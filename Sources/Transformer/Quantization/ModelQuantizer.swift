import Foundation
import ModelFormats
import Tensor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a ``ModelQuantizer`` is: reported after each slab of rows it writes.
public struct QuantizationProgress: Sendable {
    /// The tensor being written, 0-based, in the output's order, and how many there are.
    public let tensorIndex: Int
    public let tensorCount: Int
    /// The tensor's plan: its name, its source and output types and shapes.
    public let tensor: QuantizationPlan.Entry
    /// Input bytes done, over every tensor, and their total.
    public let completedBytes: Int64
    public let totalBytes: Int64
}

/// Quantizes a GGUF model file to a ``QuantizationType`` as llama.cpp's `llama_model_quantize` does
/// (default parameters, no importance matrix): the same tensor types (``QuantizationPlan``), the
/// same bytes (``Tensor/ElementType/quantize(_:into:)``, ggml's reference quantizers), the same
/// metadata and layout, so the output file is the one llama.cpp writes. A Hugging Face checkpoint
/// directory is converted on the way (``HuggingFaceConversion``), as llama.cpp's
/// `convert_hf_to_gguf.py` and then `llama-quantize` would.
///
/// ```swift
/// let plan = try ModelQuantizer(type: .q4_K_M).quantize(input: "model-f16.gguf", output: "model-Q4_K_M.gguf")
/// ```
///
/// The input is memory-mapped and read once, tensor by tensor, a slab of rows at a time; the pages
/// of each slab are released once it is written, so memory stays near two slabs (64 MiB of input and
/// its output) whatever the model's size. Each slab's rows are quantized in parallel on the shared
/// worker pool. The output is written to a temporary file in its directory, and renamed to its name
/// only once complete: an error or cancellation removes the temporary file and leaves nothing under
/// the output's name.
public struct ModelQuantizer: Sendable {
    /// The file type to write.
    public var type: QuantizationType
    /// Threads quantizing rows, the caller's included.
    public var threadCount: Int
    /// Input bytes read per slab.
    public var slabBytes: Int = 64 << 20

    public init(type: QuantizationType, threadCount: Int = 2) {
        self.type = type
        self.threadCount = max(1, threadCount)
    }

    /// Quantizes `input` into `output` (replacing a file already there), calling `progress` on the
    /// calling thread as it goes. Checks `Task.isCancelled` between slabs.
    ///
    /// `input` is a GGUF file or a Hugging Face checkpoint directory. A directory is converted as
    /// llama.cpp's `convert_hf_to_gguf.py` converts it (``HuggingFaceConversion``): to F32, F16 or
    /// BF16 directly (its `--outtype`), and to a quantized type as that converter's default F16 (BF16
    /// for a BF16 checkpoint) file would then be quantized, through the same stream: the checkpoint
    /// is read a slab of rows at a time and nothing is held whole.
    ///
    /// - Returns: the plan it followed.
    /// - Throws: ``ModelQuantizationError``; the output's name is then untouched.
    @discardableResult
    public func quantize(input: String, output: String, progress: ((QuantizationProgress) -> Void)? = nil)
        throws(ModelQuantizationError) -> QuantizationPlan
    {
        var isDirectory: ObjCBool = false
        let source: Input
        let plan: QuantizationPlan
        if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
            let conversion = try HuggingFaceConversion(directory: input, type: type.isFloat ? type.defaultTensorType : nil)
            source = .huggingFace(conversion, Dictionary(conversion.tensors.map { ($0.plan.name, $0) }) { first, _ in first })
            plan = type.isFloat
                ? QuantizationPlan(conversion: conversion, type: type)
                : try QuantizationPlan(type: type, metadata: conversion.metadata, tensors: conversion.tensors.map(\.plan))
        } else {
            let file: GGUFFile
            do { file = try GGUFFile(path: input) } catch { throw .input(error) }
            source = .gguf(file)
            plan = try QuantizationPlan(type: type, file: file)
        }

        let directory = (output as NSString).deletingLastPathComponent
        let outputDirectory = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: outputDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .outputDirectoryMissing(path: outputDirectory)
        }
        let temporary = outputDirectory + "/." + (output as NSString).lastPathComponent
            + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
        do throws(ModelQuantizationError) {
            try write(plan, from: source, to: temporary, progress: progress)
            guard rename(temporary, output) == 0 else { throw .io(path: output, operation: "rename to", errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        return plan
    }

    /// Where the tensors' rows come from.
    private enum Input {
        /// A GGUF file's mapping, read in place.
        case gguf(GGUFFile)
        /// A checkpoint's rows, converted into a scratch slab; its tensors by GGUF name.
        case huggingFace(HuggingFaceConversion, [String: HuggingFaceConversion.ConvertedTensor])
    }

    /// Writes the planned file at `path`.
    private func write(
        _ plan: QuantizationPlan, from input: Input, to path: String, progress: ((QuantizationProgress) -> Void)?
    ) throws(ModelQuantizationError) {
        let writer: GGUFWriter
        do { writer = try GGUFWriter(path: path, metadata: plan.metadata, tensors: plan.tensors.map(\.output)) } catch {
            throw .output(error)
        }
        let runner = sharedRunner(threads: threadCount)
        let totalBytes = plan.tensors.reduce(Int64(0)) { $0 + Int64($1.source.byteCount) }
        var completed: Int64 = 0
        for (index, entry) in plan.tensors.enumerated() {
            let rows = entry.source.shape.rowCount
            let rowLength = entry.source.shape.rowLength
            let sourceRowBytes = rowLength / entry.source.type.blockSize * entry.source.type.blockBytes
            let outputRowBytes = rowLength / entry.output.type.blockSize * entry.output.type.blockBytes
            let slabRows = max(1, slabBytes / max(1, sourceRowBytes))
            let outputSlab = UnsafeMutableRawBufferPointer.allocate(
                byteCount: entry.isConverted ? min(rows, slabRows) * outputRowBytes : 0, alignment: 64)
            defer { outputSlab.deallocate() }

            var file: GGUFFile?
            var fileOffset = 0
            var converted: (HuggingFaceConversion, HuggingFaceConversion.ConvertedTensor)?
            switch input {
            case let .gguf(gguf):
                guard let info = gguf.info(named: entry.source.name) else { throw .input(.tensorNotFound(entry.source.name)) }
                file = gguf
                fileOffset = info.fileOffset
            case let .huggingFace(conversion, byName):
                guard let tensor = byName[entry.source.name] else { throw .missingTensor(entry.source.name) }
                converted = (conversion, tensor)
            }
            // A checkpoint's rows are made here, in the planned source type, a slab at a time.
            let sourceSlab = UnsafeMutableRawBufferPointer.allocate(
                byteCount: converted == nil ? 0 : min(rows, slabRows) * sourceRowBytes, alignment: 64)
            defer { sourceSlab.deallocate() }

            var row = 0
            repeat {
                if Task.isCancelled { throw .cancelled }
                let count = min(slabRows, rows - row)
                let source: UnsafeRawBufferPointer
                if let file {
                    let start = fileOffset + row * sourceRowBytes
                    source = UnsafeRawBufferPointer(rebasing: file.file.bytes[start..<start + count * sourceRowBytes])
                } else if let (conversion, tensor) = converted {
                    let slab = UnsafeMutableRawBufferPointer(rebasing: sourceSlab[0..<count * sourceRowBytes])
                    try conversion.rows(of: tensor, first: row, count: count, into: slab)
                    source = UnsafeRawBufferPointer(slab)
                } else {
                    source = UnsafeRawBufferPointer(start: nil, count: 0)
                }
                if entry.isConverted {
                    let slab = UnsafeMutableRawBufferPointer(rebasing: outputSlab[0..<count * outputRowBytes])
                    try convert(source, from: entry.source.type, to: entry.output.type, rowLength: rowLength, rows: count,
                                into: slab, firstRow: row, tensor: entry.source.name, runner: runner)
                    do { try writer.appendPart(UnsafeRawBufferPointer(slab)) } catch { throw .output(error) }
                } else {
                    do { try writer.appendPart(source) } catch { throw .output(error) }
                }
                file?.file.releasePages(offset: fileOffset, count: (row + count) * sourceRowBytes)
                row += count
                completed += Int64(count * sourceRowBytes)
                progress?(QuantizationProgress(
                    tensorIndex: index, tensorCount: plan.tensors.count, tensor: entry, completedBytes: completed,
                    totalBytes: totalBytes))
            } while row < rows
            if let (conversion, tensor) = converted { conversion.release(tensor) }
        }
        do { try writer.finish() } catch { throw .output(error) }
    }

    /// Converts `rows` rows of `rowLength` values from `sourceType` to `type`, in chunks of rows spread
    /// over the runner's threads; each chunk is widened to Float in its own scratch and quantized.
    private func convert(
        _ source: UnsafeRawBufferPointer, from sourceType: ElementType, to type: ElementType, rowLength: Int, rows: Int,
        into destination: UnsafeMutableRawBufferPointer, firstRow: Int, tensor: String, runner: any ParallelRunner
    ) throws(ModelQuantizationError) {
        guard rows > 0, rowLength > 0, let sourceBase = source.baseAddress, let destinationBase = destination.baseAddress
        else { return }
        let sourceRowBytes = source.count / rows
        let outputRowBytes = destination.count / rows
        // About 64k values per chunk: enough work to amortise a task, little scratch.
        let chunkRows = max(1, (1 << 16) / rowLength)
        let chunks = (rows + chunkRows - 1) / chunkRows
        let failures = UnsafeMutableBufferPointer<(row: Int, error: QuantizeError)?>.allocate(capacity: chunks)
        failures.initialize(repeating: nil)
        defer { failures.deallocate() }
        runner.run(tasks: chunks) { chunk in
            let first = chunk * chunkRows
            let count = min(chunkRows, rows - first)
            let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * rowLength)
            defer { values.deallocate() }
            guard let valuesBase = values.baseAddress else { return }
            sourceType.dequantize(sourceBase + first * sourceRowBytes, count: count * rowLength, into: valuesBase)
            let out = UnsafeMutableRawBufferPointer(start: destinationBase + first * outputRowBytes, count: count * outputRowBytes)
            do throws(QuantizeError) { try type.quantize(UnsafeBufferPointer(values), into: out) } catch {
                failures[chunk] = (first, error)
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first {
            // Indices relative to the tensor, not the chunk.
            let offset = (firstRow + failure.row) * rowLength
            let error: QuantizeError = switch failure.error {
            case let .nonFiniteValue(index): .nonFiniteValue(index: offset + index)
            case let .valueOverflow(index): .valueOverflow(index: offset + index)
            case let .scaleOverflow(block): .scaleOverflow(block: (offset / type.blockSize) + block)
            default: failure.error
            }
            throw .invalidValue(tensor: tensor, error)
        }
    }
}
