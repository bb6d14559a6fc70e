import ModelFormats
import Testing
import Tensor
@testable import Transformer

/// The prefix cache reuses whole blocks of earlier sequences' keys and values, and a sequence that
/// reuses them gets the logits it would compute without the cache, bit for bit.
@Suite("Prefix cache")
struct PrefixCacheTests {
    typealias Invariance = BatchInvarianceTests

    /// A prompt of `count` tokens from `seed`, in the tiny models' vocabulary of 64.
    static func prompt(_ count: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(state: seed)
        return (0..<count).map { _ in Int(rng.next() % 64) }
    }

    /// Every position's logits for `tokens` from a model without a prefix cache.
    static func reference(_ tokens: [Int], type: ElementType, kv: KVCachePrecision) throws -> [[Float]] {
        try Invariance.model(type, kv: kv).prefillAllPositions(tokens: tokens)
    }

    @Test("a hit reuses whole blocks, leaves the last token to compute, and gives the bits of a prefill",
          arguments: [ElementType.q4_0, .q4_K], [KVCachePrecision.float32, .float16])
    func hitsAreExact(type: ElementType, kv: KVCachePrecision) throws {
        let model = try Invariance.model(type, kv: kv, prefixCaching: true)
        let first = Self.prompt(40, seed: 1)
        _ = try model.emptySequence().prefill(tokens: first)  // indexes blocks 0 and 1
        #expect(model.kvBlockPool.cachedBlockCount == 2)

        // Another prompt that shares 37 tokens: blocks 0 and 1 are reused; block 2 differs.
        let second = Array(first[..<37]) + [5, 6, 7, 8, 9]
        let sequence = try model.emptySequence()
        #expect(sequence.reuseCachedPrefix(of: second) == 32)
        #expect(sequence.position == 32)
        let logits = try sequence.prefillAllPositions(tokens: Array(second[32...]))
        let expected = try Self.reference(second, type: type, kv: kv)
        #expect(Invariance.firstDifference(logits, Array(expected[32...])) == nil)

        // The same 40 tokens again: 32 of them (the last must be computed for its logits).
        let again = try model.emptySequence()
        #expect(again.reuseCachedPrefix(of: first) == 32)
        // A prompt of exactly 32 tokens reuses one block, so that one token is left to compute.
        #expect(try model.emptySequence().reuseCachedPrefix(of: Array(first[..<32])) == 16)
        // Without a cache nothing is reused.
        #expect(try Invariance.model(type, kv: kv).reuseCachedPrefix(of: first) == 0)
    }

    @Test("decoded tokens fill blocks that later prompts reuse; forks share the chain")
    func decodedBlocksAreIndexed() throws {
        let model = try Invariance.model(.q8_0, kv: .float16, prefixCaching: true)
        let prompt = Self.prompt(20, seed: 2), continuation = Self.prompt(14, seed: 3)
        let sequence = try model.emptySequence()
        _ = try sequence.prefill(tokens: prompt)
        let fork = try sequence.fork()
        for t in continuation { _ = try fork.decode(token: t) }  // positions 20..<34: blocks 0, 1 full
        let whole = prompt + continuation
        let reader = try model.emptySequence()
        #expect(reader.reuseCachedPrefix(of: whole + [1]) == 32)
        let logits = try reader.prefillAllPositions(tokens: Array((whole + [1])[32...]))
        let expected = try Self.reference(whole + [1], type: .q8_0, kv: .float16)
        #expect(Invariance.firstDifference(logits, Array(expected[32...])) == nil)
    }

    @Test("eviction keeps the cache within its blocks, reuses evicted blocks, and never serves a wrong block")
    func evictionStaysExact() throws {
        let blockBytes = KVBlockPool.blockBytes(layers: 2, width: 128, halfPrecision: true)
        let model = try Invariance.model(.q4_0, kv: .float16, prefixCaching: true, kvCacheBytes: 7 * blockBytes)
        let pool = model.kvBlockPool
        #expect(pool.blockCount == 7)
        let prompts = (0..<6).map { Self.prompt(48, seed: 10 + UInt64($0)) }  // 3 blocks each
        for p in prompts {
            _ = try model.emptySequence().prefill(tokens: p)
            #expect(pool.cachedBlockCount <= 7)
            #expect(pool.freeBlockCount == 7)  // nobody holds a block once the sequence is gone
        }
        #expect(pool.evictedBlockCount == 6 * 3 - 7)  // 18 blocks written, 7 fit: the rest replaced cached ones
        // The last prompt's blocks are the most recently released: still there. The first
        // prompt's were evicted for later ones. Checked from the last prompt back, so that each
        // check's own prefill evicts only blocks of prompts already checked.
        for (i, p) in prompts.enumerated().reversed() {
            let sequence = try model.emptySequence()
            let reused = sequence.reuseCachedPrefix(of: p)
            if i == prompts.count - 1 { #expect(reused == 32) }
            if i == 0 { #expect(reused == 0) }
            let logits = try sequence.prefillAllPositions(tokens: Array(p[reused...]))
            let expected = try Self.reference(p, type: .q4_0, kv: .float16)
            #expect(Invariance.firstDifference(logits, Array(expected[reused...])) == nil, "prompt \(i), \(reused) reused")
        }
    }

    @Test("rewriting a position of an indexed block copies the block first")
    func truncationCopies() throws {
        let model = try Invariance.model(.q5_K, kv: .float32, prefixCaching: true)
        let prompt = Self.prompt(40, seed: 4)
        let writer = try model.emptySequence()
        _ = try writer.prefill(tokens: prompt)
        try writer.truncate(to: 20)
        _ = try writer.prefill(tokens: Self.prompt(12, seed: 5))  // rewrites positions 20..<32 of block 1
        let reader = try model.emptySequence()
        #expect(reader.reuseCachedPrefix(of: prompt) == 32)
        let logits = try reader.prefillAllPositions(tokens: Array(prompt[32...]))
        let expected = try Self.reference(prompt, type: .q5_K, kv: .float32)
        #expect(Invariance.firstDifference(logits, Array(expected[32...])) == nil)
    }
}
