#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys and values of every cached position, for every layer, in Float.
///
/// Layout: for each layer, `capacity` rows of keys then `capacity` rows of values, each row
/// ``width`` (= kv heads × head dimension) values. A layer's keys are thus one dense row-major
/// matrix [position, width], which the attention hands to sgemm as is, with the rows of one kv
/// head `headDim` values into each row and rows `width` apart.
///
/// The memory is reserved with `malloc` and never written up front: the operating system backs
/// a page only when a token first writes it, so resident memory grows with the positions used,
/// not with the context length.
final class KVCache {
    let layers: Int
    /// Positions the cache can hold.
    let capacity: Int
    /// Values per position and layer, for keys and for values each.
    let width: Int
    /// Positions filled so far (0..<count are valid in every layer).
    var count = 0
    private let base: UnsafeMutablePointer<Float>
    private let layerStride: Int

    init(layers: Int, capacity: Int, width: Int) throws(TransformerError) {
        // Sizes come from model files: every product is checked before anything is reserved.
        let (rowsPerLayer, o1) = capacity.multipliedReportingOverflow(by: 2)
        let (perLayer, o2) = rowsPerLayer.multipliedReportingOverflow(by: width)
        let (total, o3) = perLayer.multipliedReportingOverflow(by: layers)
        let (bytes, o4) = total.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !o1, !o2, !o3, !o4, layers > 0, capacity > 0, width > 0 else {
            throw .cannotAllocate(what: "KV cache (\(layers) layers × \(capacity) positions × \(width))", bytes: Int.max)
        }
        guard let raw = malloc(bytes) else { throw .cannotAllocate(what: "KV cache", bytes: bytes) }
        base = raw.bindMemory(to: Float.self, capacity: total)
        self.layers = layers
        self.capacity = capacity
        self.width = width
        layerStride = perLayer
    }

    deinit { free(base) }

    /// Layer `layer`'s keys: `capacity` rows of `width`.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { base + layer &* layerStride }

    /// Layer `layer`'s values: `capacity` rows of `width`.
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { base + (layer &* layerStride &+ capacity &* width) }

    /// A copy of positions 0..<count.
    func snapshot() -> KVSnapshot {
        let n = count * width
        var data = [Float](repeating: 0, count: layers * 2 * n)
        data.withUnsafeMutableBufferPointer { out in
            guard let dst = out.baseAddress else { return }
            for l in 0..<layers {
                (dst + 2 * l * n).update(from: keys(l), count: n)
                (dst + (2 * l + 1) * n).update(from: values(l), count: n)
            }
        }
        return KVSnapshot(count: count, layers: layers, width: width, data: data)
    }

    /// Replaces the cache's contents with `snapshot`'s.
    func restore(_ snapshot: KVSnapshot) throws(TransformerError) {
        guard snapshot.layers == layers, snapshot.width == width else {
            throw .incompatibleState("snapshot of \(snapshot.layers) layers × width \(snapshot.width), "
                                     + "cache of \(layers) × \(width)")
        }
        guard snapshot.count <= capacity else {
            throw .incompatibleState("snapshot holds \(snapshot.count) positions, the cache \(capacity)")
        }
        let n = snapshot.count * width
        guard snapshot.data.count == layers * 2 * n else {
            throw .incompatibleState("snapshot data has \(snapshot.data.count) values, \(layers * 2 * n) expected")
        }
        snapshot.data.withUnsafeBufferPointer { src in
            guard let s = src.baseAddress else { return }
            for l in 0..<layers {
                keys(l).update(from: s + 2 * l * n, count: n)
                values(l).update(from: s + (2 * l + 1) * n, count: n)
            }
        }
        count = snapshot.count
    }

    /// Copies positions 0..<other.count from `other`, a cache of the same layers and width.
    func copyPrefix(from other: KVCache) throws(TransformerError) {
        guard other.layers == layers, other.width == width, other.count <= capacity else {
            throw .incompatibleState("caches of different shapes")
        }
        let n = other.count * width
        for l in 0..<layers {
            keys(l).update(from: other.keys(l), count: n)
            values(l).update(from: other.values(l), count: n)
        }
        count = other.count
    }
}

/// A value-semantics copy of a sequence's KV cache: the positions it held, for every layer.
///
/// Take one with ``LanguageModel/snapshot()`` and put it back with
/// ``LanguageModel/restore(_:)``, on the same model or another of the same shape, to branch a
/// sequence (n > 1 samples, beam search) without recomputing its prompt. It costs
/// `layers × 2 × count × width` Floats.
public struct KVSnapshot: Sendable, Equatable {
    /// The number of positions held.
    public let count: Int
    /// The layers of the model it came from.
    public let layers: Int
    /// Values per position per layer, for keys and for values each.
    public let width: Int
    /// For each layer, `count` key rows then `count` value rows.
    public let data: [Float]
}
