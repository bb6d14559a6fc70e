import ArgumentParser
import Foundation

@main
struct Sparrow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "A pure-Swift LLM inference engine.",
        subcommands: [
            Generate.self, Serve.self, RenderTemplate.self, Inspect.self, Tokenize.self, Detokenize.self, Logits.self,
            BenchTokenizer.self, BenchSampler.self, Bench.self, BenchStructured.self, Pull.self, List.self, Remove.self, Quantize.self,
        ]
    )
}
