import CKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The KV cache memory of one model, in blocks of ``blockSize`` positions that its sequences (a
/// model and its forks) share: a paged cache, as vLLM's.
///
/// A block holds, for each layer, the keys then the values of ``blockSize`` positions, each row
/// `width` (= kv heads × head dimension) entries, as Float or as IEEE halves (llama.cpp's default
/// F16 cache): `[layer][keys | values][position in block][width]`. Each sequence keeps a table of
/// its blocks (``KVCache``). Blocks are reference-counted: a fork shares its parent's blocks and
/// copies a block only before writing into one that is shared, which can only be the last,
/// partly filled one.
///
/// The memory is reserved with `malloc` and, unless ``reserve()`` writes it up front, the operating
/// system backs a page only when a token first writes it. Freed blocks are reused last-freed first,
/// so resident memory then stays at the most the sequences (and the prefix cache) ever held at once.
///
/// **Prefix cache** (``prefixCaching``). A full block is indexed by the exact key (the key of the
/// block before it, its 16 token ids): the key names the whole token prefix up to the block's end,
/// so a lookup compares tokens, never a hash alone, and a hit is the block a prefill of that prefix
/// computes — bit for bit, because the forward pass is batch-invariant. A block nobody holds stays
/// indexed until a block is needed and none is free; then the least recently released goes first.
/// Keys name blocks by a serial number never reused, so an evicted block's followers can never be
/// found through a new block in its place.
public final class KVBlockPool: Sendable {
    /// Positions per block.
    public static let blockSize = 16

    /// Layers of the model.
    public let layers: Int
    /// Entries per position, per layer, for keys and for values each.
    public let width: Int
    /// Entries are Float16 rather than Float.
    public let halfPrecision: Bool
    /// Blocks in the pool.
    public let blockCount: Int
    /// Entries per block: layers × 2 × ``blockSize`` × ``width``.
    let blockEntries: Int
    private let storage: Storage
    private let state: Mutex<State>

    /// Whether full blocks are indexed for reuse by later sequences with the same prefix.
    public let prefixCaching: Bool

    private struct State {
        /// Free blocks, the next to hand out last.
        var free: [Int32]
        /// References to each block (0 when free).
        var references: [Int32]
        /// The prefix cache: full blocks by the prefix they end.
        var index: [PrefixKey: Int32] = [:]
        /// Each block's serial number while it is indexed (0: not indexed), and its key.
        var serial: [UInt64]
        var keys: [PrefixKey?]
        var nextSerial: UInt64 = 1
        /// Indexed blocks nobody holds, least recently released first, with the release count
        /// they were queued at (an entry whose block was taken again since is stale).
        var evictable: [(block: Int32, release: UInt64)] = []
        var evictableStart = 0
        var releaseCount: UInt64 = 0
        var lastRelease: [UInt64]
        var cachedIdle = 0
        /// Indexed blocks taken for new positions so far.
        var evictions = 0
    }

    /// The key of a full block: the serial number of the block before it (0 for the first) and
    /// its 16 token ids.
    struct PrefixKey: Hashable {
        var previous: UInt64
        var tokens: SIMD16<Int32>
    }

    /// The blocks' memory: an anonymous mapping of its own, so that pages are resident only once
    /// written (or reserved), whatever the process's heap holds; malloc may instead hand out heap
    /// memory that earlier allocations already touched.
    private final class Storage: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
        let bytes: Int
        init?(bytes: Int) {
            #if canImport(Darwin)
            let flags = MAP_PRIVATE | MAP_ANON
            #else
            let flags = MAP_PRIVATE | MAP_ANONYMOUS
            #endif
            guard bytes > 0, let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, flags, -1, 0),
                  base != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
            self.base = base
            self.bytes = bytes
        }
        deinit { munmap(base, bytes) }
    }

    /// The bytes one block takes for a model of `layers` layers and `width` entries per position.
    public static func blockBytes(layers: Int, width: Int, halfPrecision: Bool) -> Int {
        let (a, o1) = layers.multipliedReportingOverflow(by: 2 * blockSize)
        let (b, o2) = a.multipliedReportingOverflow(by: width)
        let (c, o3) = b.multipliedReportingOverflow(by: halfPrecision ? 2 : 4)
        return o1 || o2 || o3 ? Int.max : c
    }

    /// A pool of `blockCount` blocks.
    /// - Throws: ``TransformerError/cannotAllocate(what:bytes:)`` for sizes that overflow or memory
    ///   that cannot be reserved.
    public init(layers: Int, width: Int, halfPrecision: Bool, blockCount: Int, prefixCaching: Bool = false) throws(TransformerError) {
        let blockBytes = Self.blockBytes(layers: layers, width: width, halfPrecision: halfPrecision)
        let (bytes, overflow) = blockBytes.multipliedReportingOverflow(by: blockCount)
        // Sizes come from model files and options: every product is checked before anything is reserved.
        guard layers > 0, width > 0, blockCount > 0, blockCount <= Int(Int32.max), blockBytes != .max, !overflow else {
            throw .cannotAllocate(what: "KV cache (\(layers) layers × width \(width) × \(blockCount) blocks)", bytes: Int.max)
        }
        guard let storage = Storage(bytes: bytes) else { throw .cannotAllocate(what: "KV cache", bytes: bytes) }
        let entries = bytes / (halfPrecision ? 2 : 4)
        if halfPrecision {
            storage.base.bindMemory(to: Float16.self, capacity: entries)
        } else {
            storage.base.bindMemory(to: Float.self, capacity: entries)
        }
        self.storage = storage
        self.layers = layers
        self.width = width
        self.halfPrecision = halfPrecision
        self.blockCount = blockCount
        blockEntries = blockBytes / (halfPrecision ? 2 : 4)
        self.prefixCaching = prefixCaching
        state = Mutex(State(
            free: (0 ..< Int32(blockCount)).reversed(), references: [Int32](repeating: 0, count: blockCount),
            serial: prefixCaching ? [UInt64](repeating: 0, count: blockCount) : [],
            keys: prefixCaching ? [PrefixKey?](repeating: nil, count: blockCount) : [],
            lastRelease: prefixCaching ? [UInt64](repeating: 0, count: blockCount) : []))
    }

    /// A pool of as many blocks as fit in `bytes` (at least one).
    public convenience init(layers: Int, width: Int, halfPrecision: Bool, bytes: Int, prefixCaching: Bool = false) throws(TransformerError) {
        let blockBytes = Self.blockBytes(layers: layers, width: width, halfPrecision: halfPrecision)
        try self.init(layers: layers, width: width, halfPrecision: halfPrecision,
                      blockCount: max(1, min(bytes / max(1, blockBytes), Int(Int32.max))), prefixCaching: prefixCaching)
    }

    /// Writes zeros over the whole pool, so that the operating system backs all of it now rather
    /// than page by page as positions fill (``ModelOptions/reservesKVCache``). Call it before any
    /// sequence uses the pool: it overwrites every block.
    public func reserve() {
        memset(storage.base, 0, blockCount &* blockEntries &* entryBytes)
    }

    /// The bytes of the pool the operating system backs now (`mincore`), for tests; `nil` where
    /// that cannot be asked.
    func residentBytes() -> Int? {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: storage.base) / page * page
        let end = Int(bitPattern: storage.base) + blockCount &* blockEntries &* entryBytes
        let pages = (end - start + page - 1) / page
        var flags = [UInt8](repeating: 0, count: pages)
        guard let address = UnsafeMutableRawPointer(bitPattern: start),
              mincore(address, end - start, &flags) == 0 else { return nil }
        return flags.reduce(0) { $0 + Int($1 & 1) } * page
        #else
        return nil
        #endif
    }

    /// Blocks no sequence holds (free, or indexed in the prefix cache and free to evict).
    public var freeBlockCount: Int { state.withLock { $0.free.count + $0.cachedIdle } }

    /// Blocks indexed in the prefix cache (held by sequences or not).
    public var cachedBlockCount: Int { state.withLock { $0.index.count } }

    /// Blocks the prefix cache gave up so far, for positions that needed a block when none was free.
    public var evictedBlockCount: Int { state.withLock { $0.evictions } }

    /// The blocks needed for `positions` positions.
    public static func blocks(forPositions positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    var entryBytes: Int { halfPrecision ? 2 : 4 }

    /// The first entry of `block`.
    func address(of block: Int32) -> UnsafeMutableRawPointer {
        storage.base + Int(block) &* blockEntries &* entryBytes
    }

    /// A free block with one reference — else the least recently released block of the prefix
    /// cache, dropped from it — or `nil` when every block is held.
    func allocate() -> Int32? {
        state.withLock { s in
            if let block = s.free.popLast() {
                s.references[Int(block)] = 1
                return block
            }
            while s.evictableStart < s.evictable.count {
                let (block, release) = s.evictable[s.evictableStart]
                s.evictableStart += 1
                // Stale: taken again (and maybe released again, queued later) since.
                guard s.references[Int(block)] == 0, s.lastRelease[Int(block)] == release else { continue }
                Self.unindex(block, &s)
                s.cachedIdle -= 1
                s.evictions += 1
                s.references[Int(block)] = 1
                return block
            }
            return nil
        }
    }

    /// Adds a reference to a held block.
    func retain(_ block: Int32) {
        state.withLock { $0.references[Int(block)] += 1 }
    }

    /// Drops a reference; once none is left the block is free, or, if the prefix cache indexes
    /// it, kept there until it is evicted.
    func release(_ block: Int32) {
        state.withLock { s in
            let b = Int(block)
            s.references[b] -= 1
            guard s.references[b] == 0 else { return }
            guard prefixCaching, s.serial[b] != 0 else {
                s.free.append(block)
                return
            }
            s.releaseCount += 1
            s.lastRelease[b] = s.releaseCount
            s.evictable.append((block, s.releaseCount))
            s.cachedIdle += 1
            // The queue keeps stale entries; drop them once they are most of it.
            if s.evictableStart > 1024 && s.evictableStart * 2 > s.evictable.count {
                s.evictable.removeFirst(s.evictableStart)
                s.evictableStart = 0
            }
        }
    }

    /// Whether writing into `block` must copy it first: another sequence holds it too, or the
    /// prefix cache indexes it (its positions are what its key says).
    func needsCopy(_ block: Int32) -> Bool {
        state.withLock { s in s.references[Int(block)] > 1 || (prefixCaching && s.serial[Int(block)] != 0) }
    }

    private static func unindex(_ block: Int32, _ s: inout State) {
        if let key = s.keys[Int(block)] { s.index[key] = nil }
        s.keys[Int(block)] = nil
        s.serial[Int(block)] = 0
    }

    // MARK: Prefix cache

    /// The longest run of indexed blocks that holds `tokens`' first positions, block by block,
    /// each taken with a reference; `previous` is the serial number of the last one (for
    /// ``index(_:tokens:previous:)``).
    func longestCachedPrefix(_ tokens: UnsafeBufferPointer<Int32>, blocks limit: Int) -> (blocks: [Int32], previous: UInt64) {
        guard prefixCaching else { return ([], 0) }
        return state.withLock { s in
            var found: [Int32] = [], previous: UInt64 = 0
            for i in 0 ..< min(limit, tokens.count / Self.blockSize) {
                let key = PrefixKey(previous: previous, tokens: Self.chunk(tokens, i))
                guard let block = s.index[key] else { break }
                if s.references[Int(block)] == 0 { s.cachedIdle -= 1 }
                s.references[Int(block)] += 1
                found.append(block)
                previous = s.serial[Int(block)]
            }
            return (found, previous)
        }
    }

    /// Indexes `block`, a full block holding `tokens` after the prefix the block of serial number
    /// `previous` ends (0: none), and returns the serial number the next block's key uses. When
    /// the prefix is indexed already (another sequence computed it too), that block's number is
    /// returned and `block` stays out of the index.
    func index(_ block: Int32, tokens: SIMD16<Int32>, previous: UInt64) -> UInt64 {
        guard prefixCaching else { return 0 }
        return state.withLock { s in
            let key = PrefixKey(previous: previous, tokens: tokens)
            if let existing = s.index[key] { return s.serial[Int(existing)] }
            if s.serial[Int(block)] != 0 { return s.serial[Int(block)] }
            s.serial[Int(block)] = s.nextSerial
            s.nextSerial += 1
            s.keys[Int(block)] = key
            s.index[key] = block
            return s.serial[Int(block)]
        }
    }

    /// Block `i`'s 16 token ids.
    static func chunk(_ tokens: UnsafeBufferPointer<Int32>, _ i: Int) -> SIMD16<Int32> {
        var v = SIMD16<Int32>()
        for j in 0 ..< blockSize { v[j] = tokens[i * blockSize + j] }
        return v
    }
}

