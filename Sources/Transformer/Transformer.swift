import ModelFormats
import Tensor

/// Opens the model at `path` and picks its architecture; ``loadModel(_:options:)`` on the
/// `ModelSource` of `path` (see it for the paths accepted).
///
/// Weights stay memory-mapped in their stored types. The KV cache is sized from the model's
/// context length unless `options.maxContextLength` caps it.
/// - Throws: ``TransformerError`` naming what is missing, malformed or unsupported.
public func loadModel(path: String, options: ModelOptions = .init()) throws(TransformerError) -> TransformerModel {
    let model: ModelSource
    do { model = try ModelSource(path: path) } catch {
        switch error {
        case let .unrecognized(path, reason): throw .unrecognizedModel(path: path, reason: reason)
        case let .gguf(error): throw .gguf(error)
        }
    }
    return try loadModel(model, options: options)
}

/// Builds the model `source` holds: a GGUF file read with llama.cpp's metadata keys and tensor
/// names, or a Hugging Face checkpoint (`config.json` and safetensors). The GGUF file is the one
/// `source` parsed; nothing is parsed again.
/// - Throws: ``TransformerError`` naming what is missing, malformed or unsupported.
public func loadModel(_ source: ModelSource, options: ModelOptions = .init()) throws(TransformerError) -> TransformerModel {
    switch source.kind {
    case let .gguf(file):
        let config = try ModelConfig(gguf: file)
        return try TransformerModel(config: config, source: GGUFTensors(file), naming: .gguf, options: options)
    case let .huggingFace(directory, checkpoint):
        let config = try ModelConfig(huggingFaceDirectory: directory)
        let tensors: SafetensorsCheckpoint
        do { tensors = try SafetensorsCheckpoint(path: checkpoint) } catch { throw .safetensors(error) }
        return try TransformerModel(config: config, source: SafetensorsTensors(tensors), naming: .huggingFace,
                                    options: options)
    }
}
