import ArgumentParser
import Foundation
import Tensor

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model file's metadata and tensor table.",
        discussion: """
            Shapes are row-major (numpy / safetensors order: the last dimension is the row length), \
            so GGUF's dimension lists appear reversed. Opening maps the file; no tensor data is read.
            """
    )

    @Argument(help: "A .gguf file, a .safetensors file, a Hugging Face directory of safetensors, or a Hub name (owner/name[:TAG][@revision]).")
    var file: String

    @Flag(help: "Print one JSON object: {\"metadata\": {...}, \"tensors\": [...]}.")
    var json = false

    @Flag(help: "Print the time taken to open the file on stderr.")
    var timing = false

    func run() async throws {
        let path = try await HubModels.path(for: file) ?? file
        let start = ContinuousClock.now
        let summary = try ModelFileSummary.open(path: path)
        let elapsed = ContinuousClock.now - start
        if timing {
            let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
            FileHandle.standardError.write(Data("opened \(file) in \(String(format: "%.2f", ms)) ms\n".utf8))
        }
        if json {
            print(summary.json.serialized)
        } else {
            print(summary.text)
        }
    }
}
