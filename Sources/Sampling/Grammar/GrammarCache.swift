import Synchronization

/// The token maskers of one engine, shared by every request with the same compiled grammar,
/// vocabulary, end tokens and stack limit (many clients send the same schema), under one byte
/// budget for all of them together.
///
/// Every table a masker grows (its masks, its recognizer's memo tables and interned states) is
/// charged to the budget before it is kept, as estimated bytes. Masks and memo tables may fill seven
/// eighths of it. When a charge would pass that, the cache makes room: it drops maskers no request
/// holds, least recently used first, then asks the maskers in use, least recently used first, to
/// drop their masks and memo tables (only those not busy at that moment: no lock is ever waited
/// for). What still does not fit is not kept: a mask is used once and computed again later. The
/// recognizer's frames and stack sets give the states of running sequences their meaning, so they
/// cannot be dropped: they are charged whatever the budget says, into the last eighth, and a masker
/// that pushes the total past the whole budget is retired (later requests get a fresh one, and the
/// old one goes with its last request; ``overBudgetCharges`` counts these). So the bytes held stay
/// within the budget except for parse states of requests in flight beyond that eighth.
public final class GrammarCache: Sendable {
    /// The most estimated bytes all maskers may keep together.
    public let byteBudget: Int
    private let state: Mutex<State>

    struct Key: Hashable {
        var grammar: CompiledGrammar
        var vocabulary: ObjectIdentifier
        var endTokens: [Int]
        var maxStacks: Int
    }

    struct Entry {
        var masker: TokenMasker
        /// `nil` once retired: no new request gets it.
        var key: Key?
        var users: Int
        var bytes: Int
        var lastUse: UInt64
    }

    struct State {
        var entries: [Int: Entry] = [:]
        var byKey: [Key: Int] = [:]
        var total = 0
        var peak = 0
        var clock: UInt64 = 0
        var nextID = 0
        var leases = 0
        var sharedLeases = 0
        var overBudgetCharges = 0
    }

    /// A masker's entry, through which it charges and refunds bytes. Holds the cache weakly: the
    /// cache holds the maskers.
    final class Account: Sendable {
        weak let cache: GrammarCache?
        let id: Int

        init(cache: GrammarCache, id: Int) {
            self.cache = cache
            self.id = id
        }

        /// Asks for `bytes` more; `force` grants whatever the budget says.
        func reserve(_ bytes: Int, force: Bool) -> Bool {
            guard let cache else { return force }
            return cache.reserve(id, bytes, force: force)
        }

        func refund(_ bytes: Int) { cache?.refund(id, bytes) }
    }

    /// What masks and memo tables may fill: the budget less an eighth kept for parse states, which
    /// are charged even when nothing can be dropped at that moment (every other masker busy).
    private let droppableLimit: Int

    /// A cache whose maskers keep at most `byteBudget` estimated bytes together (64 MiB by default).
    public init(byteBudget: Int = 64 << 20) {
        self.byteBudget = max(0, byteBudget)
        droppableLimit = self.byteBudget - self.byteBudget / 8
        state = Mutex(State())
    }

    /// Estimated bytes the maskers hold now.
    public var accountedBytes: Int { state.withLock { $0.total } }
    /// The most estimated bytes held at once so far.
    public var peakAccountedBytes: Int { state.withLock { $0.peak } }
    /// Maskers alive (in use, idle or retired).
    public var maskerCount: Int { state.withLock { $0.entries.count } }
    /// Charges of parse states that took the total past the budget (each retired its masker).
    public var overBudgetCharges: Int { state.withLock { $0.overBudgetCharges } }
    /// Leases handed out so far, and how many of them got a masker another lease had made.
    public var leaseCounts: (total: Int, shared: Int) { state.withLock { ($0.leases, $0.sharedLeases) } }

    /// A masker for `grammar` over `vocabulary` with `endTokens` allowed where the grammar may end:
    /// the one already made for the same four things, else a new one. Hold the lease while using
    /// the masker.
    /// - Throws: ``GrammarError/tooAmbiguous(stacks:)`` when the start alone has too many stacks.
    public func lease(grammar: CompiledGrammar, vocabulary: TokenVocabulary, endTokens: some Sequence<Int>,
                      limits: GrammarLimits = .init()) throws(GrammarError) -> GrammarLease {
        let ends = Array(Set(endTokens.filter { $0 >= 0 && $0 < vocabulary.size })).sorted()
        let key = Key(grammar: grammar, vocabulary: ObjectIdentifier(vocabulary), endTokens: ends, maxStacks: limits.maxStacks)
        let found = state.withLock { s -> (Int, TokenMasker)? in
            guard let id = s.byKey[key] else { return nil }
            return Self.take(id, &s)
        }
        if let found { return GrammarLease(cache: self, id: found.0, masker: found.1) }
        // Built outside the lock: the start's expansion may take a while.
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        let recognizer = try GrammarRecognizer(grammar: grammar, limits: limits)
        let startBytes = recognizer.grantedBytes
        let masker = TokenMasker(recognizer: recognizer, vocabulary: vocabulary, endTokens: ends,
                                 account: Account(cache: self, id: id))
        let budget = byteBudget
        let (leaseID, leased) = state.withLock { s -> (Int, TokenMasker) in
            // Another request may have made the same masker meanwhile: share that one.
            if let other = s.byKey[key], let taken = Self.take(other, &s) { return taken }
            s.clock += 1
            s.leases += 1
            s.entries[id] = Entry(masker: masker, key: key, users: 1, bytes: startBytes, lastUse: s.clock)
            s.byKey[key] = id
            s.total += startBytes
            s.peak = max(s.peak, s.total)
            Self.dropIdle(&s, until: budget, except: id)
            if s.total > budget { s.overBudgetCharges += 1 }
            return (id, masker)
        }
        return GrammarLease(cache: self, id: leaseID, masker: leased)
    }