/// One sequence's KV cache: the table of the ``KVBlockPool`` blocks that hold its positions
/// 0 ..< ``count``, block i holding positions 16·i ..< 16·i + 16.
final class KVCache {
    let pool: KVBlockPool
    /// Positions the sequence can hold (its context length).
    let capacity: Int
    /// Positions filled so far (0..<count are valid in every layer).
    var count = 0
    /// The blocks held, in position order; `heldBlocks` entries are valid.
    private let table: UnsafeMutablePointer<Int32>
    private(set) var heldBlocks = 0
    /// The token id at each position 0..<count, kept for the prefix cache (with one).
    private let tokenIDs: UnsafeMutablePointer<Int32>?
    /// Full blocks already offered to the prefix cache, and the serial number of the last.
    private var indexedBlocks = 0
    private var lastSerial: UInt64 = 0
    /// False once positions were written without their token ids (``restore(_:)``): such a
    /// cache offers nothing to the prefix cache.
    private var tokensKnown = true

    var layers: Int { pool.layers }
    var width: Int { pool.width }
    var halfPrecision: Bool { pool.halfPrecision }

    /// An empty cache for up to `capacity` positions in `pool`.
    init(pool: KVBlockPool, capacity: Int) throws(TransformerError) {
        guard capacity > 0, capacity <= Int(Int32.max) else {
            throw .invalidConfig(key: "contextLength", value: "\(capacity)", reason: "must be in 1...\(Int32.max)")
        }
        self.pool = pool
        self.capacity = capacity
        table = .allocate(capacity: KVBlockPool.blocks(forPositions: capacity))
        tokenIDs = pool.prefixCaching ? .allocate(capacity: capacity) : nil
    }

