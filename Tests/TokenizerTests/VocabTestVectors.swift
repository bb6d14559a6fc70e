import Testing
import Tokenizer

/// llama.cpp's SentencePiece test vectors (the byte-level BPE families are in their own suite).
@Suite("Vocabulary test vectors: SentencePiece")
struct SentencePieceVocabVectorTests {
    @Test func llamaSPM() throws {
        try assertVocabVectors("llama-spm")
    }

    @Test func phi3() throws {
        try assertVocabVectors("phi-3")
    }

    @Test func vectorFilesSplitLikeLlamaCpp() throws {
        let cases = try VocabVectors.cases("llama-spm")
        #expect(cases.count == 46)
        // The separator takes the newlines around the marker with it.
        #expect(cases[0].text == "ied 4 ½ months")
        #expect(cases.contains { $0.text.isEmpty && $0.ids.isEmpty })
        #expect(cases.contains { $0.text == "\n\n" })
    }

    @Test func llamaSPMMetadata() throws {
        let t = try VocabVectors.tokenizer("llama-spm")
        #expect(t.kind == .sentencePiece)
        #expect(t.vocabularySize == 32000)
        #expect(t.bosID == 1)
        #expect(t.eosID == 2)
        #expect(t.addsBOS)
        #expect(!t.addsEOS)
        #expect(t.addsSpacePrefix)
        #expect(t.endOfGenerationIDs == [2])
        #expect(t.tokenText(1) == "<s>")
        #expect(t.tokenText(32000) == nil)
        #expect(t.tokenType(0) == .unknown)
        #expect(t.tokenType(3) == .byte)
        #expect(t.tokenType(-1) == nil)
    }

    @Test func phi3Metadata() throws {
        let t = try VocabVectors.tokenizer("phi-3")
        // <|endoftext|> is EOS; <|end|> and </s> are end-of-generation by text (llama.cpp).
        #expect(t.eosID == 32000)
        #expect(t.endOfGenerationIDs.contains(32000))
        #expect(t.endOfGenerationIDs.contains(32007))
        #expect(t.endOfGenerationIDs.contains(2))
        // </s> is user-defined in the file; llama.cpp promotes end-of-generation texts to control.
        #expect(t.tokenType(2) == .control)
    }
}
