/// Where a recognizer stands: a set of parse stacks (by id) and, between the bytes of one UTF-8
/// character, the part of the character read so far. Values of one ``GrammarRecognizer`` only.
public struct GrammarState: Hashable, Sendable {
    /// The stack set's id; -1 when no stack survived (the input cannot be continued).
    var setID: Int32
    /// The code point bits read so far of an unfinished character.
    var partial: UInt32 = 0
    /// Continuation bytes still to come (0: between characters).
    var remaining: UInt8 = 0
    /// The unfinished character's length in bytes (to refuse overlong encodings).
    var length: UInt8 = 0

    /// Whether the input so far cannot be continued into anything the grammar accepts.
    public var isDead: Bool { setID < 0 }

    static let dead = GrammarState(setID: -1)
}

/// A pushdown recognizer over bytes for a ``CompiledGrammar``, as llama.cpp's `llama_grammar`
/// stacks work: a stack is the list of positions still to match, innermost first, and the state is
/// the set of stacks every parse so far allows. Advancing by a character keeps the stacks whose top
/// class holds it and expands rule references until each stack's top is a class again.
///
/// What makes it cheap enough to walk a vocabulary with:
/// - stacks are hash-consed linked lists (a frame is (position, parent)), so equal stacks are equal
///   ids, pushing is a lookup and popping is a parent pointer;
/// - the expansion of a frame is computed once and memoised;
/// - stack sets are interned, and each set's transitions (per ASCII byte, per code point) are
///   memoised, so after warming up a byte costs an array read;
/// - bytes are read one at a time; an unfinished UTF-8 character is carried in the state, and is
///   pruned as soon as no class can hold any character it could complete into.
///
/// Memory: the interned frames and stack sets give states their meaning, so they stay as long as
/// the recognizer; the memo tables (expansions, byte tables, code-point steps) only save work and
/// are dropped whenever they outgrow what ``memoryBudget`` grants (alone, beyond 64 MiB), after
/// which they fill again as states are met. ``memoryBytes`` estimates both.
///
/// Not thread-safe: ``TokenMasker`` holds one behind a lock for every request that shares it.
public final class GrammarRecognizer {
    /// The grammar.
    public let grammar: CompiledGrammar
    private let symbols: [Int32]
    private let classes: [CharacterClass]
    private let maxStacks: Int

    private var framePosition: [Int32] = []
    private var frameParent: [Int32] = []
    private var frameIndex: [Int64: Int32] = [:]
    private var expansions: [Int32: [Int32]] = [:]
    private var sets: [[Int32]] = []
    private var setIndex: [[Int32]: Int32] = [:]
    private var byteTables: [[Int32]] = []
    private var codePointSteps: [Int64: Int32] = [:]
    private var scratch: [Int32] = []

    /// Estimated bytes of the memo tables (droppable) and of the frames and sets (not droppable).
    private(set) var memoBytes = 0
    private(set) var identityBytes = 0
    /// Bytes ``memoryBudget`` has granted; grows in chunks.
    private(set) var grantedBytes = 0
    /// Asks for `bytes` more (`force`: for frames and sets, which cannot be dropped, so the answer
    /// is ignored); `nil` when the recognizer stands alone, bounded by ``standaloneMemoBytes``.
    var memoryBudget: ((_ bytes: Int, _ force: Bool) -> Bool)?
    /// Returns bytes granted before, after the memo tables are dropped.
    var memoryRefund: ((_ bytes: Int) -> Void)?
    /// The number of times the memo tables were dropped (for tests).
    private(set) var memoDrops = 0

    /// The state before any input.
    public private(set) var initial = GrammarState.dead
    /// Set when the grammar grew more stacks than allowed; the states computed since are dead.
    public private(set) var failure: GrammarError?

    private static let unknown: Int32 = -2
    private static let viableLead: Int32 = -3

    // Estimated heap bytes of each table entry: payload plus the array or dictionary slot around
    // it (dictionaries keep about 4/3 of their entries' room).
    static let frameBytes = 32
    static func setBytes(_ stacks: Int) -> Int { 64 + 4 * stacks }
    static func expansionBytes(_ stacks: Int) -> Int { 48 + 4 * stacks }
    static let byteTableBytes = 256 * 4 + 32
    static let codePointStepBytes = 24
    /// What a recognizer with no ``memoryBudget`` lets its memo tables reach.
    static let standaloneMemoBytes = 64 << 20
    /// The grant asked of ``memoryBudget`` first.
    static let grantChunk = 64 << 10

    /// A recognizer for `grammar`; `limits.maxStacks` bounds the stacks alive at once.
    public init(grammar: CompiledGrammar, limits: GrammarLimits = .init()) throws(GrammarError) {
        self.grammar = grammar
        symbols = grammar.symbols
        classes = grammar.classes
        maxStacks = limits.maxStacks
        var start: [Int32] = []
        for a in grammar.alternatives[Int(grammar.root)] { start.append(contentsOf: expand(frame(a, -1))) }
        if let failure { throw failure }
        initial = GrammarState(setID: intern(&start))
        if let failure { throw failure }
    }