    /// An empty cache in a pool of its own, with room for `capacity` positions.
    convenience init(layers: Int, capacity: Int, width: Int, halfPrecision: Bool = false) throws(TransformerError) {
        let pool = try KVBlockPool(layers: layers, width: width, halfPrecision: halfPrecision,
                                   blockCount: KVBlockPool.blocks(forPositions: max(1, capacity)))
        try self.init(pool: pool, capacity: capacity)
    }

    deinit {
        release(blocksFrom: 0)
        table.deallocate()
        tokenIDs?.deallocate()
    }

    /// Another cache holding the same positions in the same blocks (each gains a reference).
    func fork() throws(TransformerError) -> KVCache {
        let copy = try KVCache(pool: pool, capacity: capacity)
        for i in 0 ..< heldBlocks {
            pool.retain(table[i])
            copy.table[i] = table[i]
        }
        copy.heldBlocks = heldBlocks
        copy.count = count
        if let mine = tokenIDs, let theirs = copy.tokenIDs { theirs.update(from: mine, count: count) }
        copy.indexedBlocks = indexedBlocks
        copy.lastSerial = lastSerial
        copy.tokensKnown = tokensKnown
        return copy
    }

    /// Records `tokens` as positions start..<start+count (after the pass that wrote their keys
    /// and values) and indexes the blocks they fill in the prefix cache.
    func recorded(_ tokens: some Collection<Int>, at start: Int) {
        guard let ids = tokenIDs, tokensKnown else { return }
        for (i, t) in tokens.enumerated() { ids[start + i] = Int32(truncatingIfNeeded: t) }
        let full = (start + tokens.count) / KVBlockPool.blockSize
        guard indexedBlocks < full else { return }
        let buffer = UnsafeBufferPointer(start: ids, count: start + tokens.count)
        while indexedBlocks < full {
            lastSerial = pool.index(table[indexedBlocks], tokens: KVBlockPool.chunk(buffer, indexedBlocks), previous: lastSerial)
            indexedBlocks += 1
        }
    }

