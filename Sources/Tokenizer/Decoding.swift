extension Tokenizer {
    /// Turns ids back into text like llama.cpp's `llama_detokenize` (with `remove_special = false`).
    ///
    /// - Parameters:
    ///   - skipSpecial: render control and unknown tokens (`<s>`, `<|eot_id|>`) as nothing; when
    ///     false they appear as their text (llama.cpp's `unparse_special`). User-defined tokens always
    ///     appear as their text.
    ///   - cleanUpSpaces: apply llama.cpp's space clean-up (" ?" → "?", " 's" → "'s", ...), which
    ///     `llama_detokenize` does when `cleansUpSpacesByDefault` is true. Off by default: it loses
    ///     information, and llama.cpp's streaming output (one `token_to_piece` per token) skips it too.
    /// - Returns: the text. SentencePiece: "▁" becomes a space and `<0xNN>` tokens become their bytes.
    ///   The leading-space rule: when the vocabulary adds a dummy prefix (`addsSpacePrefix`), the
    ///   first token loses one leading space, and only the first token, even if it renders as nothing
    ///   (so `decode(encode(t)) == t` for text encoded without BOS, while after a BOS the space stays,
    ///   as in llama.cpp). Bytes that are not valid UTF-8 become U+FFFD, one per maximal invalid
    ///   subsequence (the Unicode-recommended practice, as Python's `errors="replace"`).
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside the vocabulary.
    public func decode(_ ids: [Int], skipSpecial: Bool = true, cleanUpSpaces: Bool = false) throws(TokenizerError) -> String {
        String(decoding: try decodeBytes(ids, skipSpecial: skipSpecial, cleanUpSpaces: cleanUpSpaces), as: UTF8.self)
    }

    /// The bytes `decode` would turn into text, before any UTF-8 repair: exactly what llama.cpp's
    /// `llama_detokenize` writes to its buffer.
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = true, cleanUpSpaces: Bool = false) throws(TokenizerError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        var first = true
        for id in ids {
            try appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: first, to: &bytes)
            first = false
        }
        return cleanUpSpaces ? SpaceCleanup.apply(bytes) : bytes
    }

    /// The bytes of one token as `decode` renders it (`token_to_piece`), which need not be valid
    /// UTF-8 on their own (a `<0xE2>` byte token, half a character of byte-level BPE).
    public func pieceBytes(_ id: Int, skipSpecial: Bool = true) throws(TokenizerError) -> [UInt8] {
        var bytes: [UInt8] = []
        try appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: false, to: &bytes)
        return bytes
    }

    /// llama.cpp's `token_to_piece` for one token. `stripLeadingSpace` is its `lstrip` argument:
    /// `llama_detokenize` passes 1 for the first token when the vocabulary adds a space prefix, and
    /// 0 afterwards, even when the first token renders as nothing (a skipped `<s>`).
    func appendPiece(_ id: Int, skipSpecial: Bool, stripLeadingSpace: Bool, to bytes: inout [UInt8]) throws(TokenizerError) {
        guard id >= 0, id < texts.count else { throw .idOutOfRange(id: id, vocabularySize: texts.count) }
        let start = bytes.count
        switch types[id] {
        case .control, .unknown:
            if !skipSpecial { bytes.append(contentsOf: texts[id].utf8) }
        case .userDefined:
            // Rendered from the stored text: no "▁" unescaping, no byte-level mapping (llama.cpp).
            bytes.append(contentsOf: texts[id].utf8)
        case .normal:
            model.appendBytes(of: id, to: &bytes)
        case .byte:
            // `<0xNN>`, checked when the tokenizer was built.
            if let b = byteValues[id] { bytes.append(b) }
        case .unused, .undefined:
            break
        }
        if stripLeadingSpace, addsSpacePrefix, bytes.count > start, bytes[start] == 0x20 {
            bytes.remove(at: start)
        }
    }

    /// A decoder for streaming: feed ids as they are generated and get back text that never ends in
    /// the middle of a UTF-8 sequence.
    public func makeStreamingDecoder(skipSpecial: Bool = true) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }
}
