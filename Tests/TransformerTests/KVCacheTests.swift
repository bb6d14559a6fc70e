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

    @Test("snapshots restore into either precision; prefixes copy only between caches alike")
    func snapshotsAndPrefixes() throws {
        let half = try KVCache(layers: 1, capacity: 3, width: 2, halfPrecision: true)
        half.layer(0).store(keys: [1.5, 2.25, 3.125, 1e-4], values: [-1, 70000, 0.1, 0.2], at: 0, rows: 2)
        half.count = 2
        let snapshot = half.snapshot()
        #expect(snapshot.data == [1.5, 2.25, 3.125, Float(Float16(1e-4)), -1, .infinity, Float(Float16(0.1)), Float(Float16(0.2))])
        let float = try KVCache(layers: 1, capacity: 3, width: 2)
        try float.restore(snapshot)
        #expect(float.snapshot() == snapshot)
        let again = try KVCache(layers: 1, capacity: 3, width: 2, halfPrecision: true)
        try again.copyPrefix(from: half)
        #expect(again.snapshot() == snapshot)
        #expect(throws: TransformerError.self) { try float.copyPrefix(from: half) }
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
