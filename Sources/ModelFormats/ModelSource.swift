import Foundation

/// A model on disk, opened once: what kind of model the path holds is decided here, and a GGUF
/// file's header is parsed here, once. The weight loader (Transformer's `loadModel(_:options:)`),
/// the tokenizer (`Tokenizer(model:)`) and the chat-template reader all read this one value.
///
/// A path is
/// - a GGUF file (recognised by its magic, whatever its name), parsed and mapped;
/// - a Hugging Face checkpoint directory (`config.json`, the tokenizer files, and
///   `model.safetensors` or a sharded `model.safetensors.index.json`);
/// - a `.safetensors` file or an index `.json` with a `config.json` beside it, read as its
///   directory with that checkpoint.
///
/// ```swift
/// let model = try ModelSource(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// if case let .gguf(file) = model.kind { print(file.architecture ?? "?") }
/// ```
public struct ModelSource: Sendable {
    /// The kinds of model a path can hold.
    public enum Kind: Sendable {
        /// A GGUF file, its header parsed: weights, tokenizer and chat template all come from it.
        case gguf(GGUFFile)
        /// A Hugging Face checkpoint: `directory` holds `config.json` and the tokenizer files;
        /// `checkpoint` is what the safetensors reader opens (the directory itself, a
        /// `.safetensors` file or an index file).
        case huggingFace(directory: String, checkpoint: String)
    }

    /// The path the model was opened from.
    public let path: String
    /// What the path holds.
    public let kind: Kind

    /// Decides what `path` holds and, for a GGUF file, parses its header within `limits`.
    /// - Throws: ``ModelSourceError`` when the path is missing, holds no model, or its GGUF header
    ///   is malformed.
    public init(path: String, limits: GGUFLimits = .init()) throws(ModelSourceError) {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unrecognized(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            kind = .huggingFace(directory: path, checkpoint: path)
            return
        }
        if Self.startsWithGGUFMagic(path) {
            do { kind = .gguf(try GGUFFile(path: path, limits: limits)) } catch { throw .gguf(error) }
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let config = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        if path.hasSuffix(".safetensors") || path.hasSuffix(".json"), FileManager.default.fileExists(atPath: config) {
            kind = .huggingFace(directory: directory, checkpoint: path)
            return
        }
        throw .unrecognized(path: path, reason: "neither a GGUF file nor a Hugging Face checkpoint with config.json")
    }

    /// The opened GGUF file, or `nil` for a Hugging Face checkpoint.
    public var ggufFile: GGUFFile? {
        if case let .gguf(file) = kind { return file }
        return nil
    }

    /// Whether the file's first four bytes are "GGUF".
    private static func startsWithGGUFMagic(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic.elementsEqual("GGUF".utf8)
    }
}

/// Why a path could not be opened as a model.
public enum ModelSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist, or holds neither a GGUF file nor a Hugging Face checkpoint.
    case unrecognized(path: String, reason: String)
    /// The file is a GGUF file whose header the reader refused.
    case gguf(GGUFError)

    public var description: String {
        switch self {
        case let .unrecognized(path, reason): return "\(path): not a model Sparrow can load: \(reason)"
        case let .gguf(error): return error.description
        }
    }
}
