import ArgumentParser
import Foundation
import Transformer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Quantize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Hugging Face checkpoint or quantize a GGUF model as llama.cpp does, to the same bytes.",
        discussion: """
            INPUT is a GGUF file of a llama-architecture (Llama, Mistral) or phi3 model with F32, F16 or \
            BF16 weights, a Hugging Face checkpoint directory (LlamaForCausalLM, MistralForCausalLM or \
            Phi3ForCausalLM; F32, F16 or BF16 safetensors, one file or shards; a SentencePiece \
            tokenizer.model), or a Hub name (owner/name[:TAG][@revision]) of either. A directory is \
            converted as llama.cpp's convert_hf_to_gguf.py converts it: to F32, F16 or BF16 as its \
            --outtype, and to a quantized TYPE as its default (F16, or BF16 for a BF16 checkpoint) file \
            quantized by llama-quantize. Each tensor gets the type \
            llama.cpp's llama_model_quantize gives it for TYPE (default parameters, no importance matrix): \
            norms stay F32, output.weight becomes Q6_K, the _M types give attn_v and ffn_down more bits in \
            some layers, and rows that a type's blocks don't fit fall back to another type. The output is \
            llama.cpp's file byte for byte (scripts/check-quantize.sh). \
            The input is read tensor by tensor, a slab at a time, so memory stays small whatever the \
            model's size. The output is written beside OUTPUT under a temporary name and renamed when \
            complete: an error, Ctrl-C, SIGTERM or SIGHUP leaves nothing under OUTPUT. A progress bar goes to stderr when \
            it is a terminal.
            """
    )

    @Argument(help: "The input: a GGUF file, a Hugging Face checkpoint directory, or a Hub name.")
    var input: String

    @Argument(help: "The output .gguf file (replaced if it exists).")
    var output: String

    @Option(help: "One of \(QuantizationType.allCases.map(\.name).joined(separator: ", ")).")
    var type: String

    @Option(help: "Threads quantizing rows.")
    var threads = 2

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard QuantizationType(name: type) != nil else {
            throw ValidationError(
                "unknown type '\(type)'; TYPE is one of \(QuantizationType.allCases.map(\.name).joined(separator: ", "))")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        guard let type = QuantizationType(name: type) else { throw CommandError("unknown type '\(self.type)'") }
        let path = try await HubModels.path(for: input) ?? input
        let bar = !quiet && isatty(STDERR_FILENO) != 0 ? ProgressBar() : nil
        let quantizer = ModelQuantizer(type: type, threadCount: threads)
        let output = output
        let start = ContinuousClock.now

        // Ctrl-C, SIGTERM or a closed terminal cancels the task; the quantizer stops at the next slab
        // and removes its temporary file, which the signal's default action would leave behind.
        let task = Task.detached {
            try quantizer.quantize(input: path, output: output) { progress in
                guard let bar else { return }
                let entry = progress.tensor
                let label = "[\(progress.tensorIndex + 1)/\(progress.tensorCount)] \(entry.output.name) "
                    + (entry.isConverted ? "\(entry.source.type) → \(entry.output.type)" : "\(entry.output.type)")
                bar.update(item: "", label: label, completed: progress.completedBytes, total: progress.totalBytes)
            }
        }
        let signals = [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        let outcome = await task.result
        signals.forEach { $0.cancel() }
        bar?.finish()

        let plan: QuantizationPlan
        do {
            plan = try outcome.get()
        } catch ModelQuantizationError.cancelled {
            FileHandle.standardError.write(Data("sparrow quantize: cancelled; \(output) was not written\n".utf8))
            throw ExitCode(130)
        } catch let error as ModelQuantizationError {
            throw CommandError(error.description)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let before = plan.tensors.reduce(0) { $0 + $1.source.byteCount }
        let after = plan.tensors.reduce(0) { $0 + $1.output.byteCount }
        var counts: [String: Int] = [:]
        for entry in plan.tensors { counts[entry.output.type.name, default: 0] += 1 }
        let mix = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let fallbacks = plan.fallbackCount > 0 ? "; \(plan.fallbackCount) fell back for their row length" : ""
        FileHandle.standardError.write(Data(("""
            wrote \(output) (\(type)): \(plan.tensors.count) tensors (\(mix)\(fallbacks)), \
            \(ProgressBar.megabytes(Int64(before))) MB → \(ProgressBar.megabytes(Int64(after))) MB \
            in \(String(format: "%.1f", seconds)) s

            """).utf8))
    }
}
