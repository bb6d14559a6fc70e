/// Byte-level BPE (GPT-2 family). PLACEHOLDER: being written now.
struct ByteLevelBPEModel: TokenizerModel {
    init(vocabulary: Vocabulary) throws(TokenizerError) {}
    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int]) {}
    func appendBytes(of id: Int, to bytes: inout [UInt8]) {}
}