    // MARK: Stacks

    private func frame(_ position: Int32, _ parent: Int32) -> Int32 {
        let key = Int64(position) << 32 | Int64(UInt32(bitPattern: parent))
        if let f = frameIndex[key] { return f }
        framePosition.append(position)
        frameParent.append(parent)
        let f = Int32(framePosition.count - 1)
        frameIndex[key] = f
        charge(Self.frameBytes, memo: false)
        return f
    }

    /// The stacks `frame` expands to whose top is a class, plus -1 if it can be complete.
    private func expand(_ start: Int32) -> [Int32] {
        if let e = expansions[start] { return e }
        var out: [Int32] = []
        var seen = Set<Int32>()
        var work = [start]
        while let f = work.popLast() {
            if f < 0 {
                out.append(-1)
                continue
            }
            guard seen.insert(f).inserted else { continue }
            let position = framePosition[Int(f)]
            let s = symbols[Int(position)]
            if s == CompiledGrammar.endSymbol {
                work.append(frameParent[Int(f)])
            } else if s >= 0 {
                out.append(f)
            } else {
                // A rule reference: its alternatives, continuing after it (tail references
                // continue with the parent directly, so right recursion does not deepen stacks).
                let parent = frameParent[Int(f)]
                let after = symbols[Int(position) + 1] == CompiledGrammar.endSymbol ? parent : frame(position + 1, parent)
                for a in grammar.alternatives[Int(-s - 1)] { work.append(frame(a, after)) }
            }
            if seen.count > 8 * maxStacks {
                failure = .tooAmbiguous(stacks: maxStacks)
                return []
            }
        }
        out.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(out.count)
        for f in out where unique.last != f { unique.append(f) }
        expansions[start] = unique
        charge(Self.expansionBytes(unique.count), memo: true)
        return unique
    }

    private func intern(_ stacks: inout [Int32]) -> Int32 {
        stacks.sort()
        var w = 0
        for i in stacks.indices where i == 0 || stacks[i] != stacks[i - 1] {
            stacks[w] = stacks[i]
            w += 1
        }
        stacks.removeLast(stacks.count - w)
        if stacks.isEmpty { return -1 }
        if stacks.count > maxStacks {
            failure = .tooAmbiguous(stacks: maxStacks)
            return -1
        }
        if let id = setIndex[stacks] { return id }
        sets.append(stacks)
        byteTables.append([])
        let id = Int32(sets.count - 1)
        setIndex[stacks] = id
        charge(Self.setBytes(stacks.count), memo: false)
        return id
    }

