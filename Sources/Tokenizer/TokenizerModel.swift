/// The algorithm-specific half of a tokenizer: turns a fragment of ordinary text (no special tokens
/// in it: `Tokenizer` has already split those out) into ids, and an id back into its bytes.
///
/// `Tokenizer` owns the shared parts: special-token parsing, BOS/EOS, validation, streaming decode.
/// `SentencePieceModel` and `ByteLevelBPEModel` conform.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `fragment` to `ids`. `followsSpecial` is true at the start of the input and
    /// right after a special token: llama.cpp adds SentencePiece's dummy-prefix space in both places
    /// (when the vocabulary's `addSpacePrefix` is set); byte-level BPE ignores it.
    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int])
    /// Appends the bytes that token `id` decodes to (no special handling of control tokens; `Tokenizer`
    /// decides which tokens to render). `id` is in range.
    func appendBytes(of id: Int, to bytes: inout [UInt8])
}
