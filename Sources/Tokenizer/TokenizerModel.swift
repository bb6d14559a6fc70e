/// The algorithm-specific half of a tokenizer: turns a fragment of ordinary text (no special tokens
/// in it: `Tokenizer` has already split those out) into ids, and an id back into its bytes.
///
/// `Tokenizer` owns the shared parts: special-token parsing, BOS/EOS, validation, streaming decode.
/// `SentencePieceModel` and `ByteLevelBPEModel` conform.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `fragment` to `ids`. `isFirstFragment` is true for the text fragment at the
    /// very start of the input (or right after BOS), where SentencePiece adds its dummy-prefix space.
    func encode(fragment: Substring, isFirstFragment: Bool, into ids: inout [Int])
    /// Appends the bytes that token `id` decodes to (no special handling of control tokens; `Tokenizer`
    /// decides which tokens to render). `id` is in range.
    func appendBytes(of id: Int, to bytes: inout [UInt8])
}
