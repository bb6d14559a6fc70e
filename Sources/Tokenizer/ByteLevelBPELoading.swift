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
    /// The longest token text in UTF-8 bytes.
    var longestText = 0

    init(tokens: [String]) {
        entries = [UInt64](repeating: ByteStringTable.empty, count: tokens.count)
        // Mapped keys are never longer than their UTF-8; "[EMPTY_<id>]" fits in 32 bytes.
        var total = 0
        var longest = 0
        for t in tokens {
            let count = t.utf8.count
            total += t.isEmpty ? 32 : count
            longest = max(longest, count)
        }
        longestText = longest
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

/// The byte keys of a byte-level BPE vocabulary and their table: built once, by
/// `CheckedVocabulary` (whose duplicate check they are) and then used by `ByteLevelBPEModel`.
struct ByteLevelTables {
    let keys: TokenKeys
    let table: ByteStringTable

    init(keys: TokenKeys, table: ByteStringTable) {
        self.keys = keys
        self.table = table
    }

    /// Nil when a token text is longer than `ByteStringTable` indexes (65535 bytes), so that the
    /// duplicate check must compare texts instead.
    init?(tokens: [String]) {
        let keys = TokenKeys(tokens: tokens)
        guard keys.longestText <= 0xFFFF else { return nil }
        self.keys = keys
        table = ByteStringTable(bytes: keys.bytes, entries: keys.entries)
    }

    /// The first id whose text an earlier token has: the same answer as comparing the texts, since
    /// byte-mapped texts are equal exactly when their keys are, and a byte-mapped text never equals
    /// one that is not.
    var firstDuplicate: Int? {
        switch (table.firstDuplicate?.id, keys.firstUnmappedDuplicate?.id) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }
}

extension ByteLevelBPEModel {
    /// A merge line parsed but not yet looked up: its two sides mapped to bytes in the batch buffer.
    private struct PendingMerge {
        var rank: Int
        /// `bytes[start ..< split]` is the left side, `bytes[split ..< end]` the right one.
        var start = 0, split = 0, end = 0
        var leftHash: UInt64 = 0, leftPacked: UInt64 = 0
        var rightHash: UInt64 = 0, rightPacked: UInt64 = 0
        /// Nil while mapped; else what the line was found to be without a lookup.
        var early: MergeLine?
    }

    private enum MergeLine {
        case rule(left: Int, right: Int, merged: Int)
        /// Names tokens that are not byte-mapped text: valid, but no piece can ever contain them.
        case neverApplies
        case invalid
    }

    /// Lines parsed before their sides are looked up. Each lookup is likely a memory miss (the
    /// table is larger than the caches); reading the home slots of a whole batch back to back lets
    /// those misses overlap instead of happening one after another.
    private static let batchSize = 64

    /// Parses merge lines like llama.cpp's loader (split at the first space from the second byte on)
    /// into rules by token id, in rank order.
    ///
    /// - Throws: `.invalidMerge` when a line does not split into two non-empty sides, or a side or
    ///   the concatenation is no token. A rule whose sides are tokens that are not byte-mapped text
    ///   can never apply and is left out (llama.cpp keeps it; it never matches).
    static func mergeRules(_ merges: MergeLines, table: ByteStringTable, unmapped: [[UInt8]: Int])
        throws(TokenizerError) -> [MergeTable.Rule] {
        let lines: UTF8StringList
        switch merges {
        case let .utf8(list): lines = list
        case let .strings(strings): lines = UTF8StringList(strings)
        }
        let parsed = rules(lines, 0 ..< lines.count, table, unmapped)
        if let failure = parsed.failure { throw .invalidMerge(index: failure, merge: lines[failure]) }
        return parsed.rules
    }

    /// The rules of `lines[range]` in rank order, and the first invalid line's rank if one is.
    private static func rules(_ lines: UTF8StringList, _ range: Range<Int>, _ table: ByteStringTable,
                              _ unmapped: [[UInt8]: Int]) -> (rules: [MergeTable.Rule], failure: Int?) {
        var rules: [MergeTable.Rule] = []
        rules.reserveCapacity(range.count)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var batch: [PendingMerge] = []
        batch.reserveCapacity(batchSize)
        var guess = 0
        var failure: Int?
        let offsets = lines.offsets
        let hashes = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * batchSize)
        let infos = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * batchSize)
        defer {
            hashes.deallocate()
            infos.deallocate()
        }
        lines.withBytes { all in
            GPT2ByteMap.byteOfScalar.withUnsafeBufferPointer { inverse in
                var rank = range.lowerBound
                while rank < range.upperBound, failure == nil {
                    // Parse and map a batch of lines, hashing both sides.
                    batch.removeAll(keepingCapacity: true)
                    var used = 0
                    while rank < range.upperBound, batch.count < batchSize {
                        let line = UnsafeBufferPointer(rebasing: all[Int(offsets[rank]) ..< Int(offsets[rank + 1])])
                        // Mapped sides are never longer than the line; a batch that cannot hold this
                        // line ends here, and a line longer than the whole buffer grows it.
                        if used + line.count > buffer.count {
                            guard batch.isEmpty else { break }
                            buffer = [UInt8](repeating: 0, count: line.count)
                        }
                        var pending = PendingMerge(rank: rank)
                        buffer.withUnsafeMutableBufferPointer { out in
                            map(line, into: out, at: &used, inverse, table, unmapped, &pending)
                        }
                        batch.append(pending)
                        rank += 1
                    }
                    // The loads that miss, all together (lines settled early load slot 0's, unused).
                    for (i, p) in batch.enumerated() {
                        hashes[2 * i] = p.leftHash
                        hashes[2 * i + 1] = p.rightHash
                    }
                    table.loadHomeInfos(hashes, count: 2 * batch.count, into: infos)
                    buffer.withUnsafeBufferPointer { bytes in
                        for (i, p) in batch.enumerated() {
                            switch p.early ?? resolve(p, bytes, table, guess, infos[2 * i], infos[2 * i + 1]) {
                            case let .rule(left, right, merged):
                                rules.append(MergeTable.Rule(left: left, right: right, rank: p.rank, merged: merged))
                                guess = merged
                            case .neverApplies:
                                continue
                            case .invalid:
                                failure = p.rank
                                return
                            }
                        }
                    }
                }
            }
        }
        return (rules, failure)
    }

    /// Splits one merge line and maps its sides into `out` from `used` on, or settles it as
    /// `early` when it does not split or a side is not byte-mapped text.
    @inline(__always)
    private static func map(
        _ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at used: inout Int,
        _ inverse: UnsafeBufferPointer<Int16>, _ table: ByteStringTable, _ unmapped: [[UInt8]: Int],
        _ p: inout PendingMerge
    ) {
        guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20), space + 1 < utf8.count else {
            p.early = .invalid
            return
        }
        let left = UnsafeBufferPointer(rebasing: utf8[..<space])
        let right = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
        var n = used
        guard GPT2ByteMap.map(left, into: out, at: &n, inverse: inverse) else {
            p.early = knownUnmapped(left, right, table, unmapped) ? .neverApplies : .invalid
            return
        }
        let split = n
        guard GPT2ByteMap.map(right, into: out, at: &n, inverse: inverse) else {
            p.early = knownUnmapped(left, right, table, unmapped) ? .neverApplies : .invalid
            return
        }
        (p.start, p.split, p.end) = (used, split, n)
        (p.leftHash, p.leftPacked) = ByteStringTable.hash(UnsafeBufferPointer(rebasing: out[used ..< split]))
        (p.rightHash, p.rightPacked) = ByteStringTable.hash(UnsafeBufferPointer(rebasing: out[split ..< n]))
        used = n
    }

    /// The three ids of a mapped line. The merged token is first looked for at or right after the
    /// previous rule's, where real vocabularies put it, by a direct comparison.
    @inline(__always)
    private static func resolve(_ p: PendingMerge, _ bytes: UnsafeBufferPointer<UInt8>, _ table: ByteStringTable,
                                _ guess: Int, _ leftInfo: UInt64, _ rightInfo: UInt64) -> MergeLine {
        let both = UnsafeBufferPointer(rebasing: bytes[p.start ..< p.end])
        let merged: Int?
        if table.hasKey(guess, both) {
            merged = guess
        } else if table.hasKey(guess + 1, both) {
            merged = guess + 1
        } else {
            merged = table.lookup(both)
        }
        guard let merged,
              let l = table.lookup(UnsafeBufferPointer(rebasing: bytes[p.start ..< p.split]),
                                   hash: p.leftHash, packed: p.leftPacked, homeInfo: leftInfo),
              let r = table.lookup(UnsafeBufferPointer(rebasing: bytes[p.split ..< p.end]),
                                   hash: p.rightHash, packed: p.rightPacked, homeInfo: rightInfo)
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
