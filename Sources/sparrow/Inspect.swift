import ArgumentParser

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model file's metadata and tensor table.")
    @Argument(help: "A .gguf file, a .safetensors file, or a Hugging Face directory.") var file: String
    @Flag(help: "Print one JSON object.") var json = false
    func run() throws {}
}
