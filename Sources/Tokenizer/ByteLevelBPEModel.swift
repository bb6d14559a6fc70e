/// Byte-level BPE (GPT-2 family: Llama-3, SmolLM2, Qwen2, StarCoder, ...), as llama.cpp's
/// `llm_tokenizer_bpe_session` does it.
///
/// Encoding a fragment: the pre-tokenizer that `tokenizer.ggml.pre` names splits it into pieces; each
/// piece's UTF-8 bytes become one symbol per byte (the token of the byte's GPT-2 character), then the
/// merges apply, lowest rank first and leftmost first among equals, until none applies. Symbols that
/// are no token in the end are dropped, as llama.cpp drops them.
///
/// Everything runs on raw bytes and token ids instead of mapped strings: a byte-mapped token text
/// stands for exactly one byte string, so "is this text a token" and "which merge joins these two
/// texts" become lookups by bytes and by id pairs.
struct ByteLevelBPEModel: TokenizerModel {
    let preTokenizer: PreTokenizer
    /// Raw bytes to id, for every token whose text is made of GPT-2 byte characters.
    private let tokensByBytes: ByteStringTable
    private let merges: MergeTable
    /// The token of each byte's single GPT-2 character; -1 where the vocabulary has none.
    private let byteTokens: [Int32]
    /// What each id decodes to (`token_to_piece`): its key for a normal byte-mapped token
    /// (`fromKey`), else `start << 32 | length` in `decodedOther`.
    private let decoding: [UInt64]
    private let decodedOther: [UInt8]
    private static let fromKey = UInt64.max

    /// A symbol absorbed into its left neighbour (-1 stays "a byte with no token").
    private static let absorbed = Int32.min

    /// Builds the lookup tables and checks the merges.
    ///
    /// - Throws: `TokenizerError.unsupportedPreTokenizer` for an unknown `tokenizer.ggml.pre`;
    ///   `.invalidMerge` for a merge that is not "left right" (split at the first space after the first
    ///   byte, as llama.cpp does) with both sides and their concatenation in the vocabulary (the
    ///   Hugging Face rule; llama.cpp would silently keep a rule that can never or wrongly apply);
    ///   `.duplicateToken` for two tokens with the same text; `.lengthMismatch` when token types do
    ///   not match the tokens.
    init(vocabulary v: Vocabulary) throws(TokenizerError) {
        try self.init(vocabulary: v, tables: nil)
    }

    /// - Parameter tables: the vocabulary's key tables when `CheckedVocabulary` built them already
    ///   (from the same token texts); nil builds them here.
    init(vocabulary v: Vocabulary, tables prebuilt: ByteLevelTables?) throws(TokenizerError) {
        preTokenizer = try PreTokenizer(name: v.preTokenizer)
        let n = v.tokens.count
        guard v.tokenTypes.count == n else {
            throw .lengthMismatch(field: "token_type", expected: n, actual: v.tokenTypes.count)
        }
        let tables: ByteLevelTables
        if let prebuilt {
            tables = prebuilt
        } else {
            let keys = TokenKeys(tokens: v.tokens)
            tables = ByteLevelTables(keys: keys, table: ByteStringTable(bytes: keys.bytes, entries: keys.entries))
            if let id = tables.firstDuplicate { throw .duplicateToken(id: id, text: v.tokens[id]) }
        }
        let keys = tables.keys, table = tables.table

        var decoding = [UInt64](repeating: Self.fromKey, count: n)
        var other: [UInt8] = []
        for id in 0 ..< n where v.tokenTypes[id] != .normal || keys.entries[id] == ByteStringTable.empty {
            let start = other.count
            Self.appendDecoded(id: id, text: v.tokens[id], type: v.tokenTypes[id], to: &other)
            decoding[id] = UInt64(start) << 32 | UInt64(other.count - start)
        }

        // The key [b] belongs to the one token whose text is b's GPT-2 character.
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0 ..< 256 {
            if let id = table[[UInt8(byte)]] { byteTokens[byte] = Int32(id) }
        }

        let rules = try Self.mergeRules(v.mergeLines, table: table, unmapped: keys.unmapped)
        tokensByBytes = table
        merges = MergeTable(rules: rules)
        self.byteTokens = byteTokens
        self.decoding = decoding
        decodedOther = other
    }

    /// llama.cpp's `token_to_piece` for byte-level BPE: normal tokens map their characters back to
    /// bytes; a character outside the map renders as `[UNK_BYTE_0x<utf8 hex><token text>]`, as
    /// llama.cpp's `llama_decode_text` does. Control, unknown and user-defined tokens are their text;
    /// `<0xNN>` byte tokens their byte; unused and undefined tokens nothing.
    private static func appendDecoded(id: Int, text stored: String, type: TokenType, to out: inout [UInt8]) {
        let text = stored.isEmpty ? "[EMPTY_\(id)]" : stored
        switch type {
        case .normal:
            // Only tokens that are not byte-mapped text get here.
            for scalar in text.unicodeScalars {
                let v = Int(scalar.value)
                if v < GPT2ByteMap.byteOfScalar.count, GPT2ByteMap.byteOfScalar[v] >= 0 {
                    out.append(UInt8(truncatingIfNeeded: GPT2ByteMap.byteOfScalar[v]))
                    continue
                }
                out.append(contentsOf: "[UNK_BYTE_0x".utf8)
                for b in String(scalar).utf8 {
                    let hex = String(b, radix: 16)
                    out.append(contentsOf: (hex.count == 1 ? "0" + hex : hex).utf8)
                }
                out.append(contentsOf: text.utf8)
                out.append(0x5D)  // "]"
            }
        case .control, .unknown, .userDefined:
            out.append(contentsOf: text.utf8)
        case .byte:
            let u = Array(text.utf8)
            if u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
               let b = UInt8(String(decoding: u[3 ..< 5], as: UTF8.self), radix: 16) {
                out.append(b)
            }
        case .unused, .undefined:
            break
        }
    }

