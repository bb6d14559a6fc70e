/// Loading a byte-level BPE vocabulary: token texts to byte keys, merge lines to rules.
///
/// A large vocabulary (Llama-3: 128k tokens, 280k merges) should load in a few tens of
/// milliseconds. What costs is memory: fresh buffers (page faults) and lookups in tables larger than
/// the caches. So texts are mapped straight into preallocated buffers, the GPT-2 table is read once
/// per pass, and the merged token of each rule is first looked for at or right after the previous
/// rule's, where real vocabularies put it, by a direct comparison instead of a hash lookup.

/// The byte key of every token: its text mapped back through GPT-2's byte table, or nothing when
/// the text has a character outside the map (special tokens such as "<｜end▁of▁sentence｜>").
struct TokenKeys {
    /// All keys back to back.
    var bytes: [UInt8]
    /// Per id: start << 32 | length, or `ByteStringTable.empty`.
    var entries: [UInt64]
    /// Tokens that are not byte-mapped, by their UTF-8: a merge may still name them.
    var unmapped: [[UInt8]: Int] = [:]
    /// The first unmapped token whose text an earlier one has.
    var firstUnmappedDuplicate: (id: Int, earlier: Int)?

    init(tokens: [String]) {
        entries = [UInt64](repeating: ByteStringTable.empty, count: tokens.count)
        // Mapped keys are never longer than their UTF-8; "[EMPTY_<id>]" fits in 32 bytes.
        var total = 0
        for t in tokens { total += t.isEmpty ? 32 : t.utf8.count }
        var unmappedIDs: [Int] = []
        var entries = self.entries
        bytes = GPT2ByteMap.byteOfScalar.withUnsafeBufferPointer { inverse in
            // Uninitialized: pages are touched only as keys are written.
            [UInt8](unsafeUninitializedCapacity: total) { out, used in
                used = 0
                for id in tokens.indices {
                    // llama.cpp renames empty tokens so that they stay unique and visible.
                    var text = tokens[id].isEmpty ? "[EMPTY_\(id)]" : tokens[id]
                    let start = used
                    if text.withUTF8({ GPT2ByteMap.map($0, into: out, at: &used, inverse: inverse) }) {
                        entries[id] = UInt64(start) << 32 | UInt64(used - start)
                    } else {
                        used = start
                        unmappedIDs.append(id)
                    }
                }
            }
        }
        self.entries = entries
        for id in unmappedIDs {
            let text = tokens[id].isEmpty ? "[EMPTY_\(id)]" : tokens[id]
            if let earlier = unmapped.updateValue(id, forKey: Array(text.utf8)), firstUnmappedDuplicate == nil {
                firstUnmappedDuplicate = (id, earlier)
            }
        }
    }
}

extension ByteLevelBPEModel {
    private enum MergeLine {
        case rule(left: Int, right: Int, merged: Int)
        /// Names tokens that are not byte-mapped text: valid, but no piece can ever contain them.
        case neverApplies
        case invalid
    }

    /// Parses merge lines like llama.cpp's loader (split at the first space from the second byte on)
    /// into rules by token id, in rank order.
    ///
    /// - Throws: `.invalidMerge` when a line does not split into two non-empty sides, or a side or
    ///   the concatenation is no token. A rule whose sides are tokens that are not byte-mapped text
    ///   can never apply and is left out (llama.cpp keeps it; it never matches).
    static func mergeRules(_ merges: [String], table: ByteStringTable, unmapped: [[UInt8]: Int])
        throws(TokenizerError) -> [MergeTable.Rule] {
        var rules: [MergeTable.Rule] = []
        rules.reserveCapacity(merges.count)
        var pair = [UInt8](repeating: 0, count: 256)
        var guess = 0
        var failure: Int?
        GPT2ByteMap.byteOfScalar.withUnsafeBufferPointer { inverse in
            for (rank, merge) in merges.enumerated() {
                var line = merge
                let parsed: MergeLine = line.withUTF8 { utf8 in
                    if utf8.count > pair.count { pair = [UInt8](repeating: 0, count: utf8.count) }
                    return pair.withUnsafeMutableBufferPointer { out in
                        parse(utf8, out, inverse, table, unmapped, guess)
                    }
                }
                switch parsed {
                case let .rule(left, right, merged):
                    rules.append(MergeTable.Rule(left: left, right: right, rank: rank, merged: merged))
                    guess = merged
                case .neverApplies:
                    continue
                case .invalid:
                    failure = rank
                    return
                }
            }
        }
        if let failure { throw .invalidMerge(index: failure, merge: merges[failure]) }
        return rules
    }

    /// One merge line: its sides mapped into `out`, then the three ids.
    @inline(__always)
    private static func parse(
        _ utf8: UnsafeBufferPointer<UInt8>, _ out: UnsafeMutableBufferPointer<UInt8>,
        _ inverse: UnsafeBufferPointer<Int16>, _ table: ByteStringTable, _ unmapped: [[UInt8]: Int], _ guess: Int
    ) -> MergeLine {
        guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20), space + 1 < utf8.count else { return .invalid }
        let left = UnsafeBufferPointer(rebasing: utf8[..<space])
        let right = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
        var n = 0
        guard GPT2ByteMap.map(left, into: out, at: &n, inverse: inverse) else {
            return knownUnmapped(left, right, table, unmapped) ? .neverApplies : .invalid
        }
        let split = n
        guard GPT2ByteMap.map(right, into: out, at: &n, inverse: inverse) else {
            return knownUnmapped(left, right, table, unmapped) ? .neverApplies : .invalid
        }
        let bytes = UnsafeBufferPointer(rebasing: out[..<n])
        let merged: Int?
        if table.hasKey(guess, bytes) {
            merged = guess
        } else if table.hasKey(guess + 1, bytes) {
            merged = guess + 1
        } else {
            merged = table.lookup(bytes)
        }
        guard let merged,
              let l = table.lookup(UnsafeBufferPointer(rebasing: bytes[..<split])),
              let r = table.lookup(UnsafeBufferPointer(rebasing: bytes[split...]))
        else { return .invalid }
        return .rule(left: l, right: r, merged: merged)
    }

    /// Whether both sides are tokens, at least one of them not byte-mapped text.
    private static func knownUnmapped(
        _ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>,
        _ table: ByteStringTable, _ unmapped: [[UInt8]: Int]
    ) -> Bool {
        func known(_ side: UnsafeBufferPointer<UInt8>) -> Bool {
            var bytes: [UInt8] = []
            if GPT2ByteMap.appendBytes(ofMappedUTF8: side, to: &bytes) { return table[bytes] != nil }
            return unmapped[Array(side)] != nil
        }
        return known(left) && known(right)
    }
}