    /// On an empty cache: takes the longest run of the prefix cache's blocks that holds `tokens`'
    /// first positions, leaving at least `keep` tokens to compute, and returns the positions it
    /// holds (a multiple of 16).
    func reuseCachedPrefix(of tokens: [Int], keep: Int) -> Int {
        guard let ids = tokenIDs, tokensKnown, count == 0, heldBlocks == 0, tokens.count <= capacity else { return 0 }
        for (i, t) in tokens.enumerated() { ids[i] = Int32(truncatingIfNeeded: t) }
        let limit = max(0, tokens.count - keep) / KVBlockPool.blockSize
        let (blocks, previous) = pool.longestCachedPrefix(UnsafeBufferPointer(start: ids, count: tokens.count), blocks: limit)
        for (i, block) in blocks.enumerated() { table[i] = block }
        heldBlocks = blocks.count
        indexedBlocks = blocks.count
        lastSerial = previous
        count = blocks.count * KVBlockPool.blockSize
        return count
    }

    /// Makes positions `start ..< start + rows` writable: takes the blocks they need from the pool,
    /// and replaces a block another sequence shares with a copy of it first.
    /// - Throws: ``TransformerError/kvCacheFull(needed:blocks:)`` when the pool has too few free blocks;
    ///   the blocks taken so far stay held (the cache's contents do not change).
    func prepareWrite(from start: Int, rows: Int) throws(TransformerError) {
        guard rows > 0 else { return }
        let first = start / KVBlockPool.blockSize, end = KVBlockPool.blocks(forPositions: start + rows)
        for i in first ..< min(end, heldBlocks) where pool.needsCopy(table[i]) {
            guard let copy = pool.allocate() else { throw .kvCacheFull(needed: end - i, blocks: pool.blockCount) }
            pool.address(of: copy).copyMemory(from: pool.address(of: table[i]), byteCount: pool.blockEntries &* pool.entryBytes)
            pool.release(table[i])
            table[i] = copy
        }
        while heldBlocks < end {
            guard let block = pool.allocate() else { throw .kvCacheFull(needed: end - heldBlocks, blocks: pool.blockCount) }
            table[heldBlocks] = block
            heldBlocks += 1
        }
    }

