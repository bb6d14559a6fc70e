import Foundation
import ModelFormats
import Testing
import Tensor
@testable import Transformer

/// A sequence's logits are the same bits however its tokens are batched: in one prefill, in
/// chunks, or one token at a time, for every weight type with an integer kernel and for float
/// weights (F32, F16, BF16) with either numerics, with a Float or a Float16 KV cache.
@Suite("Batch invariance")
struct BatchInvarianceTests {
    static let types: [ElementType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]
    /// Weights the Float kernel multiplies (``FloatMatMul``), under transformers' and llama.cpp's
    /// numerics (F16 and BF16 round the activations to their format with the latter).
    static let floatTypes: [ElementType] = [.f32, .f16, .bf16]

    /// Random stored blocks of `type` for `count` values: random quants, and Float16 scales (and
    /// mins) drawn small enough that activations stay finite through the layers.
    static func randomBlocks(_ type: ElementType, count: Int, rng: inout SplitMix64) -> [UInt8] {
        let blocks = count / type.blockSize
        var bytes = (0..<blocks * type.blockBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // Offsets of each block's Float16 scale fields (ggml's layouts, Sources/Tensor/Quant).
        let halves: [Int] = switch type {
        case .q4_0, .q5_0, .q8_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
        let magnitude: Float = type == .q8_0 ? 0.002 : type.blockSize == 256 ? 0.004 : 0.02
        for b in 0..<blocks {
            for offset in halves {
                let h = Float16(rng.float(magnitude)).bitPattern
                bytes[b * type.blockBytes + offset] = UInt8(h & 0xFF)
                bytes[b * type.blockBytes + offset + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }

    /// The stored bytes of `values` as F32, F16 or BF16 (rounded to nearest even), little-endian.
    static func floatBytes(_ type: ElementType, _ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * type.blockBytes)
        for v in values {
            switch type {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            default:
                let b = v.bitPattern
                let rounded = UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
                withUnsafeBytes(of: rounded.littleEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    /// A two-layer Llama GGUF (head dimension 64, rows of 256 so every K-quant fits) whose matrices
    /// are all stored as `type`; embedding and norms stay F32. Quantized matrices hold random
    /// blocks; float ones the tiny model's random values (uniform in ±0.2), converted.
    static func model(
        _ type: ElementType, kv: KVCachePrecision, numerics: Numerics = .automatic, prefillBatchSize: Int = 512,
        prefixCaching: Bool = false, kvCacheBytes: Int? = nil
    ) throws -> TransformerModel {
        let tiny = TinyModel(TinyModel.config(layers: 2, hidden: 256, ffn: 512, heads: 4, kvHeads: 2, vocab: 64,
                                              context: 64))
        var writer = GGUFWriter.llama(tiny)
        var rng = SplitMix64(state: 0x5EED &+ UInt64(type.rawValue))
        let matrices = Set(["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output"]
            .flatMap { name in (0..<2).map { "blk.\($0).\(name).weight" } + ["\(name).weight"] })
        let quantized = writer.tensors.filter { matrices.contains($0.name) }
        writer.tensors.removeAll { matrices.contains($0.name) }
        writer.storedTensors = quantized.map { t in
            let bytes = type.isQuantized ? randomBlocks(type, count: t.values.count, rng: &rng)
                : floatBytes(type, t.values)
            return (t.name, t.shape, type.rawValue, bytes)
        }
        let path = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = ModelOptions(prefillBatchSize: prefillBatchSize, kvCachePrecision: kv)
        options.numerics = numerics
        options.prefixCaching = prefixCaching
        options.kvCacheBytes = kvCacheBytes
        return try loadModel(path: path, options: options)
    }

    static let prompt: [Int] = {
        var rng = SplitMix64(state: 42)
        return (0..<40).map { _ in Int(rng.next() % 64) }
    }()

    /// The first (position, logit) whose bits differ, or nil when every bit agrees.
    static func firstDifference(_ a: [[Float]], _ b: [[Float]]) -> String? {
        guard a.count == b.count else { return "\(a.count) positions vs \(b.count)" }
        for (p, (x, y)) in zip(a, b).enumerated() {
            guard x.count == y.count else { return "position \(p): \(x.count) logits vs \(y.count)" }
            if let i = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) {
                return "position \(p), logit \(i): \(x[i]) vs \(y[i])"
            }
        }
        return nil
    }

    @Test(arguments: types, [KVCachePrecision.float32, .float16])
    func logitsDoNotDependOnTheBatch(type: ElementType, kv: KVCachePrecision) throws {
        try Self.checkBatchings(type, kv: kv, numerics: .automatic)
    }

    /// Float weights, with a Float and a Float16 cache.
    @Test(arguments: floatTypes, [Numerics.exact, .llamaCpp])
    func floatLogitsDoNotDependOnTheBatch(type: ElementType, numerics: Numerics) throws {
        for kv in [KVCachePrecision.float32, .float16] { try Self.checkBatchings(type, kv: kv, numerics: numerics) }
    }

    /// One prefill of the prompt against chunks of 7, token by token, and 13 tokens then 27.
    static func checkBatchings(_ type: ElementType, kv: KVCachePrecision, numerics: Numerics) throws {
        let whole = try model(type, kv: kv, numerics: numerics)
        #expect(whole.usesLlamaCppNumerics == (numerics == .llamaCpp || (numerics == .automatic && type != .f32)))
        let reference = try whole.prefillAllPositions(tokens: prompt)
        #expect(reference.allSatisfy { $0.allSatisfy(\.isFinite) }, "finite logits")
        let what = "\(type) \(kv) \(numerics)"
        // Chunks of 7 (prefillBatchSize), then token by token.
        let chunked = try model(type, kv: kv, numerics: numerics, prefillBatchSize: 7).prefillAllPositions(tokens: prompt)
        #expect(firstDifference(chunked, reference) == nil, "\(what): chunks of 7")
        let single = try model(type, kv: kv, numerics: numerics)
        let stepped = try prompt.map { try single.decode(token: $0) }
        #expect(firstDifference(stepped, reference) == nil, "\(what): token by token")
        // A prefill of the first part, then the rest as one batch.
        let split = try model(type, kv: kv, numerics: numerics)
        _ = try split.prefill(tokens: Array(prompt[..<13]))
        let rest = try split.prefillAllPositions(tokens: Array(prompt[13...]))
        #expect(firstDifference(rest, Array(reference[13...])) == nil, "\(what): 13 then 27")
    }

    /// The same sequence's logits when its tokens share forward passes with three other sequences of
    /// other lengths and positions (``TransformerModel/forward(_:logits:)``): in chunks of 5 beside
    /// chunks of 3, 11 and 1, then token by token beside single tokens, all bit for bit the reference.
    @Test(arguments: [ElementType.q4_0, .q4_1, .q8_0, .q4_K, .q5_K, .q6_K], [KVCachePrecision.float32, .float16])
    func logitsDoNotDependOnOtherSequences(type: ElementType, kv: KVCachePrecision) throws {
        try Self.checkBesideOthers(type, kv: kv, numerics: .automatic)
    }

    /// Float weights beside other sequences, with a Float and a Float16 cache.
    @Test(arguments: floatTypes, [Numerics.exact, .llamaCpp])
    func floatLogitsDoNotDependOnOtherSequences(type: ElementType, numerics: Numerics) throws {
        for kv in [KVCachePrecision.float32, .float16] { try Self.checkBesideOthers(type, kv: kv, numerics: numerics) }
    }

    static func checkBesideOthers(_ type: ElementType, kv: KVCachePrecision, numerics: Numerics) throws {
        let reference = try Self.model(type, kv: kv, numerics: numerics).prefillAllPositions(tokens: Self.prompt)
        let model = try Self.model(type, kv: kv, numerics: numerics)
        let others = try (0..<3).map { _ in try model.fork() }
        var rng = SplitMix64(state: 9)
        func randomTokens(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % 64) } }
        var batch = SequenceBatch()
        var logits: [Float] = []
        var received: [[Float]] = []
        let vocab = model.vocabularySize
        // The first 20 tokens in chunks of 5, the others' chunks before and after it in the batch.
        for chunk in stride(from: 0, to: 20, by: 5) {
            batch.removeAll()
            batch.append(others[0], tokens: randomTokens(3), logits: .all)
            batch.append(model, tokens: Self.prompt[chunk..<chunk + 5], logits: .all)
            batch.append(others[1], tokens: randomTokens(11), logits: .last)
            batch.append(others[2], tokens: randomTokens(1), logits: .none)
            try model.forward(batch, logits: &logits)
            #expect(logits.count == batch.logitRows * vocab)
            // Rows: 3 of others[0], then this sequence's 5.
            received += (3..<8).map { Array(logits[$0 * vocab..<($0 + 1) * vocab]) }
        }
        // The rest one token at a time, the target last in the batch.
        for position in 20..<Self.prompt.count {
            batch.removeAll()
            for other in others { batch.append(other, tokens: randomTokens(1)) }
            batch.append(model, tokens: CollectionOfOne(Self.prompt[position]))
            try model.forward(batch, logits: &logits)
            received.append(Array(logits[3 * vocab..<4 * vocab]))
        }
        #expect(Self.firstDifference(received, reference) == nil, "\(type) \(kv) \(numerics): beside other sequences")
        #expect(model.position == Self.prompt.count && others[0].position == 12 + 20)
    }

    /// A batch that cannot run is refused before any cache changes.
    @Test func invalidBatchesAreRefused() throws {
        let model = try Self.model(.q8_0, kv: .float32)
        let fork = try model.fork()
        let stranger = try Self.model(.q8_0, kv: .float32)
        var logits: [Float] = []
        var batch = SequenceBatch()
        #expect(throws: TransformerError.self) { try model.forward(batch, logits: &logits) }
        batch.append(model, tokens: [1, 2])
        batch.append(model, tokens: [3])
        #expect(throws: TransformerError.self) { try model.forward(batch, logits: &logits) }
        batch.removeAll()
        batch.append(fork, tokens: [1])
        batch.append(stranger, tokens: [2])
        #expect(throws: TransformerError.self) { try model.forward(batch, logits: &logits) }
        batch.removeAll()
        batch.append(fork, tokens: [1])
        batch.append(model, tokens: [64])
        #expect(throws: TransformerError.self) { try model.forward(batch, logits: &logits) }
        #expect(model.position == 0 && fork.position == 0 && stranger.position == 0)
    }
}