    /// Drops every idle masker and retires the rest (the engine's reset; maskers in use keep
    /// working until their requests end).
    public func removeAll() {
        state.withLock { s in
            s.byKey.removeAll()
            for (id, e) in s.entries {
                if e.users == 0 {
                    s.total -= e.bytes
                    s.entries[id] = nil
                } else {
                    s.entries[id]?.key = nil
                }
            }
        }
    }

    private static func take(_ id: Int, _ s: inout State) -> (Int, TokenMasker)? {
        guard var e = s.entries[id] else { return nil }
        s.clock += 1
        e.users += 1
        e.lastUse = s.clock
        s.entries[id] = e
        s.leases += 1
        s.sharedLeases += 1
        return (id, e.masker)
    }

    /// Drops idle maskers, least recently used first, until the total is within `limit`.
    private static func dropIdle(_ s: inout State, until limit: Int, except id: Int) {
        guard s.total > limit else { return }
        let idle = s.entries.filter { $0.key != id && $0.value.users == 0 }.sorted { $0.value.lastUse < $1.value.lastUse }
        for (victim, e) in idle {
            guard s.total > limit else { return }
            s.total -= e.bytes
            s.entries[victim] = nil
            if let key = e.key, s.byKey[key] == victim { s.byKey[key] = nil }
        }
    }

    private func reserve(_ id: Int, _ bytes: Int, force: Bool) -> Bool {
        let budget = byteBudget, limit = droppableLimit
        // Granted at once, or the maskers in use to ask for room, or nil for an unknown entry.
        let first = state.withLock { s -> (granted: Bool, busy: [TokenMasker])? in
            guard s.entries[id] != nil else { return nil }
            Self.dropIdle(&s, until: (force ? budget : limit) - bytes, except: id)
            if force || s.total + bytes <= limit {
                Self.grant(id, bytes, &s, budget: budget)
                return (true, [])
            }
            let busy = s.entries.filter { $0.key != id && $0.value.users > 0 }
                .sorted { $0.value.lastUse < $1.value.lastUse }.map(\.value.masker)
            return (false, busy)
        }
        guard let first else { return force }
        if first.granted { return true }
        for masker in first.busy {
            // Never waits: a masker busy now is skipped (and two maskers making room for each
            // other cannot deadlock).
            guard masker.shedIfIdle() else { continue }
            if state.withLock({ $0.total + bytes <= limit }) { break }
        }
        return state.withLock { s in
            guard s.entries[id] != nil, s.total + bytes <= limit else { return false }
            Self.grant(id, bytes, &s, budget: budget)
            return true
        }
    }

    private static func grant(_ id: Int, _ bytes: Int, _ s: inout State, budget: Int) {
        s.entries[id]?.bytes += bytes
        s.total += bytes
        s.peak = max(s.peak, s.total)
        // Over the budget only by a forced charge: later requests start a fresh masker.
        if s.total > budget {
            s.overBudgetCharges += 1
            if let key = s.entries[id]?.key {
                s.entries[id]?.key = nil
                if s.byKey[key] == id { s.byKey[key] = nil }
            }
        }
    }

    private func refund(_ id: Int, _ bytes: Int) {
        state.withLock { s in
            guard s.entries[id] != nil else { return }
            s.entries[id]?.bytes -= bytes
            s.total -= bytes
        }
    }

    fileprivate func release(_ id: Int, failed: Bool) {
        let budget = byteBudget
        state.withLock { s in
            guard var e = s.entries[id] else { return }
            e.users -= 1
            if failed, let key = e.key {
                // A grammar that grew too many stacks fails the same way again; don't keep it.
                e.key = nil
                if s.byKey[key] == id { s.byKey[key] = nil }
            }
            if e.users == 0, e.key == nil {
                s.total -= e.bytes
                s.entries[id] = nil
            } else {
                s.entries[id] = e
                Self.dropIdle(&s, until: budget, except: -1)
            }
        }
    }
}

/// A request's hold on a shared ``TokenMasker``: while it lives the masker stays in its
/// ``GrammarCache``; dropping it lets the cache evict the masker when room is needed.
public final class GrammarLease: Sendable {
    /// The masker.
    public let masker: TokenMasker
    private let cache: GrammarCache
    private let id: Int

    fileprivate init(cache: GrammarCache, id: Int, masker: TokenMasker) {
        self.cache = cache
        self.id = id
        self.masker = masker
    }

    deinit {
        // Read before taking the cache's lock: a masker's lock is never taken under it.
        let failed = masker.failure != nil
        cache.release(id, failed: failed)
    }
}
