import Foundation
import ModelFormats
import Tensor

/// Opens the model at `path` and picks its architecture.
///
/// `path` may be
/// - a GGUF file (recognised by its magic), read with llama.cpp's metadata keys and tensor names;
/// - a Hugging Face checkpoint directory: `config.json` beside `model.safetensors` or a sharded
///   `model.safetensors.index.json`;
/// - a `.safetensors` file or an index `.json` with a `config.json` beside it.
///
/// Weights stay memory-mapped in their stored types. The KV cache is sized from the model's
/// context length unless `options.maxContextLength` caps it.
/// - Throws: ``TransformerError`` naming what is missing, malformed or unsupported.
public func loadModel(path: String, options: ModelOptions = .init()) throws(TransformerError) -> TransformerModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .unrecognizedModel(path: path, reason: "no such file or directory")
    }
    if isDirectory.boolValue {
        return try loadHuggingFace(directory: path, checkpoint: path, options: options)
    }
    if startsWithGGUFMagic(path) {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .gguf(error) }
        let config = try ModelConfig(gguf: file)
        return try TransformerModel(config: config, source: GGUFTensors(file), naming: .gguf, options: options)
    }
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let configPath = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
    if path.hasSuffix(".safetensors") || path.hasSuffix(".json"), FileManager.default.fileExists(atPath: configPath) {
        return try loadHuggingFace(directory: directory, checkpoint: path, options: options)
    }
    throw .unrecognizedModel(path: path, reason: "neither a GGUF file nor a Hugging Face checkpoint with config.json")
}

/// Reads `config.json` from `directory` and the weights from `checkpoint` (a directory, a
/// `.safetensors` file or an index).
private func loadHuggingFace(directory: String, checkpoint: String, options: ModelOptions)
    throws(TransformerError) -> TransformerModel
{
    let config = try ModelConfig(huggingFaceDirectory: directory)
    let tensors: SafetensorsCheckpoint
    do { tensors = try SafetensorsCheckpoint(path: checkpoint) } catch { throw .safetensors(error) }
    return try TransformerModel(config: config, source: SafetensorsTensors(tensors), naming: .huggingFace,
                                options: options)
}

/// Whether the file's first four bytes are "GGUF".
private func startsWithGGUFMagic(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let magic = (try? handle.read(upToCount: 4)) ?? Data()
    return magic.elementsEqual("GGUF".utf8)
}
