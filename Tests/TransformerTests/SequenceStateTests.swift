import Foundation
import Testing
@testable import Transformer

/// The KV state behind `LanguageModel`: forks, snapshots, truncation, reset, and input refused
/// before it can touch the cache.
@Suite("Transformer sequence state")
struct SequenceStateTests {
    static let prompt = [4, 9, 16, 25, 36, 1, 8, 27]
    static let continuation = [5, 10, 15, 20, 25, 30]

    func model(window: Int? = nil, context: Int = 64) throws -> TransformerModel {
        try TinyModel(TinyModel.config(architecture: .mistral, context: context, window: window)).model()
    }

    /// Decodes `tokens` and returns every step's logits.
    func steps(_ model: some LanguageModel, _ tokens: [Int]) throws -> [[Float]] {
        try tokens.map { try model.decode(token: $0) }
    }

    @Test("A forked sequence continues exactly as the original does", arguments: [nil, 3])
    func forkContinuesIdentically(window: Int?) throws {
        let original = try model(window: window)
        _ = try original.prefill(tokens: Self.prompt)
        let fork = try original.fork()
        #expect(fork.position == Self.prompt.count)
        let a = try steps(fork, Self.continuation)
        let b = try steps(original, Self.continuation)
        #expect(a == b)
    }

    @Test("A fork is independent: feeding it other tokens leaves the original untouched")
    func forkIsIndependent() throws {
        let original = try model()
        _ = try original.prefill(tokens: Self.prompt)
        let fork = try original.fork()
        _ = try steps(fork, [2, 3, 4])
        let reference = try model()
        _ = try reference.prefill(tokens: Self.prompt)
        #expect(try steps(original, Self.continuation) == steps(reference, Self.continuation))
    }

    @Test("A snapshot restored later continues as it would have then")
    func snapshotRestore() throws {
        let m = try model()
        _ = try m.prefill(tokens: Self.prompt)
        let snapshot = m.snapshot()
        #expect(snapshot.count == Self.prompt.count)
        let first = try steps(m, Self.continuation)
        try m.restore(snapshot)
        #expect(m.position == Self.prompt.count)
        #expect(try steps(m, Self.continuation) == first)
        // Another model of the same shape can take it too.
        let other = try model()
        try other.restore(snapshot)
        #expect(try steps(other, Self.continuation) == first)
        // One of a different shape cannot.
        let different = try TinyModel(TinyModel.config(layers: 3)).model()
        #expect(throws: TransformerError.self) { try different.restore(snapshot) }
    }

    @Test("Truncating and reset rewind the sequence")
    func truncateAndReset() throws {
        let m = try model()
        let full = try m.prefillAllPositions(tokens: Self.prompt + Self.continuation)
        try m.truncate(to: Self.prompt.count)
        #expect(maxAbsDifference(try steps(m, Self.continuation).last ?? [], full.last ?? []) < 1e-5)
        m.reset()
        #expect(m.position == 0)
        #expect(maxAbsDifference(try m.prefill(tokens: Self.prompt), full[Self.prompt.count - 1]) < 1e-5)
        #expect(throws: TransformerError.self) { try m.truncate(to: Self.prompt.count + 1) }
        #expect(throws: TransformerError.self) { try m.truncate(to: -1) }
    }

    @Test("Bad input is refused before it changes the cache")
    func inputErrors() throws {
        let m = try model(context: 10)
        #expect(throws: TransformerError.emptyInput) { try m.prefill(tokens: []) }
        #expect(throws: TransformerError.tokenOutOfRange(token: 40, vocabularySize: 40)) {
            try m.prefill(tokens: [1, 40])
        }
        #expect(throws: TransformerError.tokenOutOfRange(token: -1, vocabularySize: 40)) { try m.decode(token: -1) }
        #expect(m.position == 0)
        _ = try m.prefill(tokens: Self.prompt)
        #expect(throws: TransformerError.contextFull(position: 8, adding: 3, contextLength: 10)) {
            try m.prefill(tokens: [1, 2, 3])
        }
        #expect(m.position == 8)
        _ = try m.decode(token: 1)
        _ = try m.decode(token: 2)
        #expect(throws: TransformerError.contextFull(position: 10, adding: 1, contextLength: 10)) {
            try m.decode(token: 3)
        }
    }

    @Test("decode(token:into:) writes the same logits in place as decode(token:) returns")
    func decodeIntoBuffer() throws {
        let a = try model(), b = try model()
        _ = try a.prefill(tokens: Self.prompt)
        _ = try b.prefill(tokens: Self.prompt)
        var buffer = [Float](repeating: 0, count: a.vocabularySize)
        var kept: [[Float]] = []
        for t in Self.continuation {
            try a.decode(token: t, into: &buffer)
            kept.append(buffer)
        }
        #expect(try steps(b, Self.continuation) == kept)
        // A buffer of the wrong size is replaced by one of the vocabulary's.
        var small: [Float] = []
        try a.decode(token: 1, into: &small)
        #expect(small.count == a.vocabularySize)
    }
}
