import Foundation
import ModelFormats
import Tensor

/// Why a model could not be quantized. Nothing is left under the output's name when one is thrown.
public enum ModelQuantizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input could not be read as a GGUF file.
    case input(GGUFError)
    /// The input is something the quantizer does not take (a directory, for instance).
    case unsupportedInput(path: String, reason: String)
    /// `general.architecture` names an architecture whose type rules are not ported.
    case unsupportedArchitecture(String)
    /// A metadata key the type rules need is absent.
    case missingMetadata(key: String)
    /// A metadata value the type rules read is out of range or of the wrong type.
    case invalidMetadata(key: String, reason: String)
    /// A tensor already quantized would change type; llama.cpp does not requantize by default, as
    /// the result is worse than quantizing the original weights.
    case requantization(tensor: String, type: ElementType)
    /// An expert tensor whose name has no block number within the model's layers.
    case invalidLayer(tensor: String)
    /// A value of the tensor cannot be stored in the chosen type (NaN, infinity, overflow).
    case invalidValue(tensor: String, QuantizeError)
    /// The directory the output goes to does not exist.
    case outputDirectoryMissing(path: String)
    /// Writing the output failed (a full disk, for instance).
    case output(GGUFWriteError)
    /// A file operation failed; `errno` is the system's reason.
    case io(path: String, operation: String, errno: Int32)
    /// The task was cancelled (SIGINT in `sparrow quantize`).
    case cancelled

    // Converting a Hugging Face directory.

    /// A file the conversion needs is not there (`config.json`, the tokenizer's files).
    case missingFile(path: String)
    /// A file is there but cannot be used (not JSON, not a SentencePiece model, a wrong value).
    case invalidFile(path: String, reason: String)
    /// `config.json` does not describe a model Sparrow converts (a missing or bad hyperparameter).
    case config(TransformerError)
    /// The safetensors weights could not be opened or read.
    case safetensors(SafetensorsError)
    /// A checkpoint tensor has no GGUF name for this architecture (llama.cpp's converter refuses it too).
    case unmappedTensor(String)
    /// A tensor the architecture needs is not in the checkpoint.
    case missingTensor(String)
    /// A tensor's shape is not the one `config.json` implies (row-major, as in the checkpoint).
    case tensorShape(tensor: String, expected: [Int], actual: [Int])
    /// A tensor's dtype is not F32, F16 or BF16.
    case unsupportedTensorType(tensor: String, dtype: String)

    public var description: String {
        switch self {
        case let .input(error): "cannot read the input: \(error)"
        case let .unsupportedInput(path, reason): "\(path): \(reason)"
        case let .unsupportedArchitecture(arch):
            "architecture \"\(arch)\" is not supported (supported: llama and phi3 GGUF files; LlamaForCausalLM, MistralForCausalLM and Phi3ForCausalLM checkpoints)"
        case let .missingMetadata(key): "metadata key \(key) is missing"
        case let .invalidMetadata(key, reason): "metadata key \(key): \(reason)"
        case let .requantization(tensor, type):
            "tensor \(tensor) is already quantized (\(type)); quantize the F32, F16 or BF16 original instead"
        case let .invalidLayer(tensor): "tensor \(tensor): no valid block number in its name"
        case let .invalidValue(tensor, error): "tensor \(tensor): \(error)"
        case let .outputDirectoryMissing(path): "output directory \(path) does not exist"
        case let .output(error): error.description
        case let .io(path, operation, errno): "cannot \(operation) \(path): \(String(cString: strerror(errno)))"
        case .cancelled: "cancelled"
        case let .missingFile(path): "\(path) is missing"
        case let .invalidFile(path, reason): "\(path): \(reason)"
        case let .config(error): "config.json: \(error)"
        case let .safetensors(error): "cannot read the weights: \(error)"
        case let .unmappedTensor(name): "tensor \(name) has no GGUF name for this architecture"
        case let .missingTensor(name): "tensor \(name) is missing"
        case let .tensorShape(tensor, expected, actual):
            "tensor \(tensor) has shape \(actual), config.json implies \(expected)"
        case let .unsupportedTensorType(tensor, dtype): "tensor \(tensor) is \(dtype); converting takes F32, F16 or BF16"
        }
    }
}
