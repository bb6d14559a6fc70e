import ModelFormats

/// GGUF metadata is the tokenizer's metadata source for GGUF files.
extension GGUFMetadata: TokenizerMetadataSource {
    public func stringArray(_ key: String) -> [String]? { array(key)?.stringValues }
    public func floatArray(_ key: String) -> [Float]? { array(key)?.floatValues }
    public func intArray(_ key: String) -> [Int]? { array(key)?.intValues }
    /// The parser keeps string arrays as bytes: handing those over spares the tokenizer a `String`
    /// per merge line.
    public func utf8StringArray(_ key: String) -> UTF8StringList? {
        stringArrayBytes(key).flatMap { UTF8StringList(bytes: $0.bytes, offsets: $0.offsets) }
    }
}
