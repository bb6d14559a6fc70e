import ModelFormats
import Tensor

/// Why a model could not be loaded or run. Every case names the offending key, tensor or value.
public enum TransformerError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: Loading

    /// The file or directory is neither a GGUF file nor a Hugging Face checkpoint directory.
    case unrecognizedModel(path: String, reason: String)
    /// The architecture is not one Sparrow runs (``ModelConfig/Architecture/supportedNames``).
    case unsupportedArchitecture(String)
    /// A configuration value that is required is absent (`key` as spelt in the file).
    case missingConfigValue(key: String)
    /// A configuration value outside what the architecture allows.
    case invalidConfig(key: String, value: String, reason: String)
    /// A feature the checkpoint asks for that Sparrow does not implement (e.g. a rope scaling type).
    case unsupportedFeature(String)
    /// `config.json` could not be read or parsed.
    case invalidConfigFile(path: String, reason: String)
    /// The GGUF reader refused the file or a metadata key.
    case gguf(GGUFError)
    /// The safetensors reader refused a file or tensor.
    case safetensors(SafetensorsError)
    /// A tensor the architecture needs is not in the checkpoint.
    case missingTensor(String)
    /// A tensor whose shape does not match the configuration.
    case wrongShape(tensor: String, expected: [Int], actual: [Int])
    /// A tensor stored in a type Sparrow cannot compute with.
    case unsupportedTensorType(tensor: String, type: String)
    /// Memory for the KV cache or the activations could not be had.
    case cannotAllocate(what: String, bytes: Int)

    // MARK: Running

    /// A token id outside the vocabulary.
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    /// No tokens were given to a call that needs at least one.
    case emptyInput
    /// The tokens would not fit: the cache holds `position` of `contextLength`, and `adding` more
    /// were asked for.
    case contextFull(position: Int, adding: Int, contextLength: Int)
    /// Every one of the `blocks` blocks of 16 positions of the model's KV cache memory
    /// (``ModelOptions/kvCacheBytes``, shared by a model and its forks) is held, and a sequence
    /// needed `needed` more.
    case kvCacheFull(needed: Int, blocks: Int)
    /// A KV snapshot from a model of different shape, or a truncation past the cached tokens.
    case incompatibleState(String)
    /// A kernel refused its operands. Sizes are validated at load, so this signals a bug.
    case kernel(KernelError)

    public var description: String {
        switch self {
        case let .unrecognizedModel(path, reason): return "\(path): not a model Sparrow can load: \(reason)"
        case let .unsupportedArchitecture(a):
            return "unsupported architecture \"\(a)\" (supported: \(ModelConfig.Architecture.supportedNames.joined(separator: ", ")))"
        case let .missingConfigValue(key): return "configuration value \"\(key)\" is missing"
        case let .invalidConfig(key, value, reason): return "configuration \"\(key)\" = \(value): \(reason)"
        case let .unsupportedFeature(f): return "unsupported: \(f)"
        case let .invalidConfigFile(path, reason): return "\(path): \(reason)"
        case let .gguf(e): return e.description
        case let .safetensors(e): return e.description
        case let .missingTensor(t): return "tensor \"\(t)\" is missing"
        case let .wrongShape(t, expected, actual):
            return "tensor \"\(t)\" has shape \(actual), the configuration needs \(expected)"
        case let .unsupportedTensorType(t, type): return "tensor \"\(t)\" has type \(type), which Sparrow cannot use"
        case let .cannotAllocate(what, bytes): return "cannot allocate \(bytes) bytes for the \(what)"
        case let .tokenOutOfRange(token, n): return "token id \(token) is outside the vocabulary 0..<\(n)"
        case .emptyInput: return "no tokens given"
        case let .contextFull(position, adding, n):
            return "\(adding) more token(s) after \(position) do not fit the context of \(n)"
        case let .kvCacheFull(needed, blocks):
            return "the KV cache is full: all \(blocks) blocks of 16 positions are held and \(needed) more are needed (raise kvCacheBytes)"
        case let .incompatibleState(reason): return "incompatible KV state: \(reason)"
        case let .kernel(e): return "kernel: \(e)"
        }
    }
}
