import Synchronization

/// Computes which tokens may come next and masks the rest: the logit processor of constrained
/// decoding (vLLM 0.4's guided-decoding processors set disallowed logits to -inf before the other
/// processors; so does this).
///
/// A mask comes from one walk of the vocabulary's prefix tree with the recognizer: every node's
/// byte advances its parent's state; a dead state skips the whole subtree. Masks are memoised per
/// state (in the smallest of the forms of ``TokenMask``), so a state met again (every character of
/// a long string, every element of an array) costs a dictionary lookup, and the walk's own steps
/// are memoised by the recognizer.
///
/// End tokens are allowed exactly where the grammar may end; other tokens that render as nothing
/// (control tokens) never are.
///
/// Thread-safe: the recognizer and the masks sit behind one lock, so every request with the same
/// grammar and vocabulary can share one masker (``GrammarCache`` hands them out); a mask is
/// applied outside the lock. States are plain values: each sequence keeps its own. A masker from
/// a cache stays within the cache's byte budget; one made alone keeps its masks and the
/// recognizer's memo tables under 64 MiB each.
public final class TokenMasker: Sendable {
    /// The vocabulary.
    public let vocabulary: TokenVocabulary
    /// The state before any output.
    public let initial: GrammarState
    private let endTokens: [Int]
    private let core: Mutex<Core>
    /// The budget this masker's memory is charged to, and its entry there; `nil` when alone.
    private let account: GrammarCache.Account?
    /// Which form masks are kept in (tests force each in turn).
    let maskChoice: TokenMask.Choice

    private struct Core {
        let recognizer: GrammarRecognizer
        var masks: [GrammarState: TokenMask] = [:]
        var maskBytes = 0
        var walk: [GrammarState]
    }

    private static let standaloneMaskBytes = 64 << 20

    /// A masker for `grammar` over `vocabulary`, with `endTokens` allowed where the grammar may end,
    /// within `limits` (``GrammarLimits/maxStacks``).
    /// - Throws: ``GrammarError/tooAmbiguous(stacks:)`` when the start alone has too many stacks.
    public convenience init(grammar: CompiledGrammar, vocabulary: TokenVocabulary, endTokens: some Sequence<Int>,
                            limits: GrammarLimits = .init()) throws(GrammarError) {
        self.init(recognizer: try GrammarRecognizer(grammar: grammar, limits: limits), vocabulary: vocabulary,
                  endTokens: endTokens, account: nil)
    }

    init(recognizer: sending GrammarRecognizer, vocabulary: TokenVocabulary, endTokens: some Sequence<Int>,
         account: GrammarCache.Account?, maskChoice: TokenMask.Choice = .smallest) {
        self.vocabulary = vocabulary
        self.endTokens = endTokens.filter { $0 >= 0 && $0 < vocabulary.size }.sorted()
        self.account = account
        self.maskChoice = maskChoice
        initial = recognizer.initial
        if let account {
            recognizer.memoryBudget = { bytes, force in account.reserve(bytes, force: force) }
            recognizer.memoryRefund = { bytes in account.refund(bytes) }
        }
        core = Mutex(Core(recognizer: recognizer, walk: [GrammarState](repeating: .dead, count: vocabulary.maxDepth + 1)))
    }

    /// The tokens allowed after `state`, in increasing order (for tests and inspection).
    public func allowedTokens(_ state: GrammarState) -> [Int] {
        mask(state).allowedTokens()
    }

    /// Sets the logit of every token not allowed after `state` to -inf; returns whether any token
    /// is allowed. `logits` must have the vocabulary's size (extra entries are masked too).
    /// - Throws: the recognizer's ``GrammarError/tooAmbiguous(stacks:)``.
    public func apply(_ state: GrammarState, to logits: inout [Float]) throws(GrammarError) -> Bool {
        let (m, failure) = core.withLock { core in
            let m = Self.mask(state, &core, self)
            return (m, core.recognizer.failure)
        }
        if let failure { throw failure }
        m.apply(to: &logits)
        return m.allowedCount > 0
    }

    /// The state after `token` (whose bytes must have been allowed).
    public func advance(_ state: GrammarState, token: Int) -> GrammarState {
        guard token >= 0, token < vocabulary.size else { return .dead }
        let bytes = vocabulary.tokenBytes[token]
        return core.withLock { $0.recognizer.advance(state, bytes: bytes) }
    }

