/// The vocabulary as the constraint engine sees it: each token's bytes (what it adds to the output)
/// and a prefix tree of them, built once per tokenizer and shared by every request.
///
/// The tree is stored flat, in depth-first preorder: node i has its byte, its depth, the index just
/// past its subtree (to skip it when the recognizer rejects its byte) and the tokens whose bytes
/// end there. A walk is then one forward pass over arrays, and a rejected prefix skips every token
/// that starts with it.
public final class TokenVocabulary: Sendable {
    /// The number of token ids (the logit vector's length).
    public let size: Int
    /// Each token's bytes; empty for tokens that render as nothing (control tokens), which a
    /// constraint never allows except the end tokens where the grammar may end.
    public let tokenBytes: [[UInt8]]
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    let nodeSkip: [Int32]
    /// Tokens ending at node i: `sortedTokens[nodeTokens[i] ..< nodeTokens[i + 1]]`.
    let nodeTokens: [Int32]
    let sortedTokens: [Int32]
    let maxDepth: Int

    /// The vocabulary of `tokens[id]` byte strings (`nil` or empty: never allowed by a constraint).
    /// Strings longer than 65,535 bytes are treated as empty.
    public init(tokens: [[UInt8]?]) {
        size = tokens.count
        let bytes = tokens.map { t -> [UInt8] in
            guard let t, t.count <= Int(UInt16.max) else { return [] }
            return t
        }
        tokenBytes = bytes
        let order = bytes.indices.filter { !bytes[$0].isEmpty }.sorted {
            bytes[$0].lexicographicallyPrecedes(bytes[$1])
        }
        var nodeByte: [UInt8] = [], nodeDepth: [UInt16] = [], nodeSkip: [Int32] = [], nodeTokens: [Int32] = []
        var sorted: [Int32] = []
        // The nodes of the current path, by depth - 1.
        var path: [Int] = []
        var previous: [UInt8] = []
        var maxDepth = 0
        for id in order {
            let b = bytes[id]
            var common = 0
            while common < b.count, common < previous.count, b[common] == previous[common] { common += 1 }
            while path.count > common {
                nodeSkip[path.removeLast()] = Int32(nodeByte.count)
            }
            for d in common ..< b.count {
                path.append(nodeByte.count)
                nodeByte.append(b[d])
                nodeDepth.append(UInt16(d + 1))
                nodeSkip.append(0)
                nodeTokens.append(Int32(sorted.count))
            }
            // The token ends at the deepest node of the path; tokens are sorted, so every token
            // ending at a node comes before its descendants and the ranges stay contiguous.
            sorted.append(Int32(id))
            maxDepth = max(maxDepth, b.count)
            previous = b
        }
        while let last = path.popLast() { nodeSkip[last] = Int32(nodeByte.count) }
        nodeTokens.append(Int32(sorted.count))
        self.nodeByte = nodeByte
        self.nodeDepth = nodeDepth
        self.nodeSkip = nodeSkip
        self.nodeTokens = nodeTokens
        sortedTokens = sorted
        self.maxDepth = maxDepth
    }

    /// The number of nodes of the prefix tree.
    public var nodeCount: Int { nodeByte.count }
}
