import Foundation
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

    public var description: String {
        switch self {
        case let .input(error): "cannot read the input: \(error)"
        case let .unsupportedInput(path, reason): "\(path): \(reason)"
        case let .unsupportedArchitecture(arch):
            "architecture \"\(arch)\" is not supported for quantization (supported: llama, phi3)"
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
        }
    }
}
