/// The tokens allowed in one recognizer state, as bits over token ids.
struct TokenMask {
    var words: [UInt64]
    var allowedCount: Int
}

/// Computes which tokens may come next and masks the rest: the logit processor of constrained
/// decoding (vLLM 0.4's guided-decoding processors set disallowed logits to -inf before the other
/// processors; so does this).
///
/// A mask comes from one walk of the vocabulary's prefix tree with the recognizer: every node's
/// byte advances its parent's state; a dead state skips the whole subtree. Masks are memoised per
/// state, so a state met again (every character of a long string, every element of an array)
/// costs a dictionary lookup, and the walk's own steps are memoised by the recognizer.
///
/// End tokens are allowed exactly where the grammar may end; other tokens that render as nothing
/// (control tokens) never are. One per request; each sequence keeps its own ``GrammarState``.
public final class TokenMasker {
    /// The recognizer, shared by the request's sequences.
    public let recognizer: GrammarRecognizer
    /// The vocabulary.
    public let vocabulary: TokenVocabulary
    private let endTokens: [Int]
    private var masks: [GrammarState: TokenMask] = [:]
    private var maskBytes = 0
    private var walk: [GrammarState]
    private static let maskCacheBytes = 64 << 20

    /// A masker for `recognizer` over `vocabulary`, with `endTokens` allowed where the grammar may end.
    public init(recognizer: GrammarRecognizer, vocabulary: TokenVocabulary, endTokens: some Sequence<Int>) {
        self.recognizer = recognizer
        self.vocabulary = vocabulary
        self.endTokens = endTokens.filter { $0 >= 0 && $0 < vocabulary.size }.sorted()
        walk = [GrammarState](repeating: .dead, count: vocabulary.maxDepth + 1)
    }

    /// The tokens allowed after `state`, in increasing order (for tests and inspection).
    public func allowedTokens(_ state: GrammarState) -> [Int] {
        let m = mask(state)
        var out: [Int] = []
        for (w, word) in m.words.enumerated() {
            var bits = word
            while bits != 0 {
                out.append(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return out
    }

    /// Sets the logit of every token not allowed after `state` to -inf; returns whether any token
    /// is allowed. `logits` must have the vocabulary's size (extra entries are masked too).
    /// - Throws: the recognizer's ``GrammarError/tooAmbiguous(stacks:)``.
    public func apply(_ state: GrammarState, to logits: inout [Float]) throws(GrammarError) -> Bool {
        let m = mask(state)
        if let failure = recognizer.failure { throw failure }
        let size = vocabulary.size
        logits.withUnsafeMutableBufferPointer { l in
            m.words.withUnsafeBufferPointer { words in
                for w in 0 ..< words.count {
                    var rejected = ~words[w]
                    if rejected == 0 { continue }
                    let base = w * 64
                    while rejected != 0 {
                        let i = base + rejected.trailingZeroBitCount
                        if i < l.count { l[i] = -.infinity }
                        rejected &= rejected - 1
                    }
                }
                for i in min(size, l.count) ..< l.count { l[i] = -.infinity }
            }
        }
        return m.allowedCount > 0
    }

    /// The state after `token` (whose bytes must have been allowed).
    public func advance(_ state: GrammarState, token: Int) -> GrammarState {
        guard token >= 0, token < vocabulary.size else { return .dead }
        return recognizer.advance(state, bytes: vocabulary.tokenBytes[token])
    }

    func mask(_ state: GrammarState) -> TokenMask {
        if let m = masks[state] { return m }
        let m = computeMask(state)
        maskBytes += m.words.count * 8
        if maskBytes > Self.maskCacheBytes {
            masks.removeAll()
            maskBytes = m.words.count * 8
        }
        masks[state] = m
        return m
    }

    private func computeMask(_ state: GrammarState) -> TokenMask {
        var words = [UInt64](repeating: 0, count: (vocabulary.size + 63) / 64)
        var count = 0
        guard !state.isDead else { return TokenMask(words: words, allowedCount: 0) }
        let v = vocabulary
        let r = recognizer
        walk[0] = state
        words.withUnsafeMutableBufferPointer { bits in
            v.nodeByte.withUnsafeBufferPointer { bytes in
                v.nodeDepth.withUnsafeBufferPointer { depths in
                    v.nodeSkip.withUnsafeBufferPointer { skips in
                        v.nodeTokens.withUnsafeBufferPointer { ranges in
                            v.sortedTokens.withUnsafeBufferPointer { tokens in
                                walk.withUnsafeMutableBufferPointer { states in
                                    var i = 0
                                    let n = bytes.count
                                    while i < n {
                                        let d = Int(depths[i])
                                        let s = r.advance(states[d - 1], bytes[i])
                                        if s.setID < 0 {
                                            i = Int(skips[i])
                                            continue
                                        }
                                        states[d] = s
                                        for t in Int(ranges[i]) ..< Int(ranges[i + 1]) {
                                            let id = Int(tokens[t])
                                            bits[id >> 6] |= 1 << UInt64(id & 63)
                                            count += 1
                                        }
                                        i += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if r.canEnd(state) {
            for id in endTokens where words[id >> 6] & (1 << UInt64(id & 63)) == 0 {
                words[id >> 6] |= 1 << UInt64(id & 63)
                count += 1
            }
        }
        return TokenMask(words: words, allowedCount: count)
    }
}
