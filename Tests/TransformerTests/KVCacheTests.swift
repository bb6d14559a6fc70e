import Testing
@testable import Transformer

/// The KV cache in Float and in Float16 (llama.cpp's default F16 cache).
@Suite("KV cache storage")
struct KVCacheTests {
    /// Rows of `width` distinct values, some not representable in Float16.
    static func rows(_ count: Int, width: Int, seed: Float) -> [Float] {
        (0..<count * width).map { i in seed + Float(i) * 0.123_456_7 - Float(i % 7) * 1.000_1 }
    }

    @Test("a Float16 cache holds each value rounded to Float16, a Float cache holds it exactly", arguments: [false, true])
    func storesRounded(half: Bool) throws {
        let cache = try KVCache(layers: 2, capacity: 5, width: 4, halfPrecision: half)
        let keys = Self.rows(3, width: 4, seed: 0.3), values = Self.rows(3, width: 4, seed: -7.7)
        try cache.prepareWrite(from: 0, rows: 4)
        cache.layer(1).store(keys: keys, values: values, at: 1, rows: 3)
        cache.count = 4
        var back = [Float](repeating: .nan, count: 6)
        // Rows 1...3, columns 1..<3 of layer 1's keys.
        back.withUnsafeMutableBufferPointer { out in
            let kv = cache.layer(1)
            kv.read(kv.keys, rows: 1..<4, column: 1, count: 2, into: out.baseAddress!)
        }
        var stored: [Float] = []
        for r in 0..<3 { stored += [keys[r * 4 + 1], keys[r * 4 + 2]] }
        let expected: [Float] = stored.map { (v: Float) -> Float in half ? Float(Float16(v)) : v }
        #expect(back == expected)
        // The values must include some Float16 cannot hold, or the test would not tell the precisions apart.
        #expect(stored.map { (v: Float) -> Float in Float(Float16(v)) } != stored)
        // The snapshot has layer 1's values at rows 1...3, rounded the same way.
        let snapshot = cache.snapshot()
        let layer1Values = Array(snapshot.data[(2 * 1 + 1) * 16 ..< (2 * 1 + 1) * 16 + 16])
        let storedValues: [Float] = values.map { (v: Float) -> Float in half ? Float(Float16(v)) : v }
        #expect(Array(layer1Values[4...]) == storedValues)
    }

    @Test("snapshots restore into either precision")
    func snapshots() throws {
        let half = try KVCache(layers: 1, capacity: 3, width: 2, halfPrecision: true)
        try half.prepareWrite(from: 0, rows: 2)
        half.layer(0).store(keys: [1.5, 2.25, 3.125, 1e-4], values: [-1, 70000, 0.1, 0.2], at: 0, rows: 2)
        half.count = 2
        let snapshot = half.snapshot()
        #expect(snapshot.data == [1.5, 2.25, 3.125, Float(Float16(1e-4)), -1, .infinity, Float(Float16(0.1)), Float(Float16(0.2))])
        let float = try KVCache(layers: 1, capacity: 3, width: 2)
        try float.restore(snapshot)
        #expect(float.snapshot() == snapshot)
        let other = try KVCache(layers: 2, capacity: 3, width: 2)
        #expect(throws: TransformerError.self) { try other.restore(snapshot) }
    }

    /// Positions 0..<count of `cache`, written as distinct values from `seed`.
    static func fill(_ cache: KVCache, from start: Int, count: Int, seed: Float) throws {
        try cache.prepareWrite(from: start, rows: count)
        let keys = rows(count, width: cache.width, seed: seed), values = rows(count, width: cache.width, seed: -seed)
        for l in 0..<cache.layers { cache.layer(l).store(keys: keys, values: values, at: start, rows: count) }
        cache.count = start + count
    }

    @Test("a fork shares every block and copies only the partly filled one it writes into")
    func forkSharesBlocks() throws {
        let pool = try KVBlockPool(layers: 2, width: 4, halfPrecision: false, blockCount: 8)
        let parent = try KVCache(pool: pool, capacity: 100)
        try Self.fill(parent, from: 0, count: 40, seed: 1)  // blocks 0, 1 full; block 2 holds 8 positions
        #expect(parent.heldBlocks == 3 && pool.freeBlockCount == 5)
        let before = parent.snapshot()
        let child = try parent.fork()
        #expect(pool.freeBlockCount == 5)  // nothing copied
        #expect(child.snapshot() == before)
        // The child writes position 40: only block 2 is copied, and the parent keeps its own.
        try Self.fill(child, from: 40, count: 1, seed: 9)
        #expect(pool.freeBlockCount == 4)
        #expect(parent.snapshot() == before)
        #expect(Array(child.snapshot().data.prefix(40 * 4)) == Array(before.data.prefix(40 * 4)))
        // The parent now holds block 2 alone and writes into it in place.
        try Self.fill(parent, from: 40, count: 1, seed: 5)
        #expect(pool.freeBlockCount == 4)
        #expect(parent.snapshot() != child.snapshot())
    }

