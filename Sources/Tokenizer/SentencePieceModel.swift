/// SentencePiece BPE with byte fallback. PLACEHOLDER: being written now.
struct SentencePieceModel: TokenizerModel {
    init(vocabulary: Vocabulary) throws(TokenizerError) {}
    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int]) {}
    func appendBytes(of id: Int, to bytes: inout [UInt8]) {}
}
