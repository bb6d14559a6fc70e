import ArgumentParser
import Foundation
import JSON
import GenerateAPI
import ModelFormats
import Tokenizer

/// Loads a tokenizer from a GGUF file or a Hugging Face directory (tokenizer.json).
enum TokenizerLoader {
    static func load(_ path: String) throws -> Tokenizer {
        do {
            return try Tokenizer(model: ModelSource(path: path))
        } catch let error as ModelSourceError {
            throw CommandError(error.description)
        } catch let error as TokenizerError {
            throw CommandError("\(path): \(error.description)")
        }
    }
}

struct Tokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text as one JSON array.",
        discussion: """
            The defaults match llama.cpp's tokenizer test vectors: no BOS and no special-token \
            parsing, so "<|eot_id|>" is ordinary text unless --parse-special is given. User-defined \
            tokens are matched either way.
            """
    )

    @Option(help: "A .gguf file or a Hugging Face directory with tokenizer.json.")
    var model: String

    @Flag(help: "Add the special tokens the vocabulary asks for (BOS, and EOS where the vocabulary appends it).")
    var bos = false

    @Flag(help: "Match control tokens such as <s> or <|im_start|> in the text as single ids.")
    var parseSpecial = false

    @Flag(help: "Read the text from standard input (all of it, as UTF-8) instead of the argument.")
    var stdin = false

    @Argument(help: "The text to tokenize.")
    var text: String?

    func validate() throws {
        if stdin && text != nil { throw ValidationError("give either TEXT or --stdin, not both") }
        if !stdin && text == nil { throw ValidationError("give the TEXT to tokenize, or --stdin") }
    }

    func run() async throws {
        let tokenizer = try TokenizerLoader.load(try await HubModels.path(for: model) ?? model)
        let input: String
        if let text {
            input = text
        } else {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(validating: data, as: UTF8.self) else {
                throw CommandError("standard input is not valid UTF-8")
            }
            input = s
        }
        let ids = tokenizer.encode(input, addSpecial: bos, parseSpecial: parseSpecial)
        print(JSON.array(ids.map { .int($0) }).serialized)
    }
}

struct Detokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of a JSON array of token ids.",
        discussion: """
            Decodes like llama.cpp's llama_detokenize: control tokens are left out unless \
            --render-special is given, SentencePiece's dummy-prefix space is dropped from the first \
            token, and bytes that do not form UTF-8 print as U+FFFD. The text is followed by a newline.
            """
    )

    @Option(help: "A .gguf file or a Hugging Face directory with tokenizer.json.")
    var model: String

    @Flag(help: "Print control tokens (<s>, <|eot_id|>) as their text.")
    var renderSpecial = false

    @Flag(help: "Apply llama.cpp's space clean-up (\" ?\" becomes \"?\", \" 's\" becomes \"'s\", ...).")
    var cleanSpaces = false

    @Argument(help: "The ids, as a JSON array of integers, e.g. [15043, 3186].")
    var ids: String

    func run() async throws {
        let parsed = try Self.parseIDs(ids)
        let tokenizer = try TokenizerLoader.load(try await HubModels.path(for: model) ?? model)
        do {
            print(try tokenizer.decode(parsed, skipSpecial: !renderSpecial, cleanUpSpaces: cleanSpaces))
        } catch {
            throw CommandError(error.description)
        }
    }

    /// A JSON array of integers.
    static func parseIDs(_ text: String) throws -> [Int] {
        guard let array = (try? JSONValue(parsing: text.utf8))?.array else {
            throw CommandError("IDS_JSON must be a JSON array of integers, e.g. [1, 2, 3]")
        }
        return try array.enumerated().map { i, element in
            // An integer literal, or a number with an integral value (1.0, 1e2), as before.
            if let n = element.integer { return n }
            guard case let .number(number) = element, number.double.rounded() == number.double,
                abs(number.double) < 9.0e15
            else {
                throw CommandError("IDS_JSON element \(i) is not an integer")
            }
            return Int(number.double)
        }
    }
}