    /// The state after `bytes`.
    public func advance(_ state: GrammarState, bytes: [UInt8]) -> GrammarState {
        core.withLock { $0.recognizer.advance(state, bytes: bytes) }
    }

    /// The state after the UTF-8 bytes of `text`.
    public func advance(_ state: GrammarState, text: String) -> GrammarState {
        core.withLock { $0.recognizer.advance(state, text: text) }
    }

    /// Whether the output so far is a complete match (the output may end here).
    public func canEnd(_ state: GrammarState) -> Bool {
        core.withLock { $0.recognizer.canEnd(state) }
    }

    /// Whether the output so far is complete and nothing can follow it.
    public func isComplete(_ state: GrammarState) -> Bool {
        core.withLock { $0.recognizer.isComplete(state) }
    }

    /// Whether the whole of `text` matches the grammar.
    public func matches(_ text: String) -> Bool {
        core.withLock { $0.recognizer.matches(text) }
    }

    /// The recognizer's failure, if it grew too many stacks.
    var failure: GrammarError? { core.withLock { $0.recognizer.failure } }

    /// Estimated bytes held: masks, the recognizer's memo tables and its frames and sets.
    var memoryBytes: Int { core.withLock { $0.maskBytes + $0.recognizer.memoryBytes } }

    /// Masks and recognizer tables as counted (for tests).
    var counts: (masks: Int, maskBytes: Int, recognizerBytes: Int, memoDrops: Int) {
        core.withLock { ($0.masks.count, $0.maskBytes, $0.recognizer.memoryBytes, $0.recognizer.memoDrops) }
    }

    func mask(_ state: GrammarState) -> TokenMask {
        core.withLock { Self.mask(state, &$0, self) }
    }

    /// Drops the masks and the recognizer's memo tables if no one holds the lock; returns whether
    /// it could. What they held goes back to the budget.
    func shedIfIdle() -> Bool {
        core.withLockIfAvailable { core in
            Self.shed(&core, self)
            return true
        } ?? false
    }

    private static func shed(_ core: inout Core, _ masker: TokenMasker) {
        if core.maskBytes > 0 { masker.account?.refund(core.maskBytes) }
        core.masks.removeAll()
        core.maskBytes = 0
        core.recognizer.dropMemo()
    }

    private static func mask(_ state: GrammarState, _ core: inout Core, _ masker: TokenMasker) -> TokenMask {
        if let m = core.masks[state] { return m }
        let m = masker.computeMask(state, &core)
        let bytes = m.bytes
        if let account = masker.account {
            if !account.reserve(bytes, force: false) {
                // Room for the newest mask first: drop this masker's older ones, then try again.
                if core.maskBytes > 0 {
                    account.refund(core.maskBytes)
                    core.masks.removeAll()
                    core.maskBytes = 0
                }
                guard account.reserve(bytes, force: false) else { return m }
            }
        } else if core.maskBytes + bytes > standaloneMaskBytes {
            core.masks.removeAll()
            core.maskBytes = 0
        }
        core.maskBytes += bytes
        core.masks[state] = m
        return m
    }

    private func computeMask(_ state: GrammarState, _ core: inout Core) -> TokenMask {
        var words = [UInt64](repeating: 0, count: (vocabulary.size + 63) / 64)
        var count = 0
        guard !state.isDead else { return TokenMask(words: words, allowedCount: 0, size: vocabulary.size, choice: maskChoice) }
        let v = vocabulary
        let r = core.recognizer
        core.walk[0] = state
        words.withUnsafeMutableBufferPointer { bits in
            v.nodeByte.withUnsafeBufferPointer { bytes in
                v.nodeDepth.withUnsafeBufferPointer { depths in
                    v.nodeSkip.withUnsafeBufferPointer { skips in
                        v.nodeTokens.withUnsafeBufferPointer { ranges in
                            v.sortedTokens.withUnsafeBufferPointer { tokens in
                                core.walk.withUnsafeMutableBufferPointer { states in
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
        return TokenMask(words: words, allowedCount: count, size: vocabulary.size, choice: maskChoice)
    }
}