    /// Keeps positions 0 ..< `position` and returns the blocks past them to the pool.
    func truncate(to position: Int) {
        count = position
        release(blocksFrom: KVBlockPool.blocks(forPositions: position))
        if indexedBlocks > position / KVBlockPool.blockSize {
            // Blocks past the new end are gone; the chain of keys restarts from the last full one.
            indexedBlocks = 0
            lastSerial = 0
        }
    }

    private func release(blocksFrom first: Int) {
        while heldBlocks > first {
            heldBlocks -= 1
            pool.release(table[heldBlocks])
        }
    }

    /// Layer `layer`'s keys and values, read and written through the block table.
    func layer(_ layer: Int) -> KVLayer {
        let b = KVBlockPool.blockSize, e = pool.entryBytes
        let keys = pool.address(of: 0) + layer &* 2 &* b &* width &* e
        return KVLayer(keys: keys, values: keys + b &* width &* e, table: UnsafePointer(table),
                       blockStride: pool.blockEntries, width: width, halfPrecision: halfPrecision)
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
        truncate(to: 0)
        tokensKnown = false
        try prepareWrite(from: 0, rows: snapshot.count)
        snapshot.data.withUnsafeBufferPointer { src in
            guard let s = src.baseAddress else { return }
            for l in 0..<layers {
                layer(l).store(keys: s + 2 * l * n, values: s + (2 * l + 1) * n, at: 0, rows: snapshot.count)
            }
        }
        count = snapshot.count
    }
}

/// One layer's slice of a ``KVCache``: its keys and values, Float or Float16, position p's row in
/// block `table[p / 16]`, row p mod 16.
struct KVLayer {
    /// Layer's keys in block 0; block b's are `blockStride` × b entries further.
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer
    let table: UnsafePointer<Int32>
    /// Entries from one block to the next.
    let blockStride: Int
    /// Entries per row.
    let width: Int
    let halfPrecision: Bool

    /// The entry offset of position `position`'s row.
    func offset(of position: Int) -> Int {
        let b = KVBlockPool.blockSize
        return Int(table[position / b]) &* blockStride &+ (position % b) &* width
    }

    /// Writes `rows` rows of keys and values (rows of `width` Floats) at positions start..<start+rows
    /// (made writable by ``KVCache/prepareWrite(from:rows:)``), rounding them to Float16 (nearest
    /// even, as `Float16(x)`) in a half cache as llama.cpp's F16 cache does. `isa` picks the
    /// conversion kernel's instruction set.
    func store(
        keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, at start: Int, rows: Int,
        isa: Int32 = sparrow_isa_best()
    ) {
        var done = 0
        while done < rows {
            // One run of rows inside a block at a time.
            let position = start + done, run = min(rows - done, KVBlockPool.blockSize - position % KVBlockPool.blockSize)
            let n = run &* width, first = offset(of: position), from = done &* width
            if halfPrecision {
                sparrow_f16_from_f32(isa, newKeys + from, keys + first &* 2, Int64(n))
                sparrow_f16_from_f32(isa, newValues + from, values + first &* 2, Int64(n))
            } else {
                (keys.assumingMemoryBound(to: Float.self) + first).update(from: newKeys + from, count: n)
                (values.assumingMemoryBound(to: Float.self) + first).update(from: newValues + from, count: n)
            }
            done += run
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
            let entry = offset(of: r) &+ column, dst = destination + i &* count
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
/// Tests take one with `TransformerModel.snapshot()` to compare caches, and put it back with
/// `restore(_:)` on the same model or another of the same shape. It costs
/// `layers × 2 × count × width` Floats. (Generation branches sequences with
/// ``LanguageModel/fork()``, which shares a cache's blocks without copying them.)
package struct KVSnapshot: Sendable, Equatable {
    /// The number of positions held.
    package let count: Int
    /// The layers of the model it came from.
    package let layers: Int
    /// Values per position per layer, for keys and for values each.
    package let width: Int
    /// For each layer, `count` key rows then `count` value rows.
    package let data: [Float]
}
