import Tensor
import Tokenizer

/// GGUF metadata feeds the tokenizer: the two modules stand apart and meet here.
extension GGUFMetadata: TokenizerMetadataSource {
    public func stringArray(_ key: String) -> [String]? { array(key)?.stringValues }
    public func floatArray(_ key: String) -> [Float]? { array(key)?.floatValues }
    public func intArray(_ key: String) -> [Int]? { array(key)?.intValues }
    public func contains(_ key: String) -> Bool { self[key] != nil }
}