    func appendBytes(of id: Int, to bytes: inout [UInt8]) {
        guard id >= 0, id < decoding.count else { return }
        let entry = decoding[id]
        if entry == Self.fromKey {
            bytes.append(contentsOf: tokensByBytes.key(of: id))
        } else {
            let start = Int(entry >> 32)
            bytes.append(contentsOf: decodedOther[start ..< start + Int(entry & 0xFFFF_FFFF)])
        }
    }

    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int]) {
        if fragment.utf8.withContiguousStorageIfAvailable({ encode(utf8: $0, chunkTarget: 1 << 16, into: &ids) }) == nil {
            Array(fragment.utf8).withUnsafeBufferPointer { encode(utf8: $0, chunkTarget: 1 << 16, into: &ids) }
        }
    }

    /// Encodes valid UTF-8 in chunks of about `chunkTarget` bytes, cut where pre-tokenization is
    /// known to split anyway (`PreTokenizer.chunkEnd`), so the working buffers stay in cache
    /// whatever the text's length and 10 MB costs ten times 1 MB.
    func encode(utf8: UnsafeBufferPointer<UInt8>, chunkTarget: Int, into ids: inout [Int]) {
        var scratch = Scratch()
        var start = 0
        while start < utf8.count {
            let end = PreTokenizer.chunkEnd(utf8, from: start, target: chunkTarget)
            encodeChunk(UnsafeBufferPointer(rebasing: utf8[start ..< end]), &scratch, &ids)
            start = end
        }
    }

    /// Buffers reused from piece to piece and chunk to chunk.
    private struct Scratch {
        var text = ScalarText()
        var ends: [Int] = []
        var spare: [Int] = []
        var symbols: [Int32] = []
        var next: [Int32] = []
        var prev: [Int32] = []
        var heap = MinHeap()
    }

    private func encodeChunk(_ utf8: UnsafeBufferPointer<UInt8>, _ s: inout Scratch, _ ids: inout [Int]) {
        s.text.load(utf8)
        preTokenizer.pieceEnds(s.text, into: &s.ends, scratch: &s.spare)
        var start = 0
        var byteStart = 0
        for end in s.ends {
            var byteEnd = byteStart
            for i in start ..< end { byteEnd += ScalarText.utf8Length(s.text.scalars[i]) }
            encodePiece(UnsafeBufferPointer(rebasing: utf8[byteStart ..< byteEnd]), &s, &ids)
            start = end
            byteStart = byteEnd
        }
    }

    /// BPE on one piece's bytes (llama.cpp's loop over `word_collection`).
    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, _ s: inout Scratch, _ ids: inout [Int]) {
        let n = piece.count
        guard n > 0 else { return }
        // ignore_merges: a piece that is a token as a whole is that token.
        if preTokenizer.ignoresMerges, let id = tokensByBytes.lookup(piece) {
            ids.append(id)
            return
        }
        if n == 1 {
            let id = byteTokens[Int(piece[0])]
            if id >= 0 { ids.append(Int(id)) }
            return
        }
        s.symbols.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.prev.removeAll(keepingCapacity: true)
        s.heap.removeAll()
        for i in 0 ..< n {
            s.symbols.append(byteTokens[Int(piece[i])])
            s.next.append(i + 1 < n ? Int32(i + 1) : -1)
            s.prev.append(Int32(i - 1))
        }
        for i in 0 ..< n - 1 {
            if let rule = merges.rule(s.symbols[i], s.symbols[i + 1]) { s.heap.push(rule & ~0xFFFF_FFFF | UInt64(i)) }
        }
        while let top = s.heap.pop() {
            let left = Int(top & 0xFFFF_FFFF)
            let right = Int(s.next[left])
            // A queued pair is stale once either side has merged with something else: the rule for
            // the pair as it is now must be the queued one (a rank names one rule).
            guard s.symbols[left] != Self.absorbed, right >= 0,
                  let rule = merges.rule(s.symbols[left], s.symbols[right]), rule >> 32 == top >> 32
            else { continue }
            s.symbols[left] = Int32(truncatingIfNeeded: rule & 0xFFFF_FFFF)
            s.symbols[right] = Self.absorbed
            let after = s.next[right]
            s.next[left] = after
            if after >= 0 { s.prev[Int(after)] = Int32(left) }
            let before = Int(s.prev[left])
            if before >= 0, let r = merges.rule(s.symbols[before], s.symbols[left]) {
                s.heap.push(r & ~0xFFFF_FFFF | UInt64(before))
            }
            if after >= 0, let r = merges.rule(s.symbols[left], s.symbols[Int(after)]) {
                s.heap.push(r & ~0xFFFF_FFFF | UInt64(left))
            }
        }
        var i = 0
        while i >= 0 {
            let id = s.symbols[i]
            if id >= 0 { ids.append(Int(id)) }
            i = Int(s.next[i])
        }
    }
}
