/// A command-line failure; ArgumentParser prints it on stderr and exits non-zero.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
