import ArgumentParser
import Foundation

@main
struct Sparrow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "A pure-Swift LLM inference engine.",
        subcommands: [Inspect.self, Tokenize.self, Detokenize.self, Logits.self, BenchTokenizer.self, Bench.self]
    )
}