    @Test("blocks return to the pool on truncation and when a cache goes away")
    func blocksReturn() throws {
        let pool = try KVBlockPool(layers: 1, width: 2, halfPrecision: true, blockCount: 6)
        do {
            let a = try KVCache(pool: pool, capacity: 96)
            try Self.fill(a, from: 0, count: 33, seed: 2)  // 3 blocks
            let b = try a.fork()
            try Self.fill(b, from: 33, count: 20, seed: 3)  // copies block 2, adds block 3
            #expect(pool.freeBlockCount == 1)
            a.truncate(to: 16)  // keeps block 0 and frees its own block 2; block 1 is b's too
            #expect(a.heldBlocks == 1 && pool.freeBlockCount == 2)
            b.truncate(to: 17)
            #expect(pool.freeBlockCount == 4)
        }
        #expect(pool.freeBlockCount == 6)
    }

    @Test("a full pool is a typed error that names the blocks, and the cache keeps its contents")
    func fullPool() throws {
        let pool = try KVBlockPool(layers: 1, width: 2, halfPrecision: false, blockCount: 2)
        let a = try KVCache(pool: pool, capacity: 100)
        try Self.fill(a, from: 0, count: 20, seed: 4)
        let before = a.snapshot()
        #expect(throws: TransformerError.kvCacheFull(needed: 2, blocks: 2)) { try a.prepareWrite(from: 20, rows: 30) }
        #expect(a.count == 20 && a.snapshot() == before)
    }

    @Test("a model's forks share one pool; sizes that overflow are refused")
    func modelPool() throws {
        let tiny = TinyModel(TinyModel.config())
        let model = try tiny.model(options: ModelOptions(kvCachePrecision: .float16))
        _ = try model.prefill(tokens: [3, 17, 5, 29, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])  // 2 blocks
        let pool = model.kvBlockPool, free = pool.freeBlockCount
        var fork: TransformerModel? = try model.fork()
        #expect(fork?.kvBlockPool === pool && pool.freeBlockCount == free)
        _ = try fork?.decode(token: 4)  // copies block 1
        #expect(pool.freeBlockCount == free - 1)
        fork = nil
        #expect(pool.freeBlockCount == free)
        #expect(throws: TransformerError.self) {
            try KVBlockPool(layers: Int.max / 2, width: 3, halfPrecision: false, blockCount: 2)
        }
    }

    @Test("a reserved KV cache is resident from the load on; an unreserved one only as it fills")
    func reservedPool() throws {
        let tiny = TinyModel(TinyModel.config())
        func bytes(_ pool: KVBlockPool) -> Int {
            pool.blockCount * KVBlockPool.blockBytes(layers: pool.layers, width: pool.width, halfPrecision: false)
        }
        var options = ModelOptions()
        // The pool maps its own pages, so none is resident before it is written.
        options.kvCacheBytes = 48 << 20
        let lazy = try tiny.model(options: options).kvBlockPool
        options.kvCacheBytes = 16 << 20
        options.reservesKVCache = true
        let reserved = try tiny.model(options: options).kvBlockPool
        guard let lazyBytes = lazy.residentBytes(), let reservedBytes = reserved.residentBytes() else { return }  // not Linux
        #expect(reservedBytes >= bytes(reserved))
        #expect(lazyBytes < bytes(lazy) / 4)
    }

    @Test("a model with a Float16 cache keeps only Float16 values in it")
    func modelCacheIsHalf() throws {
        let tiny = TinyModel(TinyModel.config())
        let model = try tiny.model(options: ModelOptions(kvCachePrecision: .float16))
        _ = try model.prefill(tokens: [3, 17, 5, 29])
        _ = try model.decode(token: 11)
        let data = model.snapshot().data
        #expect(data.count == 5 * 2 * TinyModel.config().kvWidth * TinyModel.config().layerCount)
        #expect(data.allSatisfy { Float(Float16($0)) == $0 })
        #expect(data.contains { $0 != 0 })
    }
}
