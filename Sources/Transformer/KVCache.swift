import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys and values of every cached position, for every layer, as Float or as IEEE halves.
///
/// Layout: for each layer, `capacity` rows of keys then `capacity` rows of values, each row
/// ``width`` (= kv heads × head dimension) values. A layer's keys are thus one dense row-major
/// matrix [position, width], with the rows of one kv head `headDim` values into each row.
///
/// With ``halfPrecision`` (llama.cpp's default F16 cache) every entry is stored as a Float16: half
/// the memory, and the same values llama.cpp's cache holds. The attention kernel reads either kind
/// where it lies (``Attention``); the conversions to and from halves are C kernels, since Swift
/// without F16C converts one value per compiler-rt call.
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
    /// Entries are Float16 rather than Float.
    let halfPrecision: Bool
    /// Positions filled so far (0..<count are valid in every layer).
    var count = 0
    private let base: UnsafeMutableRawPointer
    /// Entries per layer (keys and values).
    private let layerStride: Int

    init(layers: Int, capacity: Int, width: Int, halfPrecision: Bool = false) throws(TransformerError) {
        // Sizes come from model files: every product is checked before anything is reserved.
        let (rowsPerLayer, o1) = capacity.multipliedReportingOverflow(by: 2)
        let (perLayer, o2) = rowsPerLayer.multipliedReportingOverflow(by: width)
        let (total, o3) = perLayer.multipliedReportingOverflow(by: layers)
        let (bytes, o4) = total.multipliedReportingOverflow(by: halfPrecision ? 2 : 4)
        guard !o1, !o2, !o3, !o4, layers > 0, capacity > 0, width > 0 else {
            throw .cannotAllocate(what: "KV cache (\(layers) layers × \(capacity) positions × \(width))", bytes: Int.max)
        }
        guard let raw = malloc(bytes) else { throw .cannotAllocate(what: "KV cache", bytes: bytes) }
        if halfPrecision { raw.bindMemory(to: Float16.self, capacity: total) } else { raw.bindMemory(to: Float.self, capacity: total) }
        base = raw
        self.layers = layers
        self.capacity = capacity
        self.width = width
        self.halfPrecision = halfPrecision
        layerStride = perLayer
    }

    deinit { free(base) }

    private var entryBytes: Int { halfPrecision ? 2 : 4 }

    /// Layer `layer`'s keys and values.
    func layer(_ layer: Int) -> KVLayer {
        let keys = base + layer &* layerStride &* entryBytes
        return KVLayer(keys: keys, values: keys + capacity &* width &* entryBytes, width: width,
                       halfPrecision: halfPrecision)
    }

    /// A copy of positions 0..<count, as Floats.
    func snapshot() -> KVSnapshot {
        let n = count * width
        var data = [Float](repeating: 0, count: layers * 2 * n)
        data.withUnsafeMutableBufferPointer { out in
            guard let dst = out.baseAddress else { return }
            for l in 0..<layers {
                let kv = layer(l)
                kv.read(kv.keys, rows: 0..<count, column: 0, count: width, into: dst + 2 * l * n)
                kv.read(kv.values, rows: 0..<count, column: 0, count: width, into: dst + (2 * l + 1) * n)
            }
        }
        return KVSnapshot(count: count, layers: layers, width: width, data: data)
    }

    /// Replaces the cache's contents with `snapshot`'s (rounded to Float16 for a half cache).
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
                layer(l).store(keys: s + 2 * l * n, values: s + (2 * l + 1) * n, at: 0, rows: snapshot.count)
            }
        }
        count = snapshot.count
    }

    /// Copies positions 0..<other.count from `other`, a cache of the same layers, width and precision.
    func copyPrefix(from other: KVCache) throws(TransformerError) {
        guard other.layers == layers, other.width == width, other.halfPrecision == halfPrecision,
              other.count <= capacity else {
            throw .incompatibleState("caches of different shapes")
        }
        let bytes = other.count * width * entryBytes
        for l in 0..<layers {
            let mine = layer(l), theirs = other.layer(l)
            mine.keys.copyMemory(from: theirs.keys, byteCount: bytes)
            mine.values.copyMemory(from: theirs.values, byteCount: bytes)
        }
        count = other.count
    }
}

/// One layer's slice of a ``KVCache``: `capacity` rows of keys and of values, Float or Float16.
struct KVLayer {
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer
    /// Entries per row.
    let width: Int
    let halfPrecision: Bool

    /// Writes `rows` rows of keys and values (rows of `width` Floats) at positions start..<start+rows,
    /// rounding them to Float16 (nearest even, as `Float16(x)`) in a half cache as llama.cpp's F16
    /// cache does. `isa` picks the conversion kernel's instruction set.
    func store(
        keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, at start: Int, rows: Int,
        isa: Int32 = sparrow_isa_best()
    ) {
        let n = rows &* width, first = start &* width
        if halfPrecision {
            sparrow_f16_from_f32(isa, newKeys, keys + first &* 2, Int64(n))
            sparrow_f16_from_f32(isa, newValues, values + first &* 2, Int64(n))
        } else {
            (keys.assumingMemoryBound(to: Float.self) + first).update(from: newKeys, count: n)
            (values.assumingMemoryBound(to: Float.self) + first).update(from: newValues, count: n)
        }
    }

    /// Copies `count` entries from `column` of each row in `rows` of `matrix` (``keys`` or
    /// ``values``) into consecutive rows of `count` Floats at `destination`, widening halves.
    func read(
        _ matrix: UnsafeMutableRawPointer, rows: Range<Int>, column: Int, count: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let isa = sparrow_isa_best()
        for (i, r) in rows.enumerated() {
            let entry = r &* width &+ column, dst = destination + i &* count
            if halfPrecision {
                sparrow_f32_from_f16(isa, matrix + entry &* 2, dst, Int64(count))
            } else {
                dst.update(from: matrix.assumingMemoryBound(to: Float.self) + entry, count: count)
            }
        }
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
