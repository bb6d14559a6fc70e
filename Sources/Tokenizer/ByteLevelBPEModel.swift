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
    /// What each id decodes to (`token_to_piece`): `decoded[offsets[id] ..< offsets[id + 1]]`.
    private let decoded: [UInt8]
    private let decodedOffsets: [Int]

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
        preTokenizer = try PreTokenizer(name: v.preTokenizer)
        let n = v.tokens.count
        guard v.tokenTypes.count == n else {
            throw .lengthMismatch(field: "token_type", expected: n, actual: v.tokenTypes.count)
        }
        var table = ByteStringTable(idCount: n, expectedKeys: n)
        // Tokens with characters outside the byte map can never be a piece, but a merge may name them.
        var unmapped: [[UInt8]: Int] = [:]
        var decoded: [UInt8] = []
        decoded.reserveCapacity(n * 8)
        var offsets = [0]
        offsets.reserveCapacity(n + 1)
        var key: [UInt8] = []
        for id in 0 ..< n {
            // llama.cpp renames empty tokens so that they stay unique and visible.
            var text = v.tokens[id].isEmpty ? "[EMPTY_\(id)]" : v.tokens[id]
            key.removeAll(keepingCapacity: true)
            let mapped = text.withUTF8 { GPT2ByteMap.appendBytes(ofMappedUTF8: $0, to: &key) }
            if mapped {
                if table.insert(key, id: id) != nil { throw .duplicateToken(id: id, text: text) }
            } else {
                if unmapped.updateValue(id, forKey: Array(text.utf8)) != nil { throw .duplicateToken(id: id, text: text) }
            }
            Self.appendDecoded(text: text, type: v.tokenTypes[id], mappedBytes: mapped ? key : nil, to: &decoded)
            offsets.append(decoded.count)
        }

        // The key [b] belongs to the one token whose text is b's GPT-2 character.
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0 ..< 256 {
            if let id = table[[UInt8(byte)]] { byteTokens[byte] = Int32(id) }
        }

        var rules: [MergeTable.Rule] = []
        rules.reserveCapacity(v.merges.count)
        var pair: [UInt8] = []
        // Vocabularies list merged tokens in about the order of their rules, so the id after the
        // previous merged one is checked first, which is cheaper than hashing.
        var guess = 0
        for (rank, merge) in v.merges.enumerated() {
            var line = merge
            let rule = line.withUTF8 { utf8 in
                Self.parseMerge(utf8, table: table, unmapped: unmapped, guess: guess, scratch: &pair)
            }
            switch rule {
            case let .rule(leftID, rightID, mergedID):
                rules.append(MergeTable.Rule(left: leftID, right: rightID, rank: rank, merged: mergedID))
                guess = mergedID
            case .neverApplies:
                continue
            case .invalid:
                throw .invalidMerge(index: rank, merge: merge)
            }
        }

        tokensByBytes = table
        merges = MergeTable(rules: rules)
        self.byteTokens = byteTokens
        self.decoded = decoded
        decodedOffsets = offsets
    }

    private enum MergeLine {
        case rule(left: Int, right: Int, merged: Int)
        /// Names tokens that are not byte-mapped text: valid, but no piece can ever contain them.
        case neverApplies
        case invalid
    }

    /// Parses one merge line like llama.cpp's loader (split at the first space from the second byte
    /// on) and looks its sides and their concatenation up. `scratch` receives left + right bytes.
    private static func parseMerge(
        _ utf8: UnsafeBufferPointer<UInt8>, table: ByteStringTable, unmapped: [[UInt8]: Int], guess: Int,
        scratch: inout [UInt8]
    ) -> MergeLine {
        guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20), space + 1 < utf8.count else { return .invalid }
        let leftUTF8 = UnsafeBufferPointer(rebasing: utf8[..<space])
        let rightUTF8 = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
        scratch.removeAll(keepingCapacity: true)
        let leftMapped = GPT2ByteMap.appendBytes(ofMappedUTF8: leftUTF8, to: &scratch)
        let split = scratch.count
        let rightMapped = leftMapped && GPT2ByteMap.appendBytes(ofMappedUTF8: rightUTF8, to: &scratch)
        guard leftMapped, rightMapped else {
            // Known tokens that are not byte-mapped text make a rule that can never apply.
            func known(_ side: UnsafeBufferPointer<UInt8>) -> Bool {
                var bytes: [UInt8] = []
                if GPT2ByteMap.appendBytes(ofMappedUTF8: side, to: &bytes) { return table[bytes] != nil }
                return unmapped[Array(side)] != nil
            }
            return known(leftUTF8) && known(rightUTF8) ? .neverApplies : .invalid
        }
        return scratch.withUnsafeBufferPointer { bytes in
            let merged: Int?
            if table.hasKey(guess, bytes) {
                merged = guess
            } else if table.hasKey(guess + 1, bytes) {
                merged = guess + 1
            } else {
                merged = table.lookup(bytes)
            }
            guard let m = merged,
                  let l = table.lookup(UnsafeBufferPointer(rebasing: bytes[..<split])),
                  let r = table.lookup(UnsafeBufferPointer(rebasing: bytes[split...]))
            else { return .invalid }
            return .rule(left: l, right: r, merged: m)
        }
    }

    /// llama.cpp's `token_to_piece` for byte-level BPE: normal tokens map their characters back to
    /// bytes; a character outside the map renders as `[UNK_BYTE_0x<utf8 hex><token text>]`, as
    /// llama.cpp's `llama_decode_text` does. Control, unknown and user-defined tokens are their text;
    /// `<0xNN>` byte tokens their byte; unused and undefined tokens nothing.
    private static func appendDecoded(text: String, type: TokenType, mappedBytes: [UInt8]?, to out: inout [UInt8]) {
        switch type {
        case .normal:
            if let mappedBytes {
                out.append(contentsOf: mappedBytes)
                return
            }
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
        guard id >= 0, id + 1 < decodedOffsets.count else { return }
        bytes.append(contentsOf: decoded[decodedOffsets[id] ..< decodedOffsets[id + 1]])
    }

    func encode(fragment: Substring, followsSpecial: Bool, into ids: inout [Int]) {
        let text = ScalarText(fragment)
        let ends = preTokenizer.pieceEnds(text)
        var scratch = Scratch()
        var start = 0
        var byteStart = 0
        text.utf8.withUnsafeBufferPointer { utf8 in
            for end in ends {
                var byteEnd = byteStart
                for i in start ..< end { byteEnd += ScalarText.utf8Length(text.scalars[i]) }
                encodePiece(UnsafeBufferPointer(rebasing: utf8[byteStart ..< byteEnd]), &scratch, &ids)
                start = end
                byteStart = byteEnd
            }
        }
    }

    /// Buffers reused from piece to piece.
    private struct Scratch {
        var symbols: [Int32] = []
        var next: [Int32] = []
        var prev: [Int32] = []
        var heap = MinHeap()
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
