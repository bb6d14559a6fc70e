import Foundation
import Testing
@testable import Sampling

/// The engine-wide masker cache: equal constraints share a masker, every masker's tables are
/// charged to one byte budget, and masks stay exact while the cache evicts under pressure.
@Suite("Grammar cache")
struct GrammarCacheTests {
    static let schemas = [
        #"{"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}},"b":{"enum":["é😀","x"]}},"required":["b"]}"#,
        #"{"type":"object","properties":{"name":{"type":"string","maxLength":20},"n":{"type":"integer"}},"required":["name","n"]}"#,
        #"{"type":"array","items":{"type":"object","properties":{"x":{"type":"boolean"},"y":{"type":"null"}}},"maxItems":6}"#,
    ]

    @Test("Equal constraints share one masker; another grammar, vocabulary or end-token set gets its own")
    func sharing() throws {
        let cache = GrammarCache()
        let vocab = TokenVocabulary(tokens: TokenMaskTests.vocabulary(seed: 1, size: 300))
        let schema = try JSONNode.parse(Self.schemas[0])
        // Compiled separately, as two clients' requests are.
        let a = try cache.lease(grammar: JSONSchemaGrammar.compile(schema), vocabulary: vocab, endTokens: [0])
        let b = try cache.lease(grammar: JSONSchemaGrammar.compile(schema), vocabulary: vocab, endTokens: [0, 0])
        #expect(a.masker === b.masker)
        let otherGrammar = try cache.lease(grammar: JSONSchemaGrammar.anyObject(), vocabulary: vocab, endTokens: [0])
        let otherVocab = try cache.lease(grammar: JSONSchemaGrammar.compile(schema),
                                         vocabulary: TokenVocabulary(tokens: TokenMaskTests.vocabulary(seed: 1, size: 300)), endTokens: [0])
        let otherEnds = try cache.lease(grammar: JSONSchemaGrammar.compile(schema), vocabulary: vocab, endTokens: [1])
        for other in [otherGrammar, otherVocab, otherEnds] { #expect(other.masker !== a.masker) }
        #expect(cache.maskerCount == 4)
        #expect(cache.leaseCounts.total == 5 && cache.leaseCounts.shared == 1)
    }

    @Test("Many concurrent requests over a few grammars stay within the byte budget, with exact masks")
    func concurrentBudget() async throws {
        let budget = 160 << 10
        let cache = GrammarCache(byteBudget: budget)
        let tokens = TokenMaskTests.vocabulary(seed: 5, size: 3000)
        let vocab = TokenVocabulary(tokens: tokens)
        let grammars = try Self.schemas.map { try JSONSchemaGrammar.compile(JSONNode.parse($0)) } + [try JSONSchemaGrammar.anyObject()]
        let requests = 32
        // Every request holds its lease until all have one, so the requests overlap however the
        // tasks are scheduled: on a busy machine they could otherwise run one after another.
        let allLeased = Barrier(count: requests)
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for r in 0 ..< requests {
                group.addTask {
                    // Each request compiles its own copy, as the engine does per request.
                    let grammar = r % 4 == 3 ? grammars[3] : try? JSONSchemaGrammar.compile(JSONNode.parse(Self.schemas[r % 3]))
                    let lease = grammar.flatMap { try? cache.lease(grammar: $0, vocabulary: vocab, endTokens: [0]) }
                    await allLeased.arrive()
                    guard let grammar, let lease, let reference = try? GrammarRecognizer(grammar: grammar) else { return 1 }
                    return Self.walk(lease.masker, reference: reference, tokens: tokens, seed: UInt64(r))
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(cache.peakAccountedBytes <= budget, "peak \(cache.peakAccountedBytes) over the budget \(budget)")
        #expect(cache.overBudgetCharges == 0)
        #expect(cache.peakAccountedBytes > budget / 2, "the test should fill the budget: peak \(cache.peakAccountedBytes)")
        // Four distinct grammars; every other lease finds its masker in use.
        #expect(cache.leaseCounts.total == requests && cache.leaseCounts.shared == requests - 4)
        #expect(cache.accountedBytes <= budget)
        // Every byte charged was refunded or is still held: with nothing leased, dropping all is zero.
        cache.removeAll()
        #expect(cache.accountedBytes == 0)
        #expect(cache.maskerCount == 0)
    }

    /// A random walk of 40 tokens, checking each mask against the per-token reference; returns the
    /// number of mismatches.
    static func walk(_ masker: TokenMasker, reference: GrammarRecognizer, tokens: [[UInt8]?], seed: UInt64) -> Int {
        var rng = Xoshiro256StarStar(seed: seed)
        var state = masker.initial, expected = reference.initial
        var mismatches = 0
        for _ in 0 ..< 40 {
            let allowed = masker.allowedTokens(state)
            if allowed != TokenMaskTests.bruteForce(reference, tokens, state: expected, ends: [0]) { mismatches += 1 }
            let choices = allowed.filter { $0 != 0 }
            guard !choices.isEmpty else { break }
            let token = choices[Int(rng.next() % UInt64(choices.count))]
            state = masker.advance(state, token: token)
            expected = reference.advance(expected, bytes: tokens[token] ?? [])
        }
        return mismatches
    }

    @Test("A budget too small for any table: every mask is computed afresh and still exact")
    func tinyBudget() throws {
        let cache = GrammarCache(byteBudget: 1)
        let tokens = TokenMaskTests.vocabulary(seed: 9, size: 500)
        let grammar = try JSONSchemaGrammar.compile(JSONNode.parse(Self.schemas[1]))
        let lease = try cache.lease(grammar: grammar, vocabulary: TokenVocabulary(tokens: tokens), endTokens: [0])
        #expect(Self.walk(lease.masker, reference: try GrammarRecognizer(grammar: grammar), tokens: tokens, seed: 3) == 0)
        let counts = lease.masker.counts
        #expect(counts.masks == 0)
        #expect(counts.memoDrops > 0)
    }

    @Test("A masker alone keeps the recognizer's memo tables within what it is granted")
    func memoDrop() throws {
        let m = try GrammarRecognizer(grammar: JSONSchemaGrammar.anyObject())
        let initial = m.grantedBytes
        var granted = 0, refunded = 0
        m.memoryBudget = { bytes, force in
            if force || granted + bytes <= 100_000 { granted += bytes; return true }
            return false
        }
        m.memoryRefund = { refunded += $0 }
        // Strings of many different characters: a code-point step each.
        var state = m.advance(m.initial, text: #"{"k": ""#)
        for c in 0x400 ..< 0x2400 { state = m.advance(state, text: String(Character(UnicodeScalar(c) ?? "x"))) }
        #expect(!state.isDead)
        #expect(m.memoDrops > 0)
        #expect(initial + granted - refunded == m.grantedBytes)
        #expect(m.grantedBytes <= initial + 100_000)
        #expect(m.canEnd(m.advance(state, text: #""}"#)))
    }
}

/// Suspends each caller of ``arrive()`` until `count` callers have arrived.
private actor Barrier {
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var left: Int

    init(count: Int) { left = count }

    func arrive() async {
        left -= 1
        if left <= 0 {
            for continuation in waiting { continuation.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
