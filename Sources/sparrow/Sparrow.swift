import ArgumentParser

@main
struct Sparrow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "A pure-Swift LLM inference engine.",
        subcommands: [Inspect.self]
    )
}
