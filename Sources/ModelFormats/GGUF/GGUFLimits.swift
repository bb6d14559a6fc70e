/// Ceilings on what a GGUF header may ask the reader to build, on top of the rule that every count
/// and length must fit in the rest of the file.
///
/// Fitting in the file already bounds every allocation by a small multiple of the file's size; these
/// limits bound it absolutely, so a multi-gigabyte file whose header was damaged (or crafted) cannot
/// make the reader build a gigabyte string or a billion-element array out of its tensor data. The
/// defaults are far above what real models use (the largest vocabularies have ~256k tokens and
/// ~500k merges; Llama-3-405B has ~1,100 tensors; chat templates are a few KiB).
public struct GGUFLimits: Sendable, Equatable {
    /// The longest string accepted anywhere in the header (a key, a value, an array element, a
    /// tensor name), in bytes.
    public var maxStringBytes: Int
    /// The most elements one metadata array may hold.
    public var maxArrayCount: Int
    /// The most metadata key/value pairs.
    public var maxMetadataCount: Int
    /// The most tensors.
    public var maxTensorCount: Int

    /// Defaults: strings of 16 MiB, arrays of 16 Mi elements, 65,536 metadata pairs and 65,536 tensors.
    public init(maxStringBytes: Int = 16 << 20, maxArrayCount: Int = 16 << 20, maxMetadataCount: Int = 1 << 16,
                maxTensorCount: Int = 1 << 16) {
        self.maxStringBytes = maxStringBytes
        self.maxArrayCount = maxArrayCount
        self.maxMetadataCount = maxMetadataCount
        self.maxTensorCount = maxTensorCount
    }
}