    /// The set after the code point `c`, or -1.
    private func step(_ set: Int32, _ c: UInt32) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        for f in sets[Int(set)] where f >= 0 {
            let position = framePosition[Int(f)]
            if classes[Int(symbols[Int(position)])].contains(c) {
                scratch.append(contentsOf: expand(frame(position + 1, frameParent[Int(f)])))
            }
        }
        if scratch.isEmpty { return -1 }
        return intern(&scratch)
    }

    private func codePointStep(_ set: Int32, _ c: UInt32) -> Int32 {
        let key = Int64(set) << 21 | Int64(c)
        if let s = codePointSteps[key] { return s }
        let s = step(set, c)
        codePointSteps[key] = s
        charge(Self.codePointStepBytes, memo: true)
        return s
    }

    /// Whether some stack of `set` can take a code point in `lower ... upper`.
    private func viable(_ set: Int32, _ lower: UInt32, _ upper: UInt32) -> Bool {
        guard lower <= upper else { return false }
        for f in sets[Int(set)] where f >= 0 {
            if classes[Int(symbols[Int(framePosition[Int(f)])])].intersects(lower, upper) { return true }
        }
        return false
    }

    // MARK: Bytes

    /// The state after `byte`.
    @inline(__always)
    public func advance(_ state: GrammarState, _ byte: UInt8) -> GrammarState {
        guard state.setID >= 0 else { return .dead }
        if state.remaining == 0 {
            let set = Int(state.setID)
            var t = byteTables[set].isEmpty ? Self.unknown : byteTables[set][Int(byte)]
            if t == Self.unknown { t = learnFirstByte(set, byte) }
            if t >= 0 { return GrammarState(setID: t) }
            if t == Self.viableLead {
                let length: UInt8 = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                let bits = UInt32(byte) & (0xFF >> UInt32(length + 1))
                return GrammarState(setID: state.setID, partial: bits, remaining: length - 1, length: length)
            }
            return .dead
        }
        guard byte & 0xC0 == 0x80 else { return .dead }
        let partial = state.partial << 6 | UInt32(byte & 0x3F)
        let remaining = state.remaining - 1
        let (lowest, highest) = Self.bounds(state.length)
        if remaining == 0 {
            guard partial >= lowest, partial <= highest, !(0xD800 ... 0xDFFF).contains(partial) else { return .dead }
            let s = codePointStep(state.setID, partial)
            return s >= 0 ? GrammarState(setID: s) : .dead
        }
        let shift = 6 * UInt32(remaining)
        let lower = max(partial << shift, lowest), upper = min(partial << shift | ((1 << shift) - 1), highest)
        guard viable(state.setID, lower, upper) else { return .dead }
        return GrammarState(setID: state.setID, partial: partial, remaining: remaining, length: state.length)
    }

    /// The state after every byte of `bytes`.
    public func advance(_ state: GrammarState, bytes: some Sequence<UInt8>) -> GrammarState {
        var s = state
        for b in bytes {
            s = advance(s, b)
            if s.setID < 0 { return .dead }
        }
        return s
    }

    /// The state after the UTF-8 bytes of `text`.
    public func advance(_ state: GrammarState, text: String) -> GrammarState {
        advance(state, bytes: text.utf8)
    }

    private static func bounds(_ length: UInt8) -> (UInt32, UInt32) {
        switch length {
        case 2: return (0x80, 0x7FF)
        case 3: return (0x800, 0xFFFF)
        default: return (0x10000, CharacterClass.maxCodePoint)
        }
    }

    /// Computes and memoises the transition of `set` on `byte` (the table is made after the step,
    /// which may drop the memo tables).
    private func learnFirstByte(_ set: Int, _ byte: UInt8) -> Int32 {
        let t = firstByte(Int32(set), byte)
        if byteTables[set].isEmpty {
            byteTables[set] = [Int32](repeating: Self.unknown, count: 256)
            byteTables[set][Int(byte)] = t
            charge(Self.byteTableBytes, memo: true)
        } else {
            byteTables[set][Int(byte)] = t
        }
        return t
    }

    private func firstByte(_ set: Int32, _ byte: UInt8) -> Int32 {
        if byte < 0x80 { return step(set, UInt32(byte)) }
        let length: UInt8
        switch byte {
        case 0xC2 ... 0xDF: length = 2
        case 0xE0 ... 0xEF: length = 3
        case 0xF0 ... 0xF4: length = 4
        default: return -1
        }
        let bits = UInt32(byte) & (0xFF >> UInt32(length + 1))
        let shift = 6 * UInt32(length - 1)
        let (lowest, highest) = Self.bounds(length)
        let lower = max(bits << shift, lowest), upper = min(bits << shift | ((1 << shift) - 1), highest)
        return viable(set, lower, upper) ? Self.viableLead : -1
    }

    // MARK: Memory

    /// Estimated bytes of every table, memo and interned alike.
    public var memoryBytes: Int { memoBytes + identityBytes }

    /// Counts `bytes` just added to a table; drops the memo tables when the budget refuses more.
    /// Called after an insertion, so that nothing the caller still reads is dropped.
    private func charge(_ bytes: Int, memo: Bool) {
        if memo { memoBytes += bytes } else { identityBytes += bytes }
        let used = memoBytes + identityBytes
        guard used > grantedBytes else { return }
        guard let memoryBudget else {
            if memoBytes > Self.standaloneMemoBytes { dropMemo() }
            grantedBytes = memoBytes + identityBytes
            return
        }
        // A chunk, so that a walk asks rarely; else just what is missing.
        let need = used - grantedBytes, chunk = max(Self.grantChunk, need)
        if memoryBudget(chunk, false) {
            grantedBytes += chunk
            return
        }
        if need < chunk, memoryBudget(need, false) {
            grantedBytes += need
            return
        }
        if memoBytes > 0 { dropMemo() }
        let missing = memoBytes + identityBytes - grantedBytes
        if missing > 0 {
            _ = memoryBudget(missing, true)
            grantedBytes += missing
        }
    }

    /// Drops the memo tables and refunds what they held; states stay valid.
    func dropMemo() {
        expansions.removeAll()
        codePointSteps.removeAll()
        for i in byteTables.indices where !byteTables[i].isEmpty { byteTables[i] = [] }
        memoBytes = 0
        memoDrops += 1
        let keep = identityBytes
        if grantedBytes > keep {
            memoryRefund?(grantedBytes - keep)
            grantedBytes = keep
        }
    }

    // MARK: Ends

    /// Whether the input so far is a complete match (the output may end here).
    public func canEnd(_ state: GrammarState) -> Bool {
        state.setID >= 0 && state.remaining == 0 && sets[Int(state.setID)].first == -1
    }

    /// Whether the input so far is complete and nothing can follow it.
    public func isComplete(_ state: GrammarState) -> Bool {
        state.setID >= 0 && state.remaining == 0 && sets[Int(state.setID)] == [-1]
    }

    /// Whether the whole of `text` matches the grammar.
    public func matches(_ text: String) -> Bool {
        canEnd(advance(initial, text: text))
    }

    /// The number of stack sets met so far (for tests and limits).
    public var stateCount: Int { sets.count }
}
